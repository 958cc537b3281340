"""The composer: the message input, Send and Stop.

Enter sends, Shift+Enter inserts a newline; Escape stops a streaming reply. Between Enter and
core saying the turn began (or refusing it), a second Enter is ignored and its text stays in the
input: nothing typed is ever cleared without being sent. Focus comes back to the input after
sending and after stopping. While another tab answers in this chat, the composer is read-only
and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.conversations import is_blank
from app.core.events import (
    AnsweringElsewhere,
    ConversationNotFound,
    ConversationOpened,
    ErrorRaised,
    Event,
    StreamingChanged,
)

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom


class Composer:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self._form = dom.document.querySelector(".composer")
        self._input = dom.by_testid("chat-input")
        self._send = dom.by_testid("send")
        self._stop = dom.by_testid("stop")
        self._note = dom.by_testid("answering-elsewhere")
        self._streaming = False
        self._submitting = False
        self._elsewhere = False
        self._ready = False
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        dom = self._dom

        def submit(event: Any) -> None:
            event.preventDefault()
            self._submit()

        def keydown(event: Any) -> None:
            if event.key == "Enter" and not event.shiftKey and not event.isComposing:
                event.preventDefault()
                self._submit()

        dom.on(self._form, "submit", submit)
        dom.on(self._input, "keydown", keydown)
        dom.on(self._input, "input", lambda _e: self.autogrow())
        dom.on(self._stop, "click", lambda _e: self.stop())

    def stop(self) -> None:
        """Stop the streaming reply (the Stop button, or Escape anywhere on the page)."""
        if self._streaming and self._intents is not None:
            self._intents.stop()
            self._input.focus()

    @property
    def streaming(self) -> bool:
        return self._streaming

    def mark_ready(self) -> None:
        self._ready = True
        self._send.disabled = self._elsewhere
        self.autogrow()
        # Enter pressed before Python was ready (app/boot.js held it): send it now.
        if self._input.getAttribute("data-send-when-ready"):
            self._input.removeAttribute("data-send-when-ready")
            self._submit()

    def _submit(self) -> None:
        text = str(self._input.value)
        busy = self._streaming or self._submitting or self._elsewhere or not self._ready
        if is_blank(text) or busy or self._intents is None:
            return  # the text stays in the input
        self._submitting = True
        self._show_busy()
        self._input.value = ""
        self.autogrow()
        self._input.focus()
        self._intents.send(text)

    def autogrow(self) -> None:
        self._input.style.height = "auto"
        self._input.style.height = f"{self._input.scrollHeight}px"

    def handle(self, event: Event) -> None:
        match event:
            case StreamingChanged(streaming):
                was_streaming, self._streaming = self._streaming, streaming
                self._submitting = False
                self._show_busy()
                self._stop.hidden = not streaming
                self._stop.disabled = not streaming
                self._send.hidden = streaming
                if was_streaming and not streaming and self._stop_had_focus():
                    self._input.focus()
            case AnsweringElsewhere(active):
                self._elsewhere = active
                self._input.disabled = active
                self._send.disabled = active or not self._ready
                self._note.hidden = not active
            case ErrorRaised(_, unsent) if unsent is not None:
                self._submitting = False
                self._show_busy()
                if is_blank(str(self._input.value)):
                    self._input.value = unsent  # nothing the user typed is lost
                    self.autogrow()
            case ConversationOpened(_, _, created, refreshed) if not created and not refreshed:
                self._input.focus()
            case ConversationNotFound():
                pass

    def _show_busy(self) -> None:
        """`data-busy` on the composer: from Enter until the turn ends or is refused."""
        busy = self._submitting or self._streaming
        self._form.setAttribute("data-busy", "true" if busy else "false")

    def _stop_had_focus(self) -> bool:
        active = self._dom.document.activeElement
        return bool(active) and (active == self._stop or active == self._dom.document.body)
