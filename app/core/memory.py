"""In-memory implementations of the ports: the unit tests' fakes, and a store for a page
whose IndexedDB is unavailable (private modes that refuse it)."""

from __future__ import annotations

import itertools
from dataclasses import replace

from .conversations import Conversation, Message, by_recent_activity


class MemoryStore:
    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[str, Message] = {}

    async def save_conversation(self, conversation: Conversation) -> None:
        self._conversations[conversation.id] = conversation

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self._conversations.get(conversation_id)

    async def list_conversations(self) -> list[Conversation]:
        return by_recent_activity(self._conversations.values())

    async def delete_conversation(self, conversation_id: str) -> None:
        self._conversations.pop(conversation_id, None)
        for key in [k for k, m in self._messages.items() if m.conversation_id == conversation_id]:
            del self._messages[key]

    async def append_message(self, message: Message) -> None:
        self._messages[message.id] = message

    async def update_message(self, message: Message) -> None:
        self._messages[message.id] = replace(message)

    async def delete_message(self, message: Message) -> None:
        self._messages.pop(message.id, None)

    async def list_messages(self, conversation_id: str) -> list[Message]:
        found = [m for m in self._messages.values() if m.conversation_id == conversation_id]
        return sorted(found, key=lambda m: m.created_at)


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
        self._step = step_ms

    def advance(self, ms: float) -> None:
        self._now += ms

    def monotonic_ms(self) -> float:
        self._now += self._step
        return self._now

    def wall_ms(self) -> int:
        self._now += self._step
        return int(self._now)
