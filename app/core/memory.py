"""In-memory implementations of the ports: the unit tests' fakes, and a store for a page
whose IndexedDB is unavailable (private modes that refuse it)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import replace

from .conversations import Conversation, Message, by_recent_activity
from .errors import ConversationGone, HistoryChanged, StoreError
from .ports import ConversationChange
from .tabs import News


class MemoryStore:
    """The Store contract in memory, with the same checks IndexedDB makes in one transaction."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[str, Message] = {}

    def _existing(self, conversation_id: str) -> Conversation:
        found = self._conversations.get(conversation_id)
        if found is None:
            raise ConversationGone(conversation_id)
        return found

    def _newest(self, conversation_id: str) -> Message | None:
        found = [m for m in self._messages.values() if m.conversation_id == conversation_id]
        return max(found, key=lambda m: m.created_at, default=None)

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
        for key in [k for k, m in self._messages.items() if m.conversation_id == conversation_id]:
            del self._messages[key]

    async def append_message(self, message: Message, *, after: str | None) -> None:
        conversation = self._existing(message.conversation_id)
        newest = self._newest(message.conversation_id)
        if (newest.id if newest else None) != after:
            raise HistoryChanged(message.conversation_id)
        self._messages[message.id] = message
        touched = ConversationChange(touched_at=message.created_at).apply(conversation)
        self._conversations[conversation.id] = touched

    async def put_message(
        self,
        message: Message,
        *,
        replacing: str | None = None,
        touched_at: int | None = None,
    ) -> None:
        conversation = self._existing(message.conversation_id)
        if replacing is not None:
            newest = self._newest(message.conversation_id)
            if newest is None or newest.id != replacing:
                raise HistoryChanged(message.conversation_id)
            del self._messages[replacing]
        self._messages[message.id] = replace(message)
        if touched_at is not None:
            touched = ConversationChange(touched_at=touched_at).apply(conversation)
            self._conversations[conversation.id] = touched

    async def list_messages(self, conversation_id: str) -> list[Message]:
        found = [m for m in self._messages.values() if m.conversation_id == conversation_id]
        return sorted(found, key=lambda m: m.created_at)


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
