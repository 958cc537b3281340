"""The Chat's long conversations: opened on their last page, older pages read on demand.

A chat of 10,000 messages must open as fast as a chat of ten, so the Chat holds (and the view
shows) only the newest page of the branch at first, `PAGE_MESSAGES` messages, read without
touching the rest (Store.read_branch with `newest`). As the reader scrolls up, the view asks
for the page before the first message shown (`load_older`), which the Chat puts in front of
`messages`. A search result deep in the chat opens with every page down from it.

What the screen holds is not what a reply reads: a reply answers the whole branch (its window
is trimmed in answering.py), so `_history` reads what lies above the screen from the store.
Exports read the store too, never the screen.
"""

from __future__ import annotations

from .conversations import Conversation, Message, settled
from .events import EventSink, OlderMessagesShown
from .ports import Store
from .tree import Branch

# Messages in a page: more than a tall screen shows, few enough to render at once.
PAGE_MESSAGES = 50
# What "the rest of the branch" means when a reply reads its history (no chat is longer).
WHOLE_BRANCH = 10_000_000


class Paging:
    # Provided by Chat.
    conversation: Conversation | None
    messages: list[Message]
    _store: Store
    _emit: EventSink

    @property
    def answering_elsewhere(self) -> bool:
        raise NotImplementedError  # TabSync's

    def __init__(self) -> None:
        super().__init__()
        # Whether the branch on screen has messages above the first one shown.
        self.has_older = False

    async def _read_page(
        self,
        conversation_id: str,
        lane: str | None = None,
        *,
        through: str | None = None,
        at_least: int = 0,
    ) -> Branch:
        """The newest page of a branch (at least `at_least` messages: what is on screen
        stays), back to message `through` when it is on it."""
        newest = max(PAGE_MESSAGES, at_least)
        branch = await self._store.read_branch(
            conversation_id, lane, newest=newest, through=through
        )
        self.has_older = branch.has_older
        return branch

    async def load_older(self) -> bool:
        """Put the page before the first message on screen in front of it (the reader
        scrolled up to it). False when there is none, or the chat changed meanwhile."""
        if self.conversation is None or not self.has_older or not self.messages:
            return False
        cid, first = self.conversation.id, self.messages[0].id
        page = await self._store.read_older(cid, first, PAGE_MESSAGES)
        if self.conversation is None or self.conversation.id != cid:
            return False
        if not self.messages or self.messages[0].id != first:
            return False  # shown again meanwhile (another branch, another tab's change)
        older = page.messages if self.answering_elsewhere else settled(page.messages)
        self.messages[:0] = older
        self.has_older = page.has_older
        self._emit(OlderMessagesShown(cid, tuple(older), page.siblings, page.has_older))
        return True

    async def _history(self) -> list[Message]:
        """The whole branch up to the screen's last message, for a reply: the pages above the
        screen from the store, then what the screen holds (its newest statuses)."""
        if not self.has_older or self.conversation is None or not self.messages:
            return list(self.messages)
        above = await self._store.read_older(
            self.conversation.id, self.messages[0].id, WHOLE_BRANCH
        )
        return [*above.messages, *self.messages]

    def _through_for(self, lane: str) -> str:
        """Where a step to the sibling branch `lane` must read back to so that the point it
        forks from is on screen: the last message shown in that lane (the fork's parent, when
        the sibling continues its parent's lane), else the lane's first message, whose id is
        the lane's (the sibling itself)."""
        shown = [m.id for m in self.messages if m.lane == lane]
        return shown[-1] if shown else lane
