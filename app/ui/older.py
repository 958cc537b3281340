"""The message list's older pages: asked for as the reader nears the top, put in front of the
first message without moving what the reader is looking at.

A long chat opens on its newest page (app/core/paging.py). When the list is scrolled to within
`OLDER_TRIGGER_PX` of its top (or the page does not fill the list), the next older page is
asked for, one request at a time. It goes in above the first message, and the list's scroll
position moves by exactly the height that went in, so the message at the top of the screen
stays where it was (measured, not assumed: Chromium's own scroll anchoring may have done it
already). Heights settle a frame later (code highlighting, fonts), so that is done once more.
The list says `data-has-older="true"` while there is more above.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

# How near the top (px) the reader gets before the page above is asked for: about a screen, so
# that it is usually there before they reach it.
OLDER_TRIGGER_PX = 800
FIRST_MESSAGE = '[data-testid="message"]'


class OlderPages:
    def __init__(self, dom: Dom, listing: Element) -> None:
        self._dom = dom
        self._list = listing
        self._intents: Intents | None = None
        self.has_older = False
        self._asked = False

    def bind(self, intents: Intents | None) -> None:
        self._intents = intents

    def opened(self, has_older: bool) -> None:
        """A chat (or another branch of it) is on screen: it may go on above."""
        self._asked = False
        self._set(has_older)
        # The frame that shows it (bench/scale.py times a long chat's opening by this mark).
        self._dom.after_frame(lambda: self._dom.mark("parlance:messages-painted"))
        if has_older:
            self._dom.after_frame(self.check)  # a short page may not fill the list

    def check(self) -> None:
        """Ask for the page above when the reader is near the top (and it is not asked yet)."""
        if not self.has_older or self._asked or self._intents is None:
            return
        if self._list.scrollTop > OLDER_TRIGGER_PX:
            return
        self._asked = True
        self._intents.load_older()

    def insert(self, add: Callable[[Element | None], None], has_older: bool) -> None:
        """Put a page above the first message (`add(before)` adds it in order before that
        element) and keep the screen where it was."""
        anchor = self._list.querySelector(FIRST_MESSAGE)
        if not anchor:  # JS null is not None
            add(None)
        else:
            top = anchor.getBoundingClientRect().top
            add(anchor)
            self._keep(anchor, top)
            settled_top = anchor.getBoundingClientRect().top
            self._dom.after_frame(lambda: self._keep(anchor, settled_top))
        self._asked = False
        self._set(has_older)
        self._dom.after_frame(lambda: self._dom.mark("parlance:older-painted"))
        if has_older:
            self._dom.after_frame(self.check)  # still near the top: the next one

    def _keep(self, anchor: Element, top: float) -> None:
        moved = anchor.getBoundingClientRect().top - top
        if moved:
            self._list.scrollTop = self._list.scrollTop + moved

    def _set(self, has_older: bool) -> None:
        self.has_older = has_older
        self._list.setAttribute("data-has-older", "true" if has_older else "false")
