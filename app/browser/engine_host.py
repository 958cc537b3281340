"""The engine worker's Python: the page's requests in, the engine's answers out.

app/engine_worker.js starts a second Pyodide in a Web Worker, writes the page's own copy of
the app's modules into it and calls `start`. From then on every message from the page is a
request of app/core/engine_protocol.py, served here by the same `TransformersJsEngine` the page
would run, with onnxruntime-web in this worker too (no proxy worker): a decoding step's
tensors, the KV cache included, never leave this thread; only text goes back to the page.

Requests are served concurrently (a `Stop` must reach a generation while it runs, a token
count may arrive during a load), each in its own task, each answered exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js

from app.core.catalog import ModelEntry
from app.core.engine_protocol import (
    Configure,
    CountTokens,
    Dispose,
    Done,
    Failed,
    Generate,
    Load,
    Progress,
    Reply,
    Request,
    Stop,
    Text,
    WarmUp,
    decode_request,
    encode,
    failure,
    model_value,
    stats_value,
)
from app.core.errors import GenerationError
from app.core.ports import LoadedModel, LoadProgress, StopSignal

from .engine import TransformersJsEngine
from .interop import OwnedProxy, js_value, py_value
from .transformers import TransformersJs


class EngineHost:
    def __init__(self, post: Callable[[Reply], None]) -> None:
        self._post = post
        self._engine: TransformersJsEngine | None = None
        self._models: dict[str, LoadedModel] = {}
        self._stops: dict[int, StopSignal] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_key = 0

    def receive(self, data: Any) -> None:
        request = decode_request(py_value(data))
        if isinstance(request, Stop):
            if (signal := self._stops.get(request.target)) is not None:
                signal.stop()
            return
        if isinstance(request, Generate):  # registered now: a Stop may follow at once
            self._stops[request.id] = StopSignal()
        task = asyncio.ensure_future(self._serve(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, request: Request) -> None:
        model = getattr(request, "model", "") or getattr(request, "model_id", "")
        try:
            value = await self._answer(request)
        except Exception as exc:  # every request is answered, whatever went wrong
            loaded = self._models.get(model)
            self._post(failure(request.id, exc, loaded.id if loaded else model))
        else:
            self._post(Done(request.id, value))
        finally:
            self._stops.pop(request.id, None)

    async def _answer(self, request: Request) -> Any:
        if isinstance(request, Configure):
            self._configure(request)
            return None
        engine = self._engine
        if engine is None:
            raise RuntimeError("the engine worker was not configured")
        if isinstance(request, Load):
            return await self._load(engine, request)
        if isinstance(request, Stop):  # answered by `receive`, never served
            return None
        model = self._model(request)
        if isinstance(request, WarmUp):
            await engine.warm_up(model)
            return None
        if isinstance(request, Generate):
            stats = await engine.generate(
                model,
                request.turns,
                request.options,
                lambda text: self._post(Text(request.id, text)),
                self._stops[request.id],
            )
            return stats_value(stats)
        if isinstance(request, CountTokens):
            return await engine.count_tokens(model, request.texts)
        if isinstance(request, Dispose):
            del self._models[request.model]
            await engine.dispose(model)
            return None
        raise TypeError(f"no handler for {type(request).__name__}")

    def _configure(self, request: Configure) -> None:
        transformers = TransformersJs(
            models_path=request.models_path,
            preferred_device=request.device,
            urls=(request.transformers_url, dict(request.ort_files)),
            threads=request.threads,
        )
        self._engine = TransformersJsEngine(
            transformers, keep_cache=request.keep_cache, runs_in="worker"
        )
        self._engine.start_import()

    async def _load(self, engine: TransformersJsEngine, request: Load) -> Any:
        entry = ModelEntry(id=request.model_id, label=request.model_id, source=request.source)  # type: ignore[arg-type]

        def progress(step: LoadProgress) -> None:
            self._post(Progress(request.id, step.phase, step.loaded_bytes, step.total_bytes))

        loaded = await engine.load(entry, request.dtype, request.device, progress)
        yield_each_step(loaded)
        self._next_key += 1
        key = f"m{self._next_key}"
        self._models[key] = loaded
        return model_value(loaded, key)

    def _model(self, request: WarmUp | Generate | CountTokens | Dispose) -> LoadedModel:
        model = self._models.get(request.model)
        if model is None:
            raise GenerationError(request.model, "the model is no longer loaded in the engine")
        return model


def yield_each_step(loaded: LoadedModel) -> None:
    """Let a Stop reach the model between two decoding steps (app/engine_worker.js says why)."""
    pipe = getattr(loaded.handle, "_js_obj", loaded.handle)
    js.parlanceEngine.yieldEachStep(pipe.model)


_owner: list[Any] = []  # the message listener's proxy lives as long as the worker


def start() -> None:
    """Serve the page's requests: called once by app/engine_worker.js."""

    def post(reply: Reply) -> None:
        js.postMessage(js_value(encode(reply)))

    host = EngineHost(post)
    listener = OwnedProxy(host.receive)
    _owner.append(listener)
    js.parlanceEngine.serve(listener.proxy)


__all__ = ["EngineHost", "Failed", "start"]
