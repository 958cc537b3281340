"""Search: folding, matching, snippets, the searcher over a store, and stale searches."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from app.core.conversations import Conversation, Message
from app.core.events import (
    ConversationsListed,
    Event,
    MessageUpdated,
    SearchResults,
)
from app.core.memory import MemoryStore
from app.core.search import (
    ELLIPSIS,
    HIT_LIMIT,
    PER_CONVERSATION,
    Search,
    SearchHit,
    Snippet,
    StoreSearcher,
    find,
    fold,
    snippet,
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- folding and matching -------------------------------------------------------------------


def test_folding_ignores_case_and_accents() -> None:
    assert fold("Café ÉCOLE Ångström") == "cafe ecole angstrom"
    assert fold("ﬁle") == "file"  # compatibility forms too (a ligature)


def test_a_match_is_found_whatever_the_case_and_accents_on_either_side() -> None:
    assert find("We met at the Café", "cafe") == (14, 18)
    assert find("We met at the cafe", "CAFÉ") == (14, 18)
    assert find("crème brûlée", "BRULEE") == (6, 12)


def test_a_match_is_sliced_from_the_original_text_even_when_decomposed() -> None:
    text = "Cafe\u0301 au lait"  # é as e + combining accent: 5 characters for 4 letters
    start, end = find(text, "café") or (0, 0)
    assert text[start:end] == "Cafe\u0301"


def test_a_blank_query_or_no_match_finds_nothing() -> None:
    assert find("anything", "   ") is None
    assert find("anything", "zebra") is None


# -- snippets -------------------------------------------------------------------------------


def test_a_snippet_is_a_window_around_the_first_match_with_the_match_apart() -> None:
    text = (
        " ".join(f"word{n}" for n in range(40)) + " needle " + " ".join("x" * 3 for _ in range(40))
    )
    cut = snippet(text, "NEEDLE", context=20)
    assert cut.match == "needle"
    assert cut.before.startswith(ELLIPSIS) and cut.after.endswith(ELLIPSIS)
    assert cut.before.endswith(" ") and cut.after.startswith(" ")
    assert len(cut.before) <= 22 and len(cut.after) <= 22
    # Never from the middle of a word.
    assert cut.before.removeprefix(ELLIPSIS).split()[0].startswith("word")


def test_a_snippet_of_a_short_text_has_no_ellipsis_and_keeps_the_original_spelling() -> None:
    assert snippet("Un Café, s'il vous plaît", "cafe") == Snippet(
        "Un ", "Café", ", s'il vous plaît"
    )


def test_a_snippet_is_one_line() -> None:
    cut = snippet("first line\n\nsecond\tline with the match", "match")
    assert "\n" not in cut.before + cut.after and "\t" not in cut.before
    assert cut.before == "first line second line with the "


def test_a_window_cut_from_a_longer_text_says_so_on_both_sides() -> None:
    cut = snippet("lo sits here a needle here too", "needle", cut_before=True, cut_after=True)
    assert cut.before.startswith(ELLIPSIS) and cut.after.endswith(ELLIPSIS)
    assert cut.match == "needle"


def test_hostile_html_stays_text_in_a_snippet() -> None:
    cut = snippet("<img src=x onerror=alert(1)> secret plan", "secret")
    assert cut.before == "<img src=x onerror=alert(1)> "
    assert cut.match == "secret"


# -- the searcher over a store --------------------------------------------------------------


def conversation(cid: str, title: str, updated: int) -> Conversation:
    return Conversation(id=cid, title=title, model=None, created_at=updated, updated_at=updated)


async def seeded() -> MemoryStore:
    store = MemoryStore()
    await store.create_conversation(conversation("old", "Holiday plans", 1))
    await store.create_conversation(conversation("new", "Baking", 5))
    first = await store.append_message(Message("m1", "old", "user", "Where to go in Provence?", 2))
    await store.append_message(
        Message("m2", "old", "assistant", "Try the lavender fields.", 3, parent_id=first.id)
    )
    # A regenerated reply: the old one stays on a branch of its own.
    await store.append_message(
        Message("m3", "old", "assistant", "Arles and Avignon.", 4, parent_id=first.id),
        branch=True,
    )
    await store.append_message(Message("m4", "new", "user", "A crème brûlée recipe", 6))
    return store


def test_the_searcher_finds_titles_and_message_text_in_every_conversation() -> None:
    async def scenario() -> list[SearchHit]:
        return await StoreSearcher(await seeded()).search("holiday")

    hits = run(scenario())
    assert [(h.conversation_id, h.message_id) for h in hits] == [("old", None)]
    assert hits[0].snippet == Snippet("", "Holiday", " plans")


def test_hits_come_most_recent_conversation_first_with_the_lane_of_their_message() -> None:
    async def scenario() -> list[SearchHit]:
        store = await seeded()
        await store.append_message(
            Message("m5", "new", "assistant", "Lavender cream?", 7, parent_id="m4")
        )
        return await StoreSearcher(store).search("LAVENDER")

    hits = run(scenario())
    assert [h.message_id for h in hits] == ["m5", "m2"]
    assert hits[1].lane == "m1"  # m2 continues its parent's lane
    assert hits[1].title == "Holiday plans"


def test_a_message_on_another_branch_names_its_own_lane() -> None:
    hits = run(_search("avignon"))
    assert [(h.message_id, h.lane) for h in hits] == [("m3", "m3")]


async def _search(query: str) -> list[SearchHit]:
    return await StoreSearcher(await seeded()).search(query)


def test_no_match_and_a_blank_query_find_nothing() -> None:
    assert run(_search("zebra")) == []
    assert run(_search("  ")) == []


def test_one_conversation_cannot_fill_the_results() -> None:
    async def scenario() -> list[SearchHit]:
        store = MemoryStore()
        await store.create_conversation(conversation("c", "Chat", 1))
        parent = None
        for n in range(PER_CONVERSATION + 5):
            stored = await store.append_message(
                Message(f"m{n}", "c", "user", f"echo {n}", n + 2, parent_id=parent)
            )
            parent = stored.id
        return await StoreSearcher(store).search("echo")

    assert len(run(scenario())) == PER_CONVERSATION


# -- typing: debounce, the newest query wins ----------------------------------------------


class GatedSearcher:
    """A searcher whose searches finish only when the test says so, in any order."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.asked: list[str] = []
        self.forgotten: list[set[str]] = []

    async def search(self, query: str, limit: int = HIT_LIMIT) -> list[SearchHit]:
        self.asked.append(query)
        await self.gates.setdefault(query, asyncio.Event()).wait()
        return [SearchHit("c", None, None, query, Snippet("", query, ""))]

    def forget(self, conversation_ids: Collection[str]) -> None:
        self.forgotten.append(set(conversation_ids))

    def warm(self) -> None:
        return None


