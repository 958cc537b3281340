"""In-memory implementations of the ports: the unit tests' fakes, and a store for a page
whose IndexedDB is unavailable (private modes that refuse it)."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .conversations import ChatSettings, Conversation, Message, by_recent_activity
from .errors import ConversationGone, HistoryChanged, StoreError
from .ports import ConversationChange
from .tabs import News
from .tree import Branch, branch_from, lane_for


class MemoryStore:
    """The Store contract in memory, with the same checks IndexedDB makes in one transaction."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[str, Message] = {}
        self._defaults = ChatSettings()
        self._user_models: list[Any] = []
        self._endpoint_keys: dict[str, str] = {}

    def _existing(self, conversation_id: str) -> Conversation:
        found = self._conversations.get(conversation_id)
        if found is None:
            raise ConversationGone(conversation_id)
        return found

    def _of(self, conversation_id: str) -> list[Message]:
        return [m for m in self._messages.values() if m.conversation_id == conversation_id]

    def _has_child(self, conversation_id: str, parent: Message | None) -> bool:
        if parent is None:
            return bool(self._of(conversation_id))
        return any(m.parent_id == parent.id for m in self._messages.values())

    async def create_conversation(self, conversation: Conversation) -> None:
        if conversation.id in self._conversations:
            raise StoreError(f"Could not save the conversation: id {conversation.id} is taken.")
        self._conversations[conversation.id] = conversation

    async def update_conversation(
        self, conversation_id: str, change: ConversationChange
    ) -> Conversation:
        updated = change.apply(self._existing(conversation_id))
        self._conversations[conversation_id] = updated
        return updated

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self._conversations.get(conversation_id)

    async def list_conversations(self) -> list[Conversation]:
        return by_recent_activity(self._conversations.values())

    async def delete_conversation(self, conversation_id: str) -> None:
        self._conversations.pop(conversation_id, None)
        for key in [m.id for m in self._of(conversation_id)]:
            del self._messages[key]

    async def append_message(self, message: Message, *, branch: bool = False) -> Message:
        conversation = self._existing(message.conversation_id)
        parent = None
        if message.parent_id is not None:
            parent = self._messages.get(message.parent_id)
            if parent is None or parent.conversation_id != message.conversation_id:
                raise HistoryChanged(message.conversation_id)
        has_child = self._has_child(message.conversation_id, parent)
        if has_child and not branch:
            raise HistoryChanged(message.conversation_id)
        if message.id in self._messages:
            raise StoreError(f"Could not save the message: id {message.id} is taken.")
        stored = replace(message, lane=lane_for(message.id, parent, has_child))
        self._messages[stored.id] = stored
        change = ConversationChange(touched_at=stored.created_at, lane=stored.lane)
        self._conversations[conversation.id] = change.apply(conversation)
        return stored

    async def put_message(self, message: Message, *, touched_at: int | None = None) -> None:
        conversation = self._existing(message.conversation_id)
        stored = self._messages.get(message.id)
        # Where a message sits in the tree is the store's: a rewrite keeps it.
        placed = (
            message
            if stored is None
            else replace(message, parent_id=stored.parent_id, lane=stored.lane)
        )
        self._messages[message.id] = placed
        if touched_at is not None:
            touched = ConversationChange(touched_at=touched_at).apply(conversation)
            self._conversations[conversation.id] = touched

    async def read_branch(
        self,
        conversation_id: str,
        lane: str | None = None,
        *,
        newest: int | None = None,
        through: str | None = None,
    ) -> Branch:
        conversation = self._conversations.get(conversation_id)
        wanted = lane or (conversation.lane if conversation else None)
        branch = branch_from(self._of(conversation_id), wanted)
        return branch if newest is None else branch.tail(newest, through)

    async def read_older(self, conversation_id: str, before: str, count: int) -> Branch:
        found = self._messages.get(before)
        if found is None or found.conversation_id != conversation_id:
            return Branch([])
        return branch_from(self._of(conversation_id), found.lane).before(before, count)

    async def list_messages(self, conversation_id: str) -> list[Message]:
        return sorted(self._of(conversation_id), key=lambda m: m.created_at)

    async def get_defaults(self) -> ChatSettings:
        return self._defaults

    async def put_defaults(self, settings: ChatSettings) -> None:
        self._defaults = settings

    async def get_user_models(self) -> list[Any]:
        return copy.deepcopy(self._user_models)

    async def put_user_models(self, records: Sequence[Mapping[str, Any]]) -> None:
        self._user_models = [copy.deepcopy(dict(r)) for r in records]

    async def get_endpoint_keys(self) -> dict[str, str]:
        return dict(self._endpoint_keys)

    async def put_endpoint_keys(self, keys: Mapping[str, str]) -> None:
        self._endpoint_keys = dict(keys)

    async def taken_ids(
        self, conversation_ids: Sequence[str], message_ids: Sequence[str]
    ) -> set[str]:
        return {c for c in conversation_ids if c in self._conversations} | {
            m for m in message_ids if m in self._messages
        }

    async def import_conversations(
        self, conversations: Sequence[tuple[Conversation, Sequence[Message]]]
    ) -> None:
        ids = [c.id for c, _ in conversations]
        message_ids = [m.id for _, messages in conversations for m in messages]
        taken = await self.taken_ids(ids, message_ids)
        if taken or len(set(ids)) < len(ids) or len(set(message_ids)) < len(message_ids):
            raise StoreError("Could not import: an id is already taken; nothing was imported.")
        for conversation, messages in conversations:
            self._conversations[conversation.id] = conversation
            for m in messages:
                self._messages[m.id] = m


