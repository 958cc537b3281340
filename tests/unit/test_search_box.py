"""The search box widget against the fake page: results, the keyboard, stale results."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.core.events import SearchResults
from app.core.search import SearchHit, Snippet
from app.ui.intents import Intents
from app.ui.search import SearchBox

from .fake_dom import FakeDom, FakeElement

TITLE_HIT = SearchHit("c1", None, None, "Trip to Provence", Snippet("Trip to ", "Provence", ""))
TEXT_HIT = SearchHit(
    "c2", "m7", "m5", "Desserts", Snippet("…a ", "<b>crème</b>", " brûlée"),
)  # fmt: skip


SEARCHING = {"search", "warm_search", "open_search_result"}
UNUSED = [f.name for f in dataclasses.fields(Intents) if f.name not in SEARCHING]


def page() -> tuple[FakeDom, SearchBox, FakeElement, list[tuple[str, Any]]]:
    dom = FakeDom()
    box = dom.add("input", "search")
    dom.add("p", "search-status", hidden="")
    dom.add("ul", "search-results", hidden="")
    widget = SearchBox(dom, limit=50)  # type: ignore[arg-type]
    asked: list[tuple[str, Any]] = []
    widget.bind(
        Intents(
            **{name: (lambda *_a: None) for name in UNUSED},
            search=lambda text, now: asked.append(("search", (text, now))),
            warm_search=lambda: asked.append(("warm", ())),
            open_search_result=lambda hit: asked.append(("open", hit)),
        )
    )
    return dom, widget, box, asked


def text_of(element: FakeElement) -> str:
    return element.textContent + "".join(text_of(c) for c in element.children)


def test_results_name_their_conversation_and_mark_the_match_as_text() -> None:
    dom, widget, box, _ = page()
    box.value = "creme"
    widget.handle(SearchResults("creme", (TITLE_HIT, TEXT_HIT)))
    items = dom.by_testid("search-results").children
    assert [i.getAttribute("data-message-id") for i in items] == ["", "m7"]
    assert items[1].getAttribute("data-conversation-id") == "c2"
    assert text_of(items[1]) == "Desserts…a <b>crème</b> brûlée"
    marks = [e for e in items[1].walk() if e.tagName == "MARK"]
    assert [m.textContent for m in marks] == ["<b>crème</b>"]  # text, never markup
    assert [e.textContent for e in items[0].walk() if e.tagName == "MARK"] == ["Provence"]
    assert dom.by_testid("search-status").textContent == "2 matches"
    assert dom.marks == ["parlance:search-rendered"]


def test_no_hits_say_no_matches_and_a_cleared_search_shows_nothing() -> None:
    dom, widget, box, _ = page()
    box.value = "zebra"
    widget.handle(SearchResults("zebra", ()))
    status = dom.by_testid("search-status")
    assert status.textContent == "No matches" and not status.hidden
    box.value = ""
    widget.handle(SearchResults("", (), searched=False))
    assert status.hidden and dom.by_testid("search-results").hidden


def test_results_of_a_query_typed_past_are_not_shown() -> None:
    dom, widget, box, _ = page()
    box.value = "crème brûlée"
    widget.handle(SearchResults("crème", (TEXT_HIT,)))
    assert dom.by_testid("search-results").children == []


def test_typing_searches_and_focusing_gets_the_search_ready() -> None:
    dom, _, box, asked = page()
    dom.fire(box, "focus")
    box.value = "prov"
    dom.fire(box, "input")
    assert asked == [("warm", ()), ("search", ("prov", False))]


def test_arrows_choose_a_result_and_enter_opens_it() -> None:
    dom, widget, box, asked = page()
    box.value = "p"
    widget.handle(SearchResults("p", (TITLE_HIT, TEXT_HIT)))
    dom.fire(box, "keydown", key="ArrowDown")
    dom.fire(box, "keydown", key="ArrowDown")
    items = dom.by_testid("search-results").children
    assert [i.getAttribute("aria-selected") for i in items] == ["false", "true"]
    assert box.getAttribute("aria-activedescendant") == "search-result-1"
    assert dom.revealed[-1] is items[1]
    dom.fire(box, "keydown", key="ArrowDown")  # wraps to the first
    assert items[0].getAttribute("aria-selected") == "true"
    dom.fire(box, "keydown", key="ArrowUp")
    event = dom.fire(box, "keydown", key="Enter")
    assert event.defaultPrevented
    assert asked[-1] == ("open", TEXT_HIT)


def test_enter_before_any_result_searches_at_once() -> None:
    dom, _, box, asked = page()
    box.value = "now"
    dom.fire(box, "keydown", key="Enter")
    assert asked == [("search", ("now", True))]


def test_escape_clears_the_search_and_keeps_the_drawer_open() -> None:
    dom, widget, box, asked = page()
    box.value = "p"
    widget.handle(SearchResults("p", (TITLE_HIT,)))
    event = dom.fire(box, "keydown", key="Escape")
    assert event.defaultPrevented  # the page's Escape (closing the drawer) leaves it alone
    assert box.value == "" and dom.by_testid("search-results").children == []
    assert asked[-1] == ("search", ("", True))
    # With nothing to clear, Escape goes on to the page.
    assert not dom.fire(box, "keydown", key="Escape").defaultPrevented
