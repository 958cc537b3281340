"""The sidebar's rows when there are many conversations: only those in view are in the page.

Ten thousand conversations as ten thousand list items cost a long first render and a heavy
page, so above `VIRTUAL_FROM` conversations the list holds the rows in view plus `OVERSCAN`
rows either side, and the list's padding stands in for the rest (its full height, so the
scrollbar is true). Every row has the same height (`pitch`, measured in the page, not assumed:
fonts and zoom change it). On scroll, the rows that leave the window are rewritten for the
conversations that enter it and moved to the other end; the rows that stay are not touched,
so a focused row keeps its focus while Tab or the wheel moves the window.

Each row says where it is in the whole list (`aria-posinset` of `aria-setsize`), so a screen
reader announces "12 of 10,000"; the list says `data-total` (every conversation) and
`data-virtual`. Below the threshold every conversation has its row, as the UI contract's
`conversation-list` always had (see docs/ui-contract-additions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.core.conversations import Conversation

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

# From how many conversations the list renders only what is in view.
VIRTUAL_FROM = 200
# Rows rendered beyond each edge of the view (Tab and small scrolls land on rendered rows).
OVERSCAN = 8
# A row's height (px) until one is measured, and the view's when the list is not laid out.
GUESSED_PITCH = 34.0
UNSEEN_VIEW_PX = 800.0
ITEM = '[data-testid="conversation-item"]'
# html.escape(text, quote=True)'s table. The html module is not imported for it: importing it
# loads html.entities, ~50 ms of start-up in Pyodide.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(text: str) -> str:
    """Text made safe for HTML content and quoted attributes."""
    return text.translate(_ESCAPES)


def item_markup(
    conversation: Conversation, current_id: str | None, position: int, total: int
) -> str:
    """One `conversation-item` (every value from storage escaped); `position` counts from 1."""
    conversation_id = escape(conversation.id)
    current = ' aria-current="page"' if conversation.id == current_id else ""
    title = escape(conversation.title)
    return (
        f'<li class="conversation-item" data-testid="conversation-item" tabindex="0"'
        f' data-conversation-id="{conversation_id}"{current} title="{title}"'
        f' aria-posinset="{position}" aria-setsize="{total}">'
        f'<span class="conversation-title" data-testid="conversation-title">{title}</span>'
        '<button type="button" data-testid="conversation-rename" aria-label="Rename"'
        ' title="Rename">✎</button>'
        '<button type="button" data-testid="conversation-delete" aria-label="Delete"'
        ' title="Delete">✕</button>'
        "</li>"
    )


def rows_in_view(
    total: int, pitch: float, scroll_top: float, view_px: float, overscan: int = OVERSCAN
) -> tuple[int, int]:
    """The rows to render, [first, end), for a list scrolled to `scroll_top`."""
    pitch = pitch if pitch > 0 else GUESSED_PITCH
    view_px = view_px if view_px > 0 else UNSEEN_VIEW_PX
    first = max(0, min(total, int(scroll_top // pitch)) - overscan)
    end = min(total, int((scroll_top + view_px) // pitch) + 1 + overscan)
    return first, max(first, end)


class VirtualRows:
    """The rows of `listing` (inside the scrolling `scroller`) for a long list."""

    def __init__(self, dom: Dom, listing: Element, scroller: Element) -> None:
        self._dom = dom
        self._list = listing
        self._scroller = scroller
        self._items: Sequence[Conversation] = ()
        self._current: str | None = None
        self._window = (0, 0)
        self._rows: list[Element] = []  # the rendered rows, in order: items[first:end]
        self.pitch = GUESSED_PITCH

    def show(self, items: Sequence[Conversation], current_id: str | None) -> None:
        """Render the rows in view of `items` afresh (the list changed)."""
        self._items, self._current = items, current_id
        self._render(self._in_view())
        rows = self._rows
        if len(rows) > 1:
            measured = float(rows[1].offsetTop) - float(rows[0].offsetTop)
            if measured > 0 and abs(measured - self.pitch) > 0.5:
                self.pitch = measured
                self._render(self._in_view())

    def reveal(self, conversation_id: str) -> None:
        """Scroll the list so that this conversation's row is in view (if it is listed)."""
        index = next((i for i, c in enumerate(self._items) if c.id == conversation_id), None)
        if index is None:
            return
        top, view = float(self._scroller.scrollTop), float(self._scroller.clientHeight)
        row_top = index * self.pitch
        if top <= row_top and row_top + self.pitch <= top + view:
            return
        self._scroller.scrollTop = max(0.0, row_top - view / 2)
        self.scrolled()

    def scrolled(self) -> None:
        """Move the window to what is now in view, rewriting only the rows that change."""
        wanted = self._in_view()
        old_first, old_end = self._window
        first, end = wanted
        if wanted == self._window:
            return
        if first >= old_end or end <= old_first:
            self._render(wanted)  # a jump: nothing stays
            return
        # Rows that leave at either end, for the rows that enter at either end.
        leaving = self._rows[: max(0, first - old_first)]
        kept_end = len(self._rows) - max(0, old_end - end)
        leaving += self._rows[kept_end:]
        kept = self._rows[max(0, first - old_first) : kept_end]
        above = range(first, min(old_first, end))
        below = range(max(old_end, first), end)
        spare = [row for row in leaving if not row.contains(self._dom.document.activeElement)]
        for row in leaving:
            row.remove()
        new_above = [self._row(i, spare) for i in above]
        new_below = [self._row(i, spare) for i in below]
        anchor = kept[0] if kept else None
        for row in new_above:
            self._list.insertBefore(row, anchor)
        for row in new_below:
            self._list.appendChild(row)
        self._rows = [*new_above, *kept, *new_below]
        self._window = wanted
        self._pad()

    def _in_view(self) -> tuple[int, int]:
        return rows_in_view(
            len(self._items),
            self.pitch,
            float(self._scroller.scrollTop),
            float(self._scroller.clientHeight),
        )

    def _render(self, window: tuple[int, int]) -> None:
        first, end = window
        total = len(self._items)
        self._dom.set_markup(
            self._list,
            "".join(
                item_markup(self._items[i], self._current, i + 1, total) for i in range(first, end)
            ),
        )
        self._rows = list(self._list.querySelectorAll(ITEM))
        self._window = window
        self._pad()

    def _row(self, index: int, spare: list[Element]) -> Element:
        """The row for item `index`: a spare row rewritten, or a new one."""
        conversation = self._items[index]
        if not spare:
            holder = self._dom.create("ul")
            self._dom.set_markup(
                holder, item_markup(conversation, self._current, index + 1, len(self._items))
            )
            return holder.firstElementChild
        row = spare.pop()
        row.setAttribute("data-conversation-id", conversation.id)
        row.setAttribute("title", conversation.title)
        row.setAttribute("aria-posinset", str(index + 1))
        if conversation.id == self._current:
            row.setAttribute("aria-current", "page")
        else:
            row.removeAttribute("aria-current")
        row.querySelector('[data-testid="conversation-title"]').textContent = conversation.title
        return row

    def _pad(self) -> None:
        """The list's padding stands for the rows above and below the window (CSSOM writes:
        the CSP refuses style attributes in markup, not these)."""
        first, end = self._window
        style = self._list.style
        style.paddingTop = f"{first * self.pitch}px"
        style.paddingBottom = f"{(len(self._items) - end) * self.pitch}px"
