"""Search over the titles and message text of every conversation.

- Matching is case- and accent-insensitive: text and query are *folded* (Unicode NFKD, combining
  marks dropped, lower case), so "cafe" finds "Café" and "ÉCOLE" finds "école". The browser's
  searcher folds the same way in JavaScript (app/browser/search.py).
- A hit's snippet is a window of the original text around the first match, the match a part of
  its own, so the view marks it with a `<mark>` element and never parses the text as HTML.
- `Search` runs the searches the user types: debounced, one at a time in effect (a newer query
  cancels the one before, and a stale search never reports), each answered by a
  `SearchResults` event. It also tells the searcher which conversations changed, from the
  events the chat already sends, so a searcher that caches text knows what to read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from .conversations import Conversation, Message
from .errors import StoreError
from .events import (
    ConversationsListed,
    ErrorRaised,
    Event,
    EventSink,
    MessageAdded,
    MessageUpdated,
    SearchResults,
)
from .ports import Store

# How many hits a search returns, and how many of them one conversation may take.
HIT_LIMIT = 50
PER_CONVERSATION = 10
# Characters of context on each side of the match in a snippet.
CONTEXT_CHARS = 40
DEBOUNCE_MS = 150
ELLIPSIS = "…"


@dataclass(frozen=True)
class Snippet:
    """A window of text with the match apart: `before` + `match` + `after` reads as the text."""

    before: str
    match: str
    after: str


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    # None for a match in the conversation's title.
    message_id: str | None
    # The lane of the message (tree.py): opening on it shows the branch holding the message.
    lane: str | None
    title: str
    snippet: Snippet


def fold(text: str) -> str:
    """Text as search compares it: decomposed (NFKD), without accents and other combining
    marks, lower case. The same folding as app/browser/search.py's JavaScript."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).lower()


def find(text: str, query: str) -> tuple[int, int] | None:
    """Where the folded `query` first matches in `text`, as a slice of the original text; None
    when it does not (or the query folds to nothing)."""
    needle = fold(query.strip())
    if not needle:
        return None
    folded: list[str] = []
    origin: list[int] = []  # origin[i]: the index in `text` of folded character i
    for index, char in enumerate(text):
        for piece in fold(char):
            folded.append(piece)
            origin.append(index)
    at = "".join(folded).find(needle)
    if at < 0:
        return None
    end = origin[at + len(needle) - 1] + 1
    while end < len(text) and not fold(text[end]):
        end += 1  # the accents of the last letter belong to the match
    return origin[at], end


_SPACES = re.compile(r"\s+")


def _flat(text: str) -> str:
    """Runs of whitespace (line breaks too) as one space: a snippet is one line."""
    return _SPACES.sub(" ", text)


def snippet(
    text: str,
    query: str,
    context: int = CONTEXT_CHARS,
    *,
    cut_before: bool = False,
    cut_after: bool = False,
) -> Snippet:
    """A window around the first match of `query` in `text`, cut at word boundaries, with "…"
    where text was left out (`cut_before`/`cut_after`: `text` is already a window of a longer
    text). No match: the start of the text, nothing marked."""
    found = find(text, query)
    if found is None:
        head = text[: 2 * context]
        cut = cut_after or len(text) > len(head)
        return Snippet(
            (ELLIPSIS if cut_before else "") + _flat(head).strip() + (ELLIPSIS if cut else ""),
            "",
            "",
        )
    return snippet_at(text, *found, context, cut_before=cut_before, cut_after=cut_after)


def snippet_at(
    text: str,
    start: int,
    end: int,
    context: int = CONTEXT_CHARS,
    *,
    cut_before: bool = False,
    cut_after: bool = False,
) -> Snippet:
    """`snippet` for a match already found at text[start:end] (the browser's searcher finds
    it in JavaScript, so Python does not fold the text again)."""
    low, high = max(0, start - context), min(len(text), end + context)
    before, after = text[low:start], text[end:high]
    if (low > 0 or cut_before) and (space := _SPACES.search(before)):
        before = before[space.end() :]  # not from the middle of a word
    if (
        (high < len(text) or cut_after)
        and (spaces := list(_SPACES.finditer(after)))
        and spaces[-1].start() > 0
    ):
        after = after[: spaces[-1].start()]
    lead = cut_before or low > 0
    tail = cut_after or high < len(text)
    return Snippet(
        (ELLIPSIS if lead else "") + _flat(before).lstrip(),
        _flat(text[start:end]),
        _flat(after).rstrip() + (ELLIPSIS if tail else ""),
    )


