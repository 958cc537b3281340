"""Questions to the user, in a native modal `<dialog>`.

`showModal()` makes the rest of the page inert, Escape closes it as a "no", and the dialog names
what it acts on. Tab and Shift+Tab cycle between its buttons: a native modal dialog lets focus
leave for the browser's own toolbar after its last button. One dialog serves every question;
the answer goes to the callback of the question that opened it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.events import Event

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom


class ConfirmDialog:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self._dialog = dom.by_testid("confirm-dialog")
        self._title = self._dialog.querySelector(".confirm-title")
        self._text = self._dialog.querySelector(".confirm-text")
        self._confirm = dom.by_testid("confirm", self._dialog)
        self._cancel = self._dialog.querySelector(".cancel")
        self._on_yes: Callable[[], None] | None = None
        self._after: Callable[[], None] | None = None

    def bind(self, intents: Intents) -> None:
        self._dom.on(self._dialog, "close", self._closed)
        self._dom.on(self._dialog, "keydown", self._key)

    def _key(self, event: Any) -> None:
        if event.key != "Tab":
            return
        first, last = self._cancel, self._confirm
        active = self._dom.document.activeElement
        if event.shiftKey and active == first:
            event.preventDefault()
            last.focus()
        elif not event.shiftKey and active == last:
            event.preventDefault()
            first.focus()

    def handle(self, event: Event) -> None:
        pass

    @property
    def is_open(self) -> bool:
        return bool(self._dialog.open)

    def ask(
        self,
        title: str,
        text: str,
        confirm_label: str,
        on_yes: Callable[[], None],
        after: Callable[[], None] | None = None,
        *,
        destructive: bool = True,
    ) -> None:
        """Ask; `on_yes` runs if the user confirms, `after` runs once the dialog closes.
        A destructive answer (delete) is red; another (download) is the accent colour."""
        self._title.textContent = title
        self._text.textContent = text
        self._confirm.textContent = confirm_label
        self._confirm.className = "danger" if destructive else "primary"
        self._on_yes, self._after = on_yes, after
        self._dialog.returnValue = ""
        self._dialog.showModal()
        self._cancel.focus()  # the safe answer is the default one

    def _closed(self, _event: Any) -> None:
        on_yes, after = self._on_yes, self._after
        self._on_yes = self._after = None
        if str(self._dialog.returnValue) == "confirm" and on_yes is not None:
            on_yes()
        if after is not None:
            after()
