"""The sidebar as a drawer on narrow screens (720 px or less), opened by the `menu` button.

The CSS decides what the drawer looks like (`data-drawer` on the app root); this widget owns its
state and its focus. Opening it moves focus to New chat and makes `<main>` inert, so the
keyboard stays in the drawer and the menu button (outside `<main>`) that closes it; closing it
by the menu button, the scrim or Escape gives focus back to the menu button. Choosing a
conversation or New chat closes it and puts focus in the chat input, where the user goes next.
A window that grows past the phone width closes it quietly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.events import ConversationNotFound, ConversationOpened, Event

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom

NARROW = "(max-width: 720px)"


class Drawer:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        document = dom.document
        self._app = dom.by_testid("app")
        self._menu = dom.by_testid("menu")
        self._sidebar = document.querySelector(".sidebar")
        self._main = document.querySelector(".chat")
        self._scrim = dom.by_testid("drawer-scrim")
        self._new_chat = dom.by_testid("new-chat")
        self._input = dom.by_testid("chat-input")
        self.is_open = False

    def bind(self, intents: Intents) -> None:
        dom = self._dom
        dom.on(self._menu, "click", lambda _e: self.toggle())
        dom.on(self._scrim, "click", lambda _e: self.close())
        dom.on(self._sidebar, "click", self._clicked)
        window = getattr(self._dom.document, "defaultView", None)
        if window is not None:
            dom.on(window, "resize", self._resized)

    def handle(self, event: Event) -> None:
        match event:
            case ConversationOpened(_, _, created, refreshed) if not created and not refreshed:
                # Before the composer puts focus in the input: <main> must not be inert then.
                self.close(return_focus=False)
            case ConversationNotFound():
                self.close(return_focus=False)

    def toggle(self) -> None:
        if self.is_open:
            self.close()
        else:
            self.open()

    def open(self) -> None:
        self.is_open = True
        self._app.setAttribute("data-drawer", "open")
        self._menu.setAttribute("aria-expanded", "true")
        self._main.inert = True
        self._new_chat.focus()

    def close(self, *, return_focus: bool = True) -> None:
        """Close the drawer; focus goes back to the menu button unless the caller places it."""
        if not self.is_open:
            return
        self.is_open = False
        self._app.setAttribute("data-drawer", "closed")
        self._menu.setAttribute("aria-expanded", "false")
        self._main.inert = False
        if return_focus:
            self._menu.focus()

    def _clicked(self, event: Any) -> None:
        target = event.target
        item = target.closest('[data-testid="conversation-item"]')
        chosen = target.closest('[data-testid="new-chat"]') or (
            item and not target.closest("button, input")
        )
        if self.is_open and chosen:
            self.close(return_focus=False)
            self._input.focus()  # the conversation may be the open one: no event would follow

    def _resized(self, _event: Any) -> None:
        window = self._dom.document.defaultView
        if self.is_open and not window.matchMedia(NARROW).matches:
            self.close(return_focus=False)
