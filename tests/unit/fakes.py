"""Small hand-written fakes of the ports, for CPython tests of core."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.core.catalog import Catalog, Device, ModelEntry
from app.core.chat import Chat
from app.core.errors import GenerationError, ModelLoadError
from app.core.events import Event
from app.core.loader import ModelLoader
from app.core.memory import (
    CountingIds,
    LocalBroadcast,
    LocalTurnLocks,
    ManualClock,
    MemoryStore,
)
from app.core.ports import ChatTurn, GenerationStats, LoadedModel, LoadProgress, StopSignal
from app.core.targets import ModelChoice


class FakeEngine:
    """Loads succeed (or fail) on command; replies are scripted per model, word by word."""

    runs_in = "worker"
    threads = 2

    def __init__(self, replies: Mapping[str, str] | None = None) -> None:
        self.replies = dict(replies or {})
        self.loads: list[str] = []
        self.disposed: list[str] = []
        self.generated: list[tuple[str, list[ChatTurn]]] = []
        self.fail_load: dict[str, str] = {}
        self.fail_generate: str | None = None
        self.gates: dict[str, asyncio.Event] = {}
        self.chunk_pause: asyncio.Event | None = None
        # The window every loaded model reports (None: unknown, nothing is trimmed).
        self.context_tokens: int | None = None
        self.counted: list[str] = []
        self.options: list[Mapping[str, Any]] = []

    def gate(self, model_id: str) -> asyncio.Event:
        """Make loads of `model_id` wait until the returned event is set."""
        self.gates[model_id] = asyncio.Event()
        return self.gates[model_id]

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel:
        self.loads.append(entry.id)
        on_progress(LoadProgress("downloading", 50, 100))
        if entry.id in self.gates:
            await self.gates[entry.id].wait()
        if entry.id in self.fail_load:
            raise ModelLoadError(entry.id, self.fail_load[entry.id])
        on_progress(LoadProgress("downloading", 100, 100))
        return LoadedModel(
            entry.id, dtype, device, handle=object(), context_tokens=self.context_tokens
        )

    async def warm_up(self, model: LoadedModel) -> None:
        await asyncio.sleep(0)

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        if stop.stopped:
            return GenerationStats(tokens=0, stopped=True)
        self.generated.append((model.id, list(turns)))
        self.options.append(dict(options))
        if self.fail_generate:
            raise GenerationError(model.id, self.fail_generate)
        words = self.replies.get(model.id, f"reply from {model.id}").split(" ")
        tokens = 0
        for i, word in enumerate(words):
            if stop.stopped:
                break
            on_text(word if i == 0 else " " + word)
            tokens += 1
            if self.chunk_pause is not None:
                await self.chunk_pause.wait()
            await asyncio.sleep(0)
        return GenerationStats(tokens=tokens, stopped=stop.stopped)

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        """One token per word: easy to reason about in tests."""
        self.counted.extend(texts)
        return [len(text.split()) for text in texts]

    async def dispose(self, model: LoadedModel) -> None:
        self.disposed.append(model.id)


class Recorder:
    """An EventSink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class ChatHarness:
    """A Chat wired to the fakes: a scripted engine, a memory store, a recorder of events."""

    def __init__(
        self,
        catalog: Catalog,
        replies: Mapping[str, str],
        choice: ModelChoice | None = None,
        *,
        store: MemoryStore | None = None,
        locks: LocalTurnLocks | None = None,
        hub: LocalBroadcast | None = None,
        tab: str = "id",
    ) -> None:
        """`store`, `locks` and `hub` shared between harnesses make them tabs of one browser."""
        self.engine = FakeEngine(replies)
        self.store = store or MemoryStore()
        self.events = Recorder()
        self.clock = ManualClock(step_ms=5)
        loader = ModelLoader(self.engine, self.events, preferred_device="wasm")
        broadcast = (hub or LocalBroadcast()).tab()
        self.chat = Chat(
            catalog=catalog,
            store=self.store,
            loader=loader,
            engine=self.engine,
            clock=self.clock,
            ids=CountingIds(tab),
            emit=self.events,
            choice=choice,
            locks=locks or LocalTurnLocks(),
            broadcast=broadcast,
        )
        broadcast.listener = self.chat.on_news
        self.tab = broadcast

    async def first_exchange(self, text: str = "hi") -> str:
        """A new chat with one question and its reply; returns the conversation's id."""
        await self.chat.open_new()
        await self.chat.send(text)
        assert self.chat.conversation is not None
        return self.chat.conversation.id
