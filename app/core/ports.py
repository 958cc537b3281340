"""What core needs from the outside world, as Protocols.

Core is handed implementations of these (browser adapters in the page, small in-memory fakes
in the unit tests); it never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .catalog import Device, ModelEntry
from .conversations import Conversation, Message


@dataclass(frozen=True)
class LoadProgress:
    """A step of a model load, translated from transformers.js progress events."""

    phase: Literal["downloading", "compiling"]
    loaded_bytes: int = 0
    total_bytes: int = 0


@dataclass(frozen=True)
class LoadedModel:
    """A model resident in the engine. `handle` is the engine's own object, opaque to core."""

    id: str
    dtype: str | None
    device: Device
    handle: Any = None


@dataclass(frozen=True)
class ChatTurn:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationStats:
    tokens: int
    stopped: bool


class Engine(Protocol):
    """A text-generation runtime (transformers.js in the page)."""

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel: ...

    async def warm_up(self, model: LoadedModel) -> None: ...

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
    ) -> GenerationStats: ...

    def interrupt(self) -> None:
        """Ask the running generation to stop after the current token."""

    async def dispose(self, model: LoadedModel) -> None: ...


class Store(Protocol):
    """Where conversations and their messages live (IndexedDB in the page)."""

    async def save_conversation(self, conversation: Conversation) -> None: ...

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def list_conversations(self) -> list[Conversation]: ...

    async def delete_conversation(self, conversation_id: str) -> None: ...

    async def append_message(self, message: Message) -> None: ...

    async def update_message(self, message: Message) -> None:
        """Write a message whether or not it was appended before (an upsert)."""

    async def delete_message(self, message: Message) -> None: ...

    async def list_messages(self, conversation_id: str) -> list[Message]: ...


class Clock(Protocol):
    def monotonic_ms(self) -> float:
        """Milliseconds from an arbitrary origin, for durations."""

    def wall_ms(self) -> int:
        """Milliseconds since the Unix epoch, for timestamps users see."""


class Ids(Protocol):
    def new_id(self) -> str: ...
