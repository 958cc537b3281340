"""The message list: the open conversation's messages, the reply streaming into it, Regenerate,
and the empty and not-found states.

Streaming text is coalesced: however many chunks arrive in a frame, each message element is
written at most once per animation frame, and only that element is touched. The list follows a
streaming reply only while the reader is at its end; scrolling up stops following and shows
`jump-latest`, which brings them back.
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
    StreamingChanged,
)
from app.core.markdown import render_markdown

from .format import MARKDOWN_LIMIT_CHARS, describe_reply, empty_reply_text, reply_details
from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

# How close to the end (px) still counts as "at the end" for following a reply.
FOLLOW_SLACK_PX = 48


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
        self._dirty: dict[str, Message] = {}
        self._painted: set[str] = set()
        self._following = True
        self._streaming = False

    def bind(self, intents: Intents) -> None:
        self._dom.on(self._regenerate, "click", lambda _e: intents.regenerate())
        self._dom.on(self._jump, "click", lambda _e: self.jump_to_latest())
        self._dom.on(self._list, "scroll", self._scrolled)

    def handle(self, event: Event) -> None:
        match event:
            case MessageUpdated(message):
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
                element = self._elements.pop(message_id, None)
                if element is not None:
                    element.remove()
            case StreamingChanged(streaming, can_regenerate):
                self._streaming = streaming
                self._regenerate.hidden = not can_regenerate
                if not streaming:
                    self._jump.hidden = True
            case ConversationOpened(_, messages, created):
                if not created:
                    self._show(messages)
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

    def _show(self, messages: tuple[Message, ...]) -> None:
        for element in self._elements.values():
            element.remove()
        self._elements.clear()
        self._dirty.clear()
        self._painted.clear()
        self._not_found.hidden = True
        self._empty.hidden = bool(messages)
        for message in messages:
            self._add(message)
        self.jump_to_latest()

    def _add(self, message: Message) -> None:
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
            element.appendChild(
                dom.create("div", testid="message-info", **{"class": "message-info"})
            )
        self._list.appendChild(element)
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

    def _render(self, element: Element, message: Message) -> None:
        content = element.querySelector(".message-content")
        text = message.content
        if message.role == "user":
            content.textContent = text  # what the user typed, shown as typed
        elif not text:
            content.textContent = empty_reply_text(message)
        elif len(text) > MARKDOWN_LIMIT_CHARS:
            content.textContent = text  # too long to render as Markdown: shown as it is
            content.classList.add("plain-text")
        else:
            # Untrusted model output: Markdown with raw HTML escaped, then sanitised.
            self._dom.set_safe_html(content, render_markdown(text))
        if message.role == "assistant":
            element.setAttribute("data-status", message.status)
            element.setAttribute("data-model", message.model or "")
            info = element.querySelector(".message-info")
            info.textContent = describe_reply(message, self._labels)
            info.setAttribute("title", reply_details(message))
