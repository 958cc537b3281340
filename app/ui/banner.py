"""The error banner: says what went wrong, until dismissed or until things go right again.

It clears itself on the next successful action (a reply that ends well, a model that becomes
ready after a failure) and when the user goes elsewhere (another chat, a new chat).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    ErrorRaised,
    Event,
    ReplyMetrics,
)

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom


class ErrorBanner:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self._root = dom.by_testid("error")
        self._text = self._root.querySelector(".error-text")
        self._dismiss = dom.by_testid("error-dismiss", self._root)
        self.shown = False

    def bind(self, intents: Intents) -> None:
        self._dom.on(self._dismiss, "click", lambda _e: self.clear())

    def handle(self, event: Event) -> None:
        match event:
            case ErrorRaised(text):
                self.show(text)
            case ReplyMetrics():
                self.clear()  # a reply went through: an older error no longer applies
            case ConversationOpened(_, _, created, refreshed) if not created and not refreshed:
                self.clear()  # the user went to another chat
            case ConversationNotFound():
                self.clear()

    def show(self, text: str) -> None:
        self._text.textContent = text
        self._root.hidden = False
        self.shown = True

    def clear(self, _event: Any = None) -> None:
        self._root.hidden = True
        self.shown = False