def results(events: list[Event]) -> list[tuple[str, int]]:
    return [(e.query, len(e.hits)) for e in events if isinstance(e, SearchResults)]


def test_typing_fast_searches_once_for_the_last_query() -> None:
    async def scenario() -> tuple[GatedSearcher, list[Event]]:
        searcher, events = GatedSearcher(), list[Event]()
        search = Search(searcher, events.append, debounce_ms=20)
        for text in ("l", "la", "lav"):
            search.query(text)
            await asyncio.sleep(0.001)
        searcher.gates["lav"] = asyncio.Event()
        searcher.gates["lav"].set()
        await search.settle()
        return searcher, events

    searcher, events = run(scenario())
    assert searcher.asked == ["lav"]
    assert results(events) == [("lav", 1)]


def test_a_stale_search_that_finishes_last_never_reports() -> None:
    async def scenario() -> list[Event]:
        searcher, events = GatedSearcher(), list[Event]()
        search = Search(searcher, events.append, debounce_ms=0)
        search.query("slow", now=True)
        await asyncio.sleep(0.01)  # the first search is running in the searcher
        search.query("fast", now=True)
        await asyncio.sleep(0.01)
        searcher.gates["fast"].set()
        await search.settle()
        searcher.gates["slow"].set()
        await asyncio.sleep(0.01)
        return events

    assert results(run(scenario())) == [("fast", 1)]


def test_clearing_the_query_ends_the_search_at_once() -> None:
    async def scenario() -> list[Event]:
        searcher, events = GatedSearcher(), list[Event]()
        search = Search(searcher, events.append, debounce_ms=0)
        search.query("pending", now=True)
        await asyncio.sleep(0.01)
        search.query("   ")
        searcher.gates["pending"].set()
        await asyncio.sleep(0.01)
        return events

    events = run(scenario())
    assert events == [SearchResults("   ", (), searched=False)]


def test_the_searcher_hears_which_conversations_changed() -> None:
    searcher = GatedSearcher()
    search = Search(searcher, lambda _e: None)
    a, b = conversation("a", "A", 1), conversation("b", "B", 2)
    search.observe(ConversationsListed((a, b), None))
    assert searcher.forgotten == []  # the first listing: nothing to compare with
    search.observe(ConversationsListed((conversation("a", "Renamed", 1), b), None))
    search.observe(ConversationsListed((conversation("a", "Renamed", 1),), None))
    search.observe(MessageUpdated(Message("m", "b", "assistant", "chunk", 3)))
    assert searcher.forgotten == [{"a"}, {"b"}, {"b"}]
