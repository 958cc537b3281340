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


def results_summary(count: int, limit_reached: bool) -> str:
    if count == 0:
        return "No matches"
    if limit_reached:
        return f"First {count} matches"
    return "1 match" if count == 1 else f"{count} matches"


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
        for item in self._items:
            item.remove()
        self._items = []
        self._hits = hits or ()
        self._active = -1
        self._input.removeAttribute("aria-activedescendant")
        if hits is None:
            self._results.hidden = True
            self._status.hidden = True
            self._status.textContent = ""
            self._input.setAttribute("aria-expanded", "false")
            return
        for index, hit in enumerate(hits):
            item = self._item(index, hit)
            self._results.appendChild(item)
            self._items.append(item)
        self._results.hidden = not hits
        self._input.setAttribute("aria-expanded", "true" if hits else "false")
        self._status.textContent = results_summary(len(hits), len(hits) >= self._limit)
        self._status.hidden = False
        self._dom.mark("parlance:search-rendered")

    def _item(self, index: int, hit: SearchHit) -> Element:
        dom = self._dom
        item = dom.create(
            "li",
            testid="search-result",
            id=f"search-result-{index}",
            role="option",
            **{
                "class": "search-result",
                "aria-selected": "false",
                "data-conversation-id": hit.conversation_id,
                "data-message-id": hit.message_id or "",
                "data-index": str(index),
            },
        )
        title = dom.create("span", **{"class": "search-result-title"})
        item.appendChild(title)
        if hit.message_id is None:
            self._marked(title, hit.snippet.before, hit.snippet.match, hit.snippet.after)
        else:
            title.textContent = hit.title
            text = dom.create("span", **{"class": "search-snippet"})
            self._marked(text, hit.snippet.before, hit.snippet.match, hit.snippet.after)
            item.appendChild(text)
        return item

    def _marked(self, into: Element, before: str, match: str, after: str) -> None:
        """Text with its match in a <mark>, as text nodes: nothing in it is parsed as HTML."""
        dom = self._dom
        if before:
            into.appendChild(dom.create("span", text=before))
        if match:
            into.appendChild(dom.create("mark", text=match))
        if after:
            into.appendChild(dom.create("span", text=after))

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
