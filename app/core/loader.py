"""Model lifecycle and the single-concurrency load queue.

Loads run one at a time. A request for a model that is already queued or loading awaits that
same load (the in-flight load is kept, not just the finished one). A newer request supersedes
older ones: a queued load ends Canceled without touching the network, and a running one (which
transformers.js cannot abort) is disposed and ends Canceled as soon as it finishes. A model that
finishes loading and is still wanted becomes the resident one and the previous resident is
disposed, so one model is in memory at a time. Every step is reported as a
`ModelStatusChanged` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from .catalog import HALF_PRECISION_DTYPES, Device, ModelEntry
from .errors import LoadCanceled, ModelLoadError, ParlanceError
from .events import EngineChanged, EventSink, ModelStatusChanged
from .ports import Engine, LoadedModel, LoadProgress


@dataclass(frozen=True)
class Placement:
    device: Device
    dtype: str | None


def place(entry: ModelEntry, preferred: Device, has_shader_f16: bool) -> Placement:
    """Where a model runs: the preferred device unless its dtype there needs what it lacks.

    WebGPU without `shader-f16` cannot run fp16 or q4f16 weights; such a model falls back to
    wasm with the dtype the catalog gives for wasm.
    """
    dtype = entry.dtype_for(preferred)
    if preferred == "webgpu" and dtype in HALF_PRECISION_DTYPES and not has_shader_f16:
        return Placement("wasm", entry.dtype_for("wasm"))
    return Placement(preferred, dtype)


class ModelLoader:
    def __init__(
        self,
        engine: Engine,
        emit: EventSink,
        *,
        preferred_device: Device,
        has_shader_f16: bool = False,
    ) -> None:
        self._engine = engine
        self._emit = emit
        self._preferred = preferred_device
        self._has_f16 = has_shader_f16
        self._resident: LoadedModel | None = None
        self._pending: dict[str, asyncio.Future[LoadedModel]] = {}
        self._lock = asyncio.Lock()
        self._latest: str | None = None
        self._loads_started = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def resident(self) -> LoadedModel | None:
        return self._resident

    @property
    def loads_started(self) -> int:
        return self._loads_started

    @property
    def device(self) -> Device:
        return self._resident.device if self._resident else self._preferred

    def placement(self, entry: ModelEntry) -> Placement:
        return place(entry, self._preferred, self._has_f16)

    async def request(self, entry: ModelEntry) -> LoadedModel:
        """The loaded model for `entry`, loading it (after any load ahead of it) if needed."""
        self._latest = entry.id
        if entry.id not in self._pending:
            if self._resident is not None and self._resident.id == entry.id:
                self._emit(ModelStatusChanged(entry.id, "ready"))
                return self._resident
            future: asyncio.Future[LoadedModel] = asyncio.get_running_loop().create_future()
            self._pending[entry.id] = future
            self._emit(ModelStatusChanged(entry.id, "queued"))
            task = asyncio.ensure_future(self._run(entry, future))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(self._pending[entry.id])

    async def _run(self, entry: ModelEntry, future: asyncio.Future[LoadedModel]) -> None:
        try:
            async with self._lock:
                if self._latest != entry.id:
                    raise LoadCanceled(entry.id)
                if self._resident is not None and self._resident.id == entry.id:
                    loaded = self._resident
                else:
                    loaded = await self._load(entry)
            self._emit(ModelStatusChanged(entry.id, "ready"))
            future.set_result(loaded)
        except LoadCanceled as exc:
            self._emit(ModelStatusChanged(entry.id, "canceled"))
            future.set_exception(exc)
        except ParlanceError as exc:
            self._emit(ModelStatusChanged(entry.id, "failed", reason=exc.reason))
            future.set_exception(exc)
        except Exception as exc:  # an adapter bug must still end the load visibly
            error = ModelLoadError(entry.id, f"{type(exc).__name__}: {exc}")
            self._emit(ModelStatusChanged(entry.id, "failed", reason=error.reason))
            future.set_exception(error)
        finally:
            self._pending.pop(entry.id, None)
            # Nobody may await a canceled load; mark the exception retrieved.
            if future.done() and not future.cancelled():
                future.exception()

    async def _load(self, entry: ModelEntry) -> LoadedModel:
        placement = self.placement(entry)
        self._loads_started += 1
        self._announce_engine()
        self._emit(ModelStatusChanged(entry.id, "downloading"))
        loaded = await self._engine.load(
            entry, placement.dtype, placement.device, self._progress_reporter(entry.id)
        )
        self._emit(ModelStatusChanged(entry.id, "compiling"))
        try:
            await self._engine.warm_up(loaded)
        except BaseException:
            await self._engine.dispose(loaded)
            raise
        if self._latest != entry.id:
            # transformers.js cannot abort a load midway; one nobody wants any more is
            # dropped as soon as it ends rather than holding memory while the next loads.
            await self._engine.dispose(loaded)
            raise LoadCanceled(entry.id)
        previous, self._resident = self._resident, loaded
        if previous is not None:
            await self._engine.dispose(previous)
        self._announce_engine()
        return loaded

    def _progress_reporter(self, model_id: str) -> Callable[[LoadProgress], None]:
        compiling = False

        def report(progress: LoadProgress) -> None:
            # A load only moves forward: transformers.js fetches small files (the generation
            # config) after the weights are done, which must not take the status back to
            # Downloading once it said Preparing.
            nonlocal compiling
            if compiling and progress.phase == "downloading":
                return
            compiling = compiling or progress.phase == "compiling"
            self._emit(
                ModelStatusChanged(
                    model_id,
                    progress.phase,
                    loaded_bytes=progress.loaded_bytes,
                    total_bytes=progress.total_bytes,
                )
            )

        return report

    def _announce_engine(self) -> None:
        self._emit(
            EngineChanged(
                loaded_model=self._resident.id if self._resident else None,
                loads_started=self._loads_started,
                device=self.device,
                runs_in=self._engine.runs_in,
                threads=self._engine.threads,
            )
        )
