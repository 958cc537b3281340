"""The chat view: turns core events into DOM changes, and DOM events into intents.

Streaming text is coalesced: however many chunks arrive in a frame, each message element is
written at most once per animation frame, and only that element is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.catalog import Catalog
from app.core.conversations import Message, is_blank
from app.core.events import (
    AnsweringElsewhere,
    ConversationNotFound,
    ConversationOpened,
    ConversationsListed,
    EngineChanged,
    ErrorRaised,
    Event,
    MessageAdded,
    MessageRemoved,
    MessageUpdated,
    ModelStatusChanged,
    ModelWanted,
    ReplyMetrics,
    StreamingChanged,
    TargetChanged,
)
from app.core.markdown import render_markdown

from .format import MARKDOWN_LIMIT_CHARS, describe_reply, empty_reply_text, format_bytes
from .sidebar import sidebar_markup

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

STATE_LABELS = {
    "idle": "No model loaded",
    "queued": "Queued",
    "downloading": "Downloading",
    "compiling": "Compiling",
    "ready": "Ready",
    "failed": "Failed",
    "canceled": "Canceled",
}


@dataclass
class Intents:
    """What the user asked for; main wires these to core."""

    send: Callable[[str], None]
    stop: Callable[[], None]
    regenerate: Callable[[], None]
    choose_model: Callable[[str | None], None]
    new_chat: Callable[[], None]
    open_chat: Callable[[str], None]
    rename: Callable[[str, str], None]
    delete: Callable[[str], None]


class ChatView:
    def __init__(self, dom: Dom, catalog: Catalog) -> None:
        self._dom = dom
        self._labels = {m.id: m.label for m in catalog.models}
        self._app = dom.by_testid("app")
        self._messages = dom.document.querySelector(".messages")
        self._empty = dom.document.querySelector(".empty-state")
        self._input = dom.by_testid("chat-input")
        self._send = dom.by_testid("send")
        self._stop = dom.by_testid("stop")
        self._select = dom.by_testid("model-select")
        self._status = dom.by_testid("model-status")
        self._status_text = self._status.querySelector(".model-status-text")
        self._progress = dom.by_testid("model-progress")
        self._metrics = dom.by_testid("metrics")
        self._error = dom.by_testid("error")
        self._not_found = dom.by_testid("not-found")
        self._regenerate = dom.by_testid("regenerate")
        self._list = dom.by_testid("conversation-list")
        self._confirm = dom.document.querySelector(".confirm-delete")
        self._elements: dict[str, Element] = {}
        self._dirty: dict[str, Message] = {}
        self._painted: set[str] = set()
        self._streaming = False
        # From Enter until core says the turn began (or refused it): a second Enter in the
        # same moment must not clear the input with nothing sent.
        self._submitting = False
        self._elsewhere = False
        self._composer_note = dom.document.querySelector(".composer-note")
        self._listed: ConversationsListed | None = None
        # The latest lifecycle event of every model; the status shows the wanted one.
        self._model_states: dict[str, ModelStatusChanged] = {}
        self._wanted: str | None = None
        self._model_ids = {m.id for m in catalog.models}
        self._presets = set(catalog.presets)
        self._renaming: str | None = None
        self._deleting: str | None = None
        self._fill_models(catalog)

    # -- setup ----------------------------------------------------------------------------

    def _fill_models(self, catalog: Catalog) -> None:
        default = self._select.querySelector('option[value=""]')
        default.textContent = f"Default ({catalog.default})"
        for entry in catalog.models:
            self._select.appendChild(self._dom.create("option", text=entry.label, value=entry.id))

    def bind(self, intents: Intents) -> None:
        dom = self._dom
        form = dom.document.querySelector(".composer")

        def submit(event: Any) -> None:
            event.preventDefault()
            self._submit(intents)

        def keydown(event: Any) -> None:
            if event.key == "Enter" and not event.shiftKey and not event.isComposing:
                event.preventDefault()
                self._submit(intents)

        dom.on(form, "submit", submit)
        dom.on(self._input, "keydown", keydown)
        dom.on(self._input, "input", lambda _e: self._autogrow())
        dom.on(self._stop, "click", lambda _e: intents.stop())
        dom.on(self._regenerate, "click", lambda _e: intents.regenerate())
        dom.on(
            self._select, "change", lambda _e: intents.choose_model(str(self._select.value) or None)
        )
        dom.on(dom.by_testid("new-chat"), "click", lambda _e: intents.new_chat())
        dom.on(self._error.querySelector(".error-dismiss"), "click", lambda _e: self.clear_error())
        # One delegated listener per event type for the whole sidebar.
        dom.on(self._list, "click", lambda e: self._sidebar_click(e, intents))
        dom.on(self._list, "keydown", lambda e: self._sidebar_key(e, intents))
        dom.on(self._list, "focusout", lambda e: self._rename_blur(e, intents))
        dom.on(self._confirm, "click", lambda e: self._confirm_click(e, intents))

    # -- sidebar interactions -------------------------------------------------------------

    def _sidebar_click(self, event: Any, intents: Intents) -> None:
        item = event.target.closest('[data-testid="conversation-item"]')
        if not item or self._renaming is not None:
            return
        conversation_id = str(item.dataset.conversationId)
        if event.target.closest('[data-testid="conversation-rename"]'):
            self._start_rename(item, conversation_id)
        elif event.target.closest('[data-testid="conversation-delete"]'):
            self._deleting = conversation_id
            self._confirm.hidden = False
            self._confirm.querySelector('[data-testid="confirm"]').focus()
        else:
            intents.open_chat(conversation_id)

    def _sidebar_key(self, event: Any, intents: Intents) -> None:
        if self._renaming is not None and event.target.matches(".conversation-title-input"):
            if event.key == "Enter":
                event.preventDefault()
                self._finish_rename(intents, save=True)
            elif event.key == "Escape":
                event.preventDefault()
                self._finish_rename(intents, save=False)
        elif event.key == "Enter" and event.target.matches('[data-testid="conversation-item"]'):
            intents.open_chat(str(event.target.dataset.conversationId))

    def _rename_blur(self, event: Any, intents: Intents) -> None:
        if self._renaming is not None and event.target.matches(".conversation-title-input"):
            self._finish_rename(intents, save=True)

    def _start_rename(self, item: Element, conversation_id: str) -> None:
        title = item.querySelector('[data-testid="conversation-title"]')
        field = self._dom.create(
            "input",
            testid="conversation-title-input",
            **{"class": "conversation-title-input", "aria-label": "Conversation title"},
        )
        field.value = title.textContent
        title.replaceWith(field)
        self._renaming = conversation_id
        field.focus()
        field.select()

    def _finish_rename(self, intents: Intents, *, save: bool) -> None:
        conversation_id, self._renaming = self._renaming, None
        field = self._list.querySelector(".conversation-title-input")
        value = str(field.value) if field else ""
        if self._listed is not None:
            self._render_list(self._listed)
        if save and conversation_id is not None and value.strip():
            intents.rename(conversation_id, value)

    def _confirm_click(self, event: Any, intents: Intents) -> None:
        if not event.target.closest("button"):
            return
        conversation_id, self._deleting = self._deleting, None
        self._confirm.hidden = True
        if event.target.closest('[data-testid="confirm"]') and conversation_id:
            intents.delete(conversation_id)

    def _submit(self, intents: Intents) -> None:
        text = str(self._input.value)
        if is_blank(text) or self._streaming or self._submitting or self._elsewhere:
            return  # the text stays in the input
        self._submitting = True
        self._input.value = ""
        self._autogrow()
        intents.send(text)

    def _autogrow(self) -> None:
        self._input.style.height = "auto"
        self._input.style.height = f"{self._input.scrollHeight}px"

    def mark_ready(self, device: str) -> None:
        self._app.setAttribute("data-device", device)
        self._app.setAttribute("data-ready", "true")
        self._send.disabled = False
        self._autogrow()

    # -- events from core -----------------------------------------------------------------

    def handle(self, event: Event) -> None:
        match event:
            case MessageUpdated(message):
                element = self._elements.get(message.id)
                if element is not None and message.id not in self._painted:
                    # The first text of a reply goes on screen at once; later chunks batch
                    # into at most one write per frame.
                    self._painted.add(message.id)
                    self._render(element, message)
                    return
                self._dirty[message.id] = message
                self._dom.after_frame(self._flush)
            case MessageAdded(message):
                self._add_message(message)
            case MessageRemoved(message_id):
                self._dirty.pop(message_id, None)
                element = self._elements.pop(message_id, None)
                if element is not None:
                    element.remove()
            case ModelStatusChanged():
                self._model_states[event.model] = event
                if self._wanted in (None, event.model):
                    self._wanted = event.model
                    self._show_status(event)
            case ModelWanted(model):
                self._wanted = model
                self._show_status(
                    self._model_states.get(model) or ModelStatusChanged(model, "idle")
                )
            case TargetChanged(target, default_label):
                self._show_target(target, default_label)
            case EngineChanged(loaded, loads, device):
                self._app.setAttribute("data-loaded-model", loaded or "")
                self._app.setAttribute("data-model-loads", str(loads))
                self._app.setAttribute("data-device", device)
            case StreamingChanged(streaming, can_regenerate):
                self._streaming = streaming
                self._submitting = False
                self._stop.hidden = not streaming
                self._stop.disabled = not streaming
                self._send.hidden = streaming
                self._regenerate.hidden = not can_regenerate
            case ReplyMetrics(_, tps, ms, first_ms):
                self._metrics.setAttribute("data-tokens-per-second", f"{tps:.2f}")
                self._metrics.setAttribute("data-response-ms", f"{ms:.0f}")
                self._metrics.setAttribute("data-first-token-ms", f"{first_ms:.0f}")
                self._metrics.textContent = f"{tps:.1f} tok/s · {ms / 1000:.2f} s"
            case AnsweringElsewhere(active):
                self._elsewhere = active
                self._input.disabled = active
                self._send.disabled = active
                self._composer_note.hidden = not active
            case ErrorRaised(text, unsent):
                self.show_error(text)
                if unsent is not None:
                    self._submitting = False
                if unsent is not None and not str(self._input.value).strip():
                    self._input.value = unsent  # nothing the user typed is lost
                    self._autogrow()
            case ConversationOpened(_, messages, created):
                if not created:
                    self._show_conversation(messages)
                last = messages[-1] if messages else None
                self._regenerate.hidden = not (last is not None and last.role == "assistant")
            case ConversationNotFound():
                self._show_conversation(())
                self._not_found.hidden = False
                self._empty.hidden = True
                self._regenerate.hidden = True
            case ConversationsListed():
                self._listed = event
                if self._renaming is None:
                    self._render_list(event)

    def show_error(self, text: str) -> None:
        self._error.querySelector(".error-text").textContent = text
        self._error.hidden = False

    def clear_error(self) -> None:
        self._error.hidden = True

    # -- rendering ------------------------------------------------------------------------

    def _show_target(self, target: str | None, default_label: str) -> None:
        select = self._select
        select.querySelector('option[value=""]').textContent = f"Default ({default_label})"
        stale = select.querySelector("option[data-extra]")
        if stale:
            stale.remove()
        if target is not None and target not in self._model_ids:
            # A preset or an id the catalog no longer lists: show it rather than lie.
            label = f"{target} (preset)" if target in self._presets else f"{target} (unknown)"
            select.appendChild(self._dom.create("option", text=label, value=target, data_extra="1"))
        select.value = target or ""

    def _render_list(self, listed: ConversationsListed) -> None:
        self._dom.set_markup(self._list, sidebar_markup(listed.conversations, listed.current_id))

    def _show_status(self, event: ModelStatusChanged) -> None:
        status = self._status
        status.setAttribute("data-model", event.model)
        status.setAttribute("data-state", event.state)
        label = f"{STATE_LABELS[event.state]} · {self._labels.get(event.model, event.model)}"
        if event.state == "failed" and event.reason:
            label += f": {event.reason}"
        progress = self._progress
        if event.state == "downloading" and event.total_bytes:
            progress.max = event.total_bytes
            progress.value = event.loaded_bytes
            progress.hidden = False
            label += f" {format_bytes(event.loaded_bytes)} / {format_bytes(event.total_bytes)}"
        elif event.state in ("ready", "failed", "canceled", "idle"):
            progress.hidden = True
        self._status_text.textContent = label

    def _show_conversation(self, messages: tuple[Message, ...]) -> None:
        for element in self._elements.values():
            element.remove()
        self._elements.clear()
        self._dirty.clear()
        self._painted.clear()
        self._not_found.hidden = True
        self._empty.hidden = bool(messages)
        for message in messages:
            self._add_message(message)

    def _add_message(self, message: Message) -> None:
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
        self._messages.appendChild(element)
        self._elements[message.id] = element
        self._render(element, message)
        self._messages.scrollTop = self._messages.scrollHeight

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for message_id, message in dirty.items():
            element = self._elements.get(message_id)
            if element is not None:
                self._render(element, message)
        if dirty:
            self._messages.scrollTop = self._messages.scrollHeight

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
            element.querySelector(".message-info").textContent = describe_reply(
                message, self._labels
            )
