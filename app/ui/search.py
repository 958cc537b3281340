"""The search box at the top of the sidebar (so on a phone it is in the drawer) and its results.

Typing searches (core debounces and drops stale searches); each result names its conversation
and shows a snippet with the match in a `<mark>`. Results are built element by element with
textContent, never as HTML: a message's text is shown as text, whatever it holds. The box is a
combobox: ArrowDown and ArrowUp move through the results, Enter opens the chosen one (or the
first), Escape clears the search. A click opens a result too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.events import Event, SearchResults
from app.core.search import SearchHit

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

Node = dict[str, Any]


def results_summary(count: int, limit_reached: bool) -> str:
    if count == 0:
        return "No matches"
    if limit_reached:
        return f"First {count} matches"
    return "1 match" if count == 1 else f"{count} matches"


def _marked(before: str, match: str, after: str) -> list[Node]:
    """Text with its match in a <mark> (built as text: nothing in it is parsed as HTML)."""
    parts = [("span", before), ("mark", match), ("span", after)]
    return [{"tag": tag, "text": text} for tag, text in parts if text]


def result_node(index: int, hit: SearchHit) -> Node:
    """One result: the conversation's title, and the snippet of the message with the match
    marked (a match in the title is marked in the title)."""
    cut = hit.snippet
    if hit.message_id is None:
        children: list[Node] = [
            {"tag": "span", "attrs": {"class": "search-result-title"}, "children": _marked(
                cut.before, cut.match, cut.after
            )}
        ]  # fmt: skip
    else:
        children = [
            {"tag": "span", "attrs": {"class": "search-result-title"}, "text": hit.title},
            {"tag": "span", "attrs": {"class": "search-snippet"}, "children": _marked(
                cut.before, cut.match, cut.after
            )},
        ]  # fmt: skip
    attrs = {
        "data-testid": "search-result",
        "id": f"search-result-{index}",
        "role": "option",
        "class": "search-result",
        "aria-selected": "false",
        "data-conversation-id": hit.conversation_id,
        "data-message-id": hit.message_id or "",
        "data-index": str(index),
    }
    return {"tag": "li", "attrs": attrs, "children": children}


class SearchBox:
    def __init__(self, dom: Dom, limit: int) -> None:
        self._dom = dom
        self._limit = limit
        self._input = dom.by_testid("search")
        self._results = dom.by_testid("search-results")
        self._status = dom.by_testid("search-status")
        self._hits: tuple[SearchHit, ...] = ()
        self._items: list[Element] = []
        self._active = -1
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        dom = self._dom
        dom.on(self._input, "input", lambda _e: intents.search(str(self._input.value), False))
        dom.on(self._input, "focus", lambda _e: intents.warm_search())
        dom.on(self._input, "keydown", self._key)
        dom.on(self._results, "click", self._clicked)

    def handle(self, event: Event) -> None:
        match event:
            case SearchResults(query, hits, searched):
                if query.strip() != str(self._input.value).strip():
                    return  # typed on since: the newer query's results follow
                self._show(hits if searched else None)

    # -- rendering ------------------------------------------------------------------------

    def _show(self, hits: tuple[SearchHit, ...] | None) -> None:
        self._hits = hits or ()
        self._active = -1
        self._input.removeAttribute("aria-activedescendant")
        self._items = self._dom.fill(
            self._results, [result_node(i, hit) for i, hit in enumerate(self._hits)]
        )
        if hits is None:
            self._results.hidden = True
            self._status.hidden = True
            self._status.textContent = ""
            self._input.setAttribute("aria-expanded", "false")
            return
        self._results.hidden = not hits
        self._input.setAttribute("aria-expanded", "true" if hits else "false")
        self._status.textContent = results_summary(len(hits), len(hits) >= self._limit)
        self._status.hidden = False
        self._dom.mark("parlance:search-rendered")

    # -- choosing -------------------------------------------------------------------------

    def _key(self, event: Any) -> None:
        key = str(event.key)
        if key in ("ArrowDown", "ArrowUp") and self._items:
            event.preventDefault()
            step = 1 if key == "ArrowDown" else -1
            self._select((self._active + step) % len(self._items))
        elif key == "Enter":
            event.preventDefault()
            if self._hits:
                self._choose(max(self._active, 0))
            elif self._intents is not None:
                self._intents.search(str(self._input.value), True)  # no waiting for a pause
        elif key == "Escape" and str(self._input.value):
            event.preventDefault()  # Escape clears the search; the drawer stays open
            self._input.value = ""
            self._show(None)
            if self._intents is not None:
                self._intents.search("", True)

    def _select(self, index: int) -> None:
        if 0 <= self._active < len(self._items):
            self._items[self._active].setAttribute("aria-selected", "false")
        self._active = index
        item = self._items[index]
        item.setAttribute("aria-selected", "true")
        self._input.setAttribute("aria-activedescendant", f"search-result-{index}")
        self._dom.reveal(item, center=False)

    def _clicked(self, event: Any) -> None:
        item = event.target.closest('[data-testid="search-result"]') if event.target else None
        if not item:  # JS null is not None
            return
        self._choose(int(str(item.getAttribute("data-index"))))

    def _choose(self, index: int) -> None:
        if self._intents is None or not 0 <= index < len(self._hits):
            return
        self._select(index)
        self._intents.open_search_result(self._hits[index])