class Searcher(Protocol):
    """Finds hits for a query across every stored conversation."""

    async def search(self, query: str, limit: int = HIT_LIMIT) -> list[SearchHit]:
        """Hits, most recently active conversation first; in each, its title first, then its
        messages in time order. At most `limit` hits."""

    def forget(self, conversation_ids: Collection[str]) -> None:
        """These conversations changed (or were deleted): read them again before the next
        search. A searcher that caches nothing ignores it."""

    def warm(self) -> None:
        """A search is coming (the box has the focus): get ready, without waiting."""


class StoreSearcher:
    """A searcher that reads everything through the Store at each search: the unit tests'
    searcher, and the page's when it runs without IndexedDB (a store in memory)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def search(self, query: str, limit: int = HIT_LIMIT) -> list[SearchHit]:
        needle = fold(query.strip())
        hits: list[SearchHit] = []
        if not needle:
            return hits
        for conversation in await self._store.list_conversations():
            hits += hits_in(conversation, await self._store.list_messages(conversation.id), query)
            if len(hits) >= limit:
                break
        return hits[:limit]

    def forget(self, conversation_ids: Collection[str]) -> None:
        return None

    def warm(self) -> None:
        return None


def hits_in(conversation: Conversation, messages: Sequence[Message], query: str) -> list[SearchHit]:
    """The hits of one conversation: its title, then its messages in time order."""
    needle = fold(query.strip())
    hits: list[SearchHit] = []
    if needle in fold(conversation.title):
        hits.append(
            SearchHit(
                conversation.id, None, None, conversation.title, snippet(conversation.title, query)
            )
        )
    found = 0
    for message in messages:
        if found >= PER_CONVERSATION:
            break
        if needle in fold(message.content):
            found += 1
            hits.append(
                SearchHit(
                    conversation.id,
                    message.id,
                    message.lane or None,
                    conversation.title,
                    snippet(message.content, query),
                )
            )
    return hits


Sleep = Callable[[float], Awaitable[None]]


class Search:
    """The searches the user types: debounced, the newest wins, stale ones never report."""

    def __init__(
        self,
        searcher: Searcher,
        emit: EventSink,
        *,
        debounce_ms: float = DEBOUNCE_MS,
        sleep: Sleep = asyncio.sleep,
        on_start: Callable[[str], None] = lambda _query: None,
    ) -> None:
        self._searcher = searcher
        self._emit = emit
        self._debounce_s = debounce_ms / 1000
        self._sleep = sleep
        # Told when a search really starts (after the pause): a performance mark in the page.
        self._on_start = on_start
        self._task: asyncio.Task[None] | None = None
        self._latest = 0
        self._listed: dict[str, tuple[str, int]] = {}

    def query(self, text: str, *, now: bool = False) -> None:
        """Search for `text` once typing pauses (at once with `now`: Enter). A blank query
        ends the search and reports no hits at once."""
        self._latest += 1
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        if not fold(text.strip()):
            self._emit(SearchResults(text, (), searched=False))
            return
        self._task = asyncio.ensure_future(self._run(self._latest, text, now))

    async def _run(self, turn: int, text: str, now: bool) -> None:
        if not now:
            await self._sleep(self._debounce_s)
        self._on_start(text)
        try:
            hits = await self._searcher.search(text)
        except StoreError as exc:
            if turn == self._latest:
                self._emit(ErrorRaised(str(exc)))
            return
        if turn == self._latest:  # a newer query since: these hits are stale
            self._emit(SearchResults(text, tuple(hits)))

    async def settle(self) -> None:
        """Wait until the search in progress (if any) has reported or been dropped."""
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def observe(self, event: Event) -> None:
        """Tell the searcher what changed, from the events the chat sends anyway."""
        match event:
            case MessageAdded(message) | MessageUpdated(message):
                self._searcher.forget((message.conversation_id,))
            case ConversationsListed(conversations):
                listed = {c.id: (c.title, c.updated_at) for c in conversations}
                changed = {cid for cid, seen in listed.items() if self._listed.get(cid) != seen}
                changed |= self._listed.keys() - listed.keys()
                if self._listed and changed:
                    self._searcher.forget(changed)
                self._listed = listed
