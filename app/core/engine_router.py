"""One Engine made of two: models of OpenAI-compatible servers (`source: "openai"`) go to the
remote engine, every other model to the one that runs in the browser.

The loader, the chat and the settings see a single engine, so a remote model has the same
lifecycle, queue and per-reply record as a local one. A loaded model goes back to the engine
that loaded it: a remote one is known by its handle (`RemoteModel`), so nothing is remembered
here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .catalog import Device, ModelEntry
from .endpoints import RemoteModel
from .ports import ChatTurn, Engine, GenerationStats, LoadedModel, LoadProgress, StopSignal


class EngineRouter:
    def __init__(self, local: Engine, remote: Engine) -> None:
        self._local = local
        self._remote = remote

    @property
    def runs_in(self) -> str:
        """Where the browser's engine runs (the page's attributes describe that one)."""
        return self._local.runs_in

    @property
    def threads(self) -> int:
        return self._local.threads

    def _of(self, model: LoadedModel) -> Engine:
        return self._remote if isinstance(model.handle, RemoteModel) else self._local

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel:
        engine = self._remote if entry.remote else self._local
        return await engine.load(entry, dtype, device, on_progress)

    async def warm_up(self, model: LoadedModel) -> None:
        await self._of(model).warm_up(model)

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        return await self._of(model).generate(model, turns, options, on_text, stop)

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        return await self._of(model).count_tokens(model, texts)

    async def dispose(self, model: LoadedModel) -> None:
        await self._of(model).dispose(model)
