"""What core needs from the outside world, as Protocols.

Core is handed implementations of these (browser adapters in the page, small in-memory fakes
in the unit tests); it never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from .catalog import Device, ModelEntry
from .conversations import ChatSettings, Conversation, Message
from .tree import Branch


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
    # How many tokens the model reads at once (its config's max_position_embeddings).
    context_tokens: int | None = None


@dataclass(frozen=True)
class ChatTurn:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationStats:
    tokens: int
    stopped: bool
    # The prompt's length in tokens (a remote model's: as its server reports it), and how many
    # of them came from the KV cache the previous turn left instead of being read again (None:
    # the engine does not say).
    prompt_tokens: int | None = None
    reused_tokens: int = 0
    # How many tokens a remote server says it wrote (its `usage`); None where nobody says.
    completion_tokens: int | None = None


class StopSignal:
    """A turn's stop button: set once, heard by whoever is working on that turn.

    It exists before the engine starts, so a stop pressed while the model still loads (or in
    the few milliseconds before the first token) is not lost: the engine checks it before it
    starts and subscribes to it while it runs.
    """

    def __init__(self) -> None:
        self._stopped = False
        self._listeners: list[Callable[[], None]] = []

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for listener in list(self._listeners):
            listener()

    def on_stop(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when stopped (at once if already); returns an unsubscribe."""
        if self._stopped:
            listener()
            return lambda: None
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe


class Engine(Protocol):
    """A text-generation runtime (transformers.js in the engine worker, or in the page)."""

    @property
    def runs_in(self) -> str:
        """Where it runs: "worker" (the engine worker) or "page"."""

    @property
    def threads(self) -> int:
        """How many wasm threads it may use."""

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
        stop: StopSignal,
    ) -> GenerationStats:
        """Stream a reply; return at once (stopped, no tokens) if `stop` is already set."""

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        """How many tokens each text is for `model`'s tokenizer (no special tokens)."""

    async def dispose(self, model: LoadedModel) -> None: ...


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


@dataclass(frozen=True)
class ConversationChange:
    """Fields to change on a stored conversation; the others keep what the store holds (which
    another tab may have changed meanwhile)."""

    title: str | None = None
    model: str | _Unchanged | None = UNCHANGED
    # Message activity: the stored updatedAt only ever moves forward.
    touched_at: int | None = None
    settings: ChatSettings | None = None
    # The branch to reopen on (tree.py).
    lane: str | None = None

    def apply(self, conversation: Conversation) -> Conversation:
        changed = conversation
        if self.title is not None:
            changed = replace(changed, title=self.title)
        if self.settings is not None:
            changed = replace(changed, settings=self.settings)
        if self.lane is not None:
            changed = replace(changed, lane=self.lane)
        if not isinstance(self.model, _Unchanged):
            changed = replace(changed, model=self.model)
        if self.touched_at is not None and self.touched_at > changed.updated_at:
            changed = replace(changed, updated_at=self.touched_at)
        return changed


class Store(Protocol):
    """Where conversations and their messages live (IndexedDB in the page).

    Several tabs share one store, so every write to a conversation checks, in the same
    transaction, that the conversation still exists (`ConversationGone` otherwise), and writes
    that extend the history check that it still ends where this tab thinks it does
    (`HistoryChanged` otherwise). A refused write writes nothing.
    """

    async def create_conversation(self, conversation: Conversation) -> None:
        """Add a new conversation; never overwrites one with the same id."""

    async def update_conversation(
        self, conversation_id: str, change: ConversationChange
    ) -> Conversation:
        """Apply `change` to the stored conversation and return what is now stored."""

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def list_conversations(self) -> list[Conversation]:
        """Every conversation, most recent message activity first."""

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and all its messages, in one transaction."""

    async def append_message(self, message: Message, *, branch: bool = False) -> Message:
        """Add `message` under its `parent_id` (None: as a first message) and return it as
        stored, in its lane (tree.py). The conversation then reopens on that branch and its
        updatedAt moves to the message's time.

        Without `branch`, the parent must still be a leaf (None: the conversation has no
        message yet), or HistoryChanged: another tab went on from there. With `branch` the
        message becomes a sibling of the parent's children (an edit or a regenerate); the
        parent must exist."""

    async def put_message(self, message: Message, *, touched_at: int | None = None) -> None:
        """Rewrite a stored message (a reply as it streams and ends); `touched_at` moves the
        conversation's updatedAt forward."""

    async def read_branch(
        self,
        conversation_id: str,
        lane: str | None = None,
        *,
        newest: int | None = None,
        through: str | None = None,
    ) -> Branch:
        """The branch ending at the newest message of `lane` (None: the lane the conversation
        was last shown on), first message first, with the siblings of its messages. Reads that
        branch only, not the rest of the tree.

        With `newest`, only its last `newest` messages (and back to message `through` when
        that is on the branch): a long chat opens on its last page, and `has_older` says
        whether there is more before it (`read_older`). The cost then does not grow with the
        branch's length."""

    async def read_older(self, conversation_id: str, before: str, count: int) -> Branch:
        """The page before message `before` on its branch: at most `count` of its nearest
        ancestors, first message first, with their siblings; `has_older` when there are more
        still (empty when `before` is not stored)."""

    async def list_messages(self, conversation_id: str) -> list[Message]:
        """Every readable message of the conversation, all branches, in time order."""

    async def get_defaults(self) -> ChatSettings:
        """The settings new chats start with (#/settings)."""

    async def put_defaults(self, settings: ChatSettings) -> None: ...

    async def get_user_models(self) -> list[Any]:
        """The catalog entries the user added (#/models), as stored: catalog-format records
        that the caller parses (a record another version wrote may not parse)."""

    async def put_user_models(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Replace the user's added catalog entries."""

    async def get_endpoint_keys(self) -> dict[str, str]:
        """The keys of the servers the user added, by server address: kept on this device,
        apart from the catalog entries, and never exported."""

    async def put_endpoint_keys(self, keys: Mapping[str, str]) -> None:
        """Replace the servers' keys."""

    async def taken_ids(
        self, conversation_ids: Sequence[str], message_ids: Sequence[str]
    ) -> set[str]:
        """Which of these ids a stored conversation or message already has."""

    async def import_conversations(
        self, conversations: Sequence[tuple[Conversation, Sequence[Message]]]
    ) -> None:
        """Add whole conversations with their messages (lanes set), all in one transaction:
        nothing is written unless everything is; an id already taken refuses the lot."""


class Clock(Protocol):
    def monotonic_ms(self) -> float:
        """Milliseconds from an arbitrary origin, for durations."""

    def wall_ms(self) -> int:
        """Milliseconds since the Unix epoch, for timestamps users see."""


class Ids(Protocol):
    def new_id(self) -> str: ...


class PickedFile(Protocol):
    """A file the user chose (the `import` input), not read yet."""

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int:
        """Its size in bytes, known before reading it."""

    async def read_text(self) -> str:
        """Its content as text (UTF-8); OSError when the browser cannot read it."""


class Downloads(Protocol):
    """Files the app hands to the user (exports)."""

    def save(self, filename: str, media_type: str, text: str) -> None: ...
