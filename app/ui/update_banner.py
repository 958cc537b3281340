"""The "new version" banner: a newer deployment is cached and waits for the user to take it.

Why a banner and not an automatic reload: the page keeps running the version it started with
(a reply may be streaming, a message half typed); the new one starts only when the user says
so. It renders the offline shell's status (app/core/offline.py) and turns its one button into
the `reload` callback it is given (app/browser/offline.py switches workers, then reloads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.offline import ShellStatus, UpdateNotice, update_notice

if TYPE_CHECKING:
    from app.browser.dom import Dom


class UpdateBanner:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self._app = dom.by_testid("app")
        self._root = dom.by_testid("update-banner")
        self._text = self._root.querySelector(".update-text")
        self._button = dom.by_testid("update-reload", self._root)
        self._notice: UpdateNotice | None = None
        self._reload: Callable[[bool], None] | None = None

    def bind(self, reload: Callable[[bool], None]) -> None:
        """`reload(activate)`: take the new version (activating its worker first) and reload."""
        self._reload = reload
        self._dom.on(self._button, "click", self._clicked)

    def render(self, status: ShellStatus) -> None:
        # On the app root for tests and the benchmark: when a reload would start offline.
        self._app.setAttribute("data-offline", status)
        self._notice = update_notice(status)
        if self._notice is None:
            self._root.hidden = True
            return
        self._text.textContent = self._notice.text
        self._button.disabled = False
        self._root.hidden = False

    def _clicked(self, _event: Any) -> None:
        if self._notice is None or self._reload is None:
            return
        self._button.disabled = True  # one switch: a second click would reload twice
        self._reload(self._notice.activate)