class LocalTurnLocks:
    """Turn locks within one Python process: the page's fallback where Web Locks are missing
    (one tab), and the unit tests' stand-in for several tabs sharing one browser."""

    def __init__(self) -> None:
        self._held: dict[str, asyncio.Event] = {}

    async def acquire(self, conversation_id: str) -> _LocalLease | None:
        if conversation_id in self._held:
            return None
        released = self._held[conversation_id] = asyncio.Event()
        return _LocalLease(lambda: self._release(conversation_id, released))

    def _release(self, conversation_id: str, released: asyncio.Event) -> None:
        if self._held.get(conversation_id) is released:
            del self._held[conversation_id]
        released.set()

    async def held_elsewhere(self, conversation_id: str) -> bool:
        return conversation_id in self._held

    async def wait_released(self, conversation_id: str) -> None:
        while (held := self._held.get(conversation_id)) is not None:
            await held.wait()


class _LocalLease:
    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class LocalBroadcast:
    """News between Chats of one process: each `tab()` hears what the others publish, later
    in the event loop (as a BroadcastChannel delivers). One tab alone hears nothing."""

    def __init__(self) -> None:
        self._tabs: list[LocalTab] = []

    def tab(self) -> LocalTab:
        tab = LocalTab(self)
        self._tabs.append(tab)
        return tab

    def _deliver(self, sender: LocalTab, news: News) -> None:
        loop = asyncio.get_running_loop()
        for tab in self._tabs:
            if tab is not sender:
                loop.call_soon(tab.listener, news)


class LocalTab:
    def __init__(self, hub: LocalBroadcast) -> None:
        self._hub = hub
        self.listener: Callable[[News], None] = lambda _news: None

    def publish(self, news: News) -> None:
        self._hub._deliver(self, news)


class CountingIds:
    """Predictable ids: `prefix-1`, `prefix-2`, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


class ManualClock:
    """A clock that moves only when told to (each reading may advance it by `step_ms`)."""

    def __init__(self, start_ms: int = 1_700_000_000_000, step_ms: float = 0.0) -> None:
        self._now = float(start_ms)
        self.step_ms = step_ms

    def advance(self, ms: float) -> None:
        self._now += ms

    def monotonic_ms(self) -> float:
        self._now += self.step_ms
        return self._now

    def wall_ms(self) -> int:
        self._now += self.step_ms
        return int(self._now)
