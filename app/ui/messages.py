"""The message list: the open conversation's messages, the reply streaming into it, Regenerate,
copy buttons, and the empty and not-found states.

Streaming text is coalesced: however many chunks arrive in a frame, each message element is
written at most once per animation frame, and only that element is touched; inside it, only the
Markdown block still being written is rendered again (app/ui/markdown_view.py), so a frame's
work does not grow with the reply. The list follows a
streaming reply only while the reader is at its end; scrolling up stops following and shows
`jump-latest`, which brings them back.

Every message has a `message-copy` button (its Markdown source) and every rendered code block a
`code-copy` button (that block's code). The buttons are made here, after the sanitised HTML is
set, never written into that HTML; one click listener on the list serves them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.conversations import Message
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    Event,
    MessageAdded,
    MessageRemoved,
    MessageUpdated,
    OlderMessagesShown,
    SiblingsChanged,
    StreamingChanged,
)

from .branches import Branching
from .format import (
    MARKDOWN_LIMIT_CHARS,
    describe_reply,
    empty_reply_text,
    reply_details,
    settings_details,
)
from .intents import Intents
from .markdown_view import COPY_CODE_LABEL, RenderedMarkdown
from .older import OlderPages

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

# How close to the end (px) still counts as "at the end" for following a reply.
FOLLOW_SLACK_PX = 48
# How long a copy button says "Copied" (or "Copy failed").
COPIED_MS = 1500
# How long a message opened from a search result stays highlighted.
FOCUS_MARK_MS = 2500
COPY_LABELS = {"code-copy": COPY_CODE_LABEL, "message-copy": "Copy message"}
COPY_BUTTONS = ", ".join(f'[data-testid="{testid}"]' for testid in COPY_LABELS)


class MessageList:
    def __init__(self, dom: Dom, labels: dict[str, str]) -> None:
        self._dom = dom
        self._labels = labels
        self._list = dom.by_testid("message-list")
        self._empty = dom.document.querySelector(".empty-state")
        self._not_found = dom.by_testid("not-found")
        self._regenerate = dom.by_testid("regenerate")
        self._jump = dom.by_testid("jump-latest")
        self._elements: dict[str, Element] = {}
        self._messages: dict[str, Message] = {}  # the newest text of each, for message-copy
        self._markdown: dict[str, RenderedMarkdown] = {}  # each reply's rendered blocks
        self._dirty: dict[str, Message] = {}
        self._painted: set[str] = set()
        self._following = True
        self._streaming = False
        self._copies = 0
        self.branching = Branching(dom, self._list)
        self.older = OlderPages(dom, self._list)

    def bind(self, intents: Intents) -> None:
        self.branching.bind(intents)
        self.older.bind(intents)
        self._dom.on(self._list, "keydown", self.branching.keydown)
        self._dom.on(self._regenerate, "click", lambda _e: self._regenerate_clicked(intents))
        self._dom.on(self._jump, "click", lambda _e: self.jump_to_latest())
        self._dom.on(self._list, "scroll", self._scrolled)
        self._dom.on(self._list, "click", self._clicked)

    def _regenerate_clicked(self, intents: Intents) -> None:
        intents.regenerate()
        # The button hides while the new reply streams: keep the focus where typing goes.
        self._dom.by_testid("chat-input").focus()

    def handle(self, event: Event) -> None:
        match event:
            case MessageUpdated(message):
                self._messages[message.id] = message
                element = self._elements.get(message.id)
                if element is not None and message.id not in self._painted:
                    # The first text of a reply goes on screen at once; later chunks batch
                    # into at most one write per frame.
                    self._painted.add(message.id)
                    self._render(element, message)
                    self._follow()
                    return
                self._dirty[message.id] = message
                self._dom.after_frame(self._flush)
            case MessageAdded(message):
                self._add(message)
                if message.role == "user":
                    self._following = True  # the user's own message: show it and the reply
                self._follow()
            case MessageRemoved(message_id):
                self._dirty.pop(message_id, None)
                self._messages.pop(message_id, None)
                self._markdown.pop(message_id, None)
                element = self._elements.pop(message_id, None)
                if element is not None:
                    element.remove()
            case SiblingsChanged(siblings):
                self.branching.show_siblings(self._elements, siblings)
            case StreamingChanged(streaming, can_regenerate):
                self._streaming = streaming
                self.branching.set_busy(streaming)
                self._regenerate.hidden = not can_regenerate
                if not streaming:
                    self._jump.hidden = True
            case ConversationOpened(_, messages, created, refreshed, siblings, focus, older):
                if not created:
                    self._show(messages, keep_place=refreshed, focus=focus)
                    self.branching.show_siblings(self._elements, siblings)
                self.older.opened(older)
            case OlderMessagesShown(_, messages, siblings, older):
                self.older.insert(lambda before: self._add_all(messages, before), older)
                page = {m.id: self._elements[m.id] for m in messages if m.id in self._elements}
                self.branching.show_siblings(page, siblings)
                last = messages[-1] if messages else None
                self._regenerate.hidden = not (last is not None and last.role == "assistant")
            case ConversationNotFound():
                self._show(())
                self._not_found.hidden = False
                self._empty.hidden = True
                self._regenerate.hidden = True

    # -- following the end ----------------------------------------------------------------

    def _at_end(self) -> bool:
        gap = self._list.scrollHeight - self._list.scrollTop - self._list.clientHeight
        return bool(gap <= FOLLOW_SLACK_PX)

    def _scrolled(self, _event: Any) -> None:
        self._following = self._at_end()
        self._jump.hidden = self._following or not self._streaming
        self.older.check()

    def _follow(self) -> None:
        if self._following:
            self._list.scrollTop = self._list.scrollHeight
        else:
            self._jump.hidden = not self._streaming

    def jump_to_latest(self) -> None:
        self._following = True
        self._jump.hidden = True
        self._list.scrollTop = self._list.scrollHeight

    # -- rendering ------------------------------------------------------------------------

    def _show(
        self, messages: tuple[Message, ...], keep_place: bool = False, focus: str | None = None
    ) -> None:
        """Show these messages, at the end; or, when the same chat is shown again because
        another tab changed it, where the reader was (still following if they were); or, for a
        search result, at the `focus` message, highlighted for a moment."""
        place = self._list.scrollTop
        self.branching.cancel_edit(refocus=False)
        for element in self._elements.values():
            element.remove()
        self._elements.clear()
        self._messages.clear()
        self._markdown.clear()
        self._dirty.clear()
        self._painted.clear()
        self._not_found.hidden = True
        self._empty.hidden = bool(messages)
        for message in messages:
            self._add(message)
        focused = self._elements.get(focus) if focus else None
        if focused is not None:
            self._bring_into_view(focused)
        elif keep_place and not self._following:
            self._list.scrollTop = place
        else:
            self.jump_to_latest()
            # Highlighting and copy buttons settle the heights a frame later: land at the end.
            self._dom.after_frame(self._follow)

    def _bring_into_view(self, element: Element) -> None:
        """A search result: its message in the middle of the list, marked for a moment, and
        the list no longer following the end."""
        self._following = False
        element.setAttribute("data-focused", "true")
        self._dom.reveal(element)
        # Highlighting and copy buttons settle the heights a frame later: reveal it again.
        self._dom.after_frame(lambda: self._dom.reveal(element))
        self._dom.later(FOCUS_MARK_MS, lambda: element.removeAttribute("data-focused"))

    def _add_all(self, messages: tuple[Message, ...], before: Element | None) -> None:
        for message in messages:
            self._add(message, before)

    def _add(self, message: Message, before: Element | None = None) -> None:
        dom = self._dom
        self._empty.hidden = True
        self._not_found.hidden = True
        element = dom.create(
            "article",
            testid="message",
            **{"class": "message", "data-role": message.role, "data-message-id": message.id},
        )
        element.appendChild(
            dom.create("div", testid="message-content", **{"class": "message-content"})
        )
        if message.role == "assistant":
            info = dom.create("div", testid="message-info", **{"class": "message-info"})
            info.appendChild(dom.create("span", **{"class": "reply-line"}))
            element.appendChild(info)
        actions = dom.create("div", **{"class": "message-actions"})
        actions.appendChild(
            dom.create(
                "button",
                testid="message-copy",
                text="Copy",
                type="button",
                **{"class": "message-copy", "aria-label": COPY_LABELS["message-copy"]},
            )
        )
        if message.role == "user":
            actions.appendChild(self.branching.edit_button())
        element.appendChild(actions)
        if before is None:
            self._list.appendChild(element)
        else:
            self._list.insertBefore(element, before)
        self._elements[message.id] = element
        self._render(element, message)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for message_id, message in dirty.items():
            element = self._elements.get(message_id)
            if element is not None:
                self._render(element, message)
        if dirty:
            self._follow()

    def render_again(self) -> None:
        """Render every finished message again (their code blocks, highlighted now that
        Pygments has arrived: app/main.py calls this when a block was shown plain before)."""
        for message_id, element in self._elements.items():
            message = self._messages.get(message_id)
            if message is not None and message.status != "streaming":
                self._markdown.pop(message_id, None)
                self._render(element, message)

    def _render(self, element: Element, message: Message) -> None:
        self._messages[message.id] = message
        content = element.querySelector(".message-content")
        text = message.content
        if message.role == "assistant" and text and len(text) <= MARKDOWN_LIMIT_CHARS:
            # Untrusted model output: Markdown with raw HTML escaped, then sanitised.
            rendered = self._markdown.get(message.id)
            if rendered is None:
                rendered = self._markdown[message.id] = RenderedMarkdown(self._dom, content)
            rendered.show(text, done=message.status != "streaming")
        else:
            self._markdown.pop(message.id, None)  # any rendered blocks give way to text
            self._show_text(content, message)
        self._show_info(element, message)

    @staticmethod
    def _show_text(content: Element, message: Message) -> None:
        text = message.content
        if message.role == "user":
            content.textContent = text  # what the user typed, shown as typed
        elif not text:
            content.textContent = empty_reply_text(message)
        else:
            # Too long to render as Markdown (opening the chat renders it whole, at once):
            # shown as it is, also once a streaming reply grows past the limit.
            content.textContent = text
            content.classList.add("plain-text")

    def _show_info(self, element: Element, message: Message) -> None:
        """A reply's status, model and the line (and tooltip) under it."""
        if message.role == "assistant":
            element.setAttribute("data-status", message.status)
            element.setAttribute("data-model", message.model or "")
            prompt, reused = message.info.prompt_tokens, message.info.reused_tokens
            element.setAttribute("data-prompt-tokens", "" if prompt is None else str(prompt))
            element.setAttribute("data-reused-tokens", "" if reused is None else str(reused))
            info = element.querySelector(".message-info")
            info.querySelector(".reply-line").textContent = describe_reply(message, self._labels)
            info.setAttribute("title", reply_details(message))
            self._show_settings(info, message)

    def _show_settings(self, info: Element, message: Message) -> None:
        """Under a reply that has ended, the settings it ran with, behind a `Settings`
        disclosure (the tooltip has them too, but a phone has no hover)."""
        settings = message.info.settings
        shown = info.querySelector(".reply-settings")
        if settings is None or message.status == "streaming":
            if shown:
                shown.remove()
            return
        if not shown:
            shown = self._dom.create("details", **{"class": "reply-settings"})
            shown.appendChild(self._dom.create("summary", text="Settings"))
            info.appendChild(shown)
        listed = shown.querySelector("ul")
        if listed:
            listed.remove()
        listed = self._dom.create("ul")
        for line in settings_details(settings, quote_chars=None):
            listed.appendChild(self._dom.create("li", text=line))
        shown.appendChild(listed)

    # -- copying --------------------------------------------------------------------------

    def _clicked(self, event: Any) -> None:
        if self.branching.clicked(event):
            return
        button = event.target.closest(COPY_BUTTONS) if event.target else None
        if not button:  # JS null is not None
            return
        if button.getAttribute("data-testid") == "code-copy":
            code = button.closest(".code-block").querySelector("code")
            text = code_text(str(code.textContent)) if code else ""
        else:
            message_id = button.closest('[data-testid="message"]').getAttribute("data-message-id")
            message = self._messages.get(str(message_id))
            if message is None:
                return
            text = message.content
        self._dom.copy_text(text, lambda ok: self._copied(button, ok))

    def _copied(self, button: Element, ok: bool) -> None:
        """Say on the button, briefly, whether the text is on the clipboard."""
        said = "Copied" if ok else "Copy failed"
        button.setAttribute("data-copied", "true" if ok else "failed")
        button.setAttribute("aria-label", said)
        if button.getAttribute("data-testid") == "message-copy":
            button.textContent = said
        self._copies += 1
        run = self._copies
        button.setAttribute("data-copy-run", str(run))
        self._dom.later(COPIED_MS, lambda: self._reset_copy(button, run))

    @staticmethod
    def _reset_copy(button: Element, run: int) -> None:
        if button.getAttribute("data-copy-run") != str(run):
            return  # copied again since: that copy's feedback runs its full time
        button.removeAttribute("data-copied")
        button.setAttribute("aria-label", COPY_LABELS[str(button.getAttribute("data-testid"))])
        if button.getAttribute("data-testid") == "message-copy":
            button.textContent = "Copy"


def code_text(text: str) -> str:
    """A code block's code as copied: its text without the line break that ends every block."""
    return text[:-1] if text.endswith("\n") else text
