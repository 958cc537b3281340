"""The page's engine: transformers.js running in a Web Worker, driven from here.

Every decoding step runs in the engine worker (app/engine_worker.js starts a Pyodide there and
app/browser/engine_host.py serves requests with the same `TransformersJsEngine` the page used
to run). Only text crosses threads: the page stays live while a reply streams, and no step's
tensors are copied between threads, as onnxruntime-web's proxy worker does.

Why a worker of our own rather than PyScript's `worker`: a PyScript worker can call back into
the page (stream text, report progress) only through SharedArrayBuffer, that is only on a
cross-origin isolated page, and a static host or a first, uncontrolled visit is not one. Plain
`postMessage` works everywhere; the worker still runs the app's own Python, sent over from the
page's file system so that both sides are always the same version.

The worker starts with the first request (after the page is ready), so it never slows start-up.
If it dies (out of memory, a crash in wasm), every request in flight fails with a clear error,
and the next request starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import js

from app.core.catalog import Device, ModelEntry
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
    decode_reply,
    encode,
    error_for,
    generation_stats,
    load_request,
    loaded_model,
    thread_count,
)
from app.core.errors import GenerationError, ModelLoadError, ParlanceError
from app.core.ports import ChatTurn, GenerationStats, LoadedModel, LoadProgress, StopSignal

from .interop import OwnedProxy, absolute_url, js_value, py_value
from .transformers import TRANSFORMERS_URL, resolved_ort_files

WORKER_URL = "app/engine_worker.js"
# The transformers-js-py wheel the worker installs (the page's pyscript.toml lists the same).
TRANSFORMERS_JS_PY_WHEEL = "vendor/wheels/transformers_js_py-0.19.10-py3-none-any.whl"
# The app's modules the worker needs: core (the protocol, the engine's types) and the engine.
WORKER_MODULES = (
    "app/__init__.py",
    "app/browser/__init__.py",
    "app/browser/engine.py",
    "app/browser/engine_host.py",
    "app/browser/interop.py",
    "app/browser/kv_cache.py",
    "app/browser/sampling.py",
    "app/browser/transformers.py",
)
WORKER_PACKAGES = ("app/core",)


def wasm_threads(asked: int | None) -> int:
    """How many wasm threads onnxruntime gets here (engine_protocol.thread_count)."""
    return thread_count(
        isolated=bool(getattr(js, "crossOriginIsolated", False)),
        cores=int(getattr(js.navigator, "hardwareConcurrency", 1) or 1),
        asked=asked,
    )


def worker_files() -> dict[str, str | bytes]:
    """The page's own copy of the modules the worker runs (path -> source), with their byte
    code where the page has it (vendor/app.zip): the worker need not compile them."""
    paths = list(WORKER_MODULES)
    for package in WORKER_PACKAGES:
        paths += sorted(f"{package}/{name}" for name in os.listdir(package) if name.endswith(".py"))
    files: dict[str, str | bytes] = {}
    for path in paths:
        with open(path, encoding="utf-8") as source:
            files[path] = source.read()
        compiled = importlib.util.cache_from_source(path)
        if os.path.isfile(compiled):
            with open(compiled, "rb") as code:
                files[compiled] = code.read()
    return files


@dataclass
class _Call:
    """A request in flight: its answer, and where its streamed parts go."""

    request: Request
    model_id: str
    answer: asyncio.Future[Any]
    on_progress: Callable[[LoadProgress], None] | None = None
    on_text: Callable[[str], None] | None = None


class WorkerEngine:
    """The Engine port, answered by the engine worker."""

    def __init__(
        self,
        *,
        models_path: str,
        preferred_device: Device,
        keep_cache: bool = True,
        threads: int | None = None,
    ) -> None:
        self._models_path = models_path
        self._asked_threads = threads
        self._device = preferred_device
        self._keep_cache = keep_cache
        self._worker: Any = None
        self._listeners: list[OwnedProxy] = []
        self._calls: dict[int, _Call] = {}
        self._next_id = 0
        self.runs_in = "worker"
        self.threads = 1  # known once the worker starts (see wasm_threads)

    # -- Engine port ----------------------------------------------------------------------

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel:
        request = load_request(self._new_id(), entry, dtype, device)
        value = await self._call(request, entry.id, on_progress=on_progress)
        return loaded_model(value)

    async def warm_up(self, model: LoadedModel) -> None:
        await self._call(WarmUp(self._new_id(), model.handle), model.id)

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        if stop.stopped:  # stopped before it began: nothing to run
            return GenerationStats(tokens=0, stopped=True)
        request = Generate(self._new_id(), model.handle, tuple(turns), dict(options))
        unsubscribe = stop.on_stop(lambda: self._send(Stop(self._new_id(), request.id)))
        try:
            value = await self._call(request, model.id, on_text=on_text)
        finally:
            unsubscribe()
        return generation_stats(value)

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        value = await self._call(CountTokens(self._new_id(), model.handle, tuple(texts)), model.id)
        return [int(n) for n in value]

    async def dispose(self, model: LoadedModel) -> None:
        if self._worker is None:  # the worker that held it is gone, and its memory with it
            return
        # A model that is already gone has nothing left to free.
        with contextlib.suppress(ParlanceError):
            await self._call(Dispose(self._new_id(), model.handle), model.id)

    # -- the worker -----------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _call(
        self,
        request: Request,
        model_id: str,
        *,
        on_progress: Callable[[LoadProgress], None] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Any:
        self._ensure_worker()
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[request.id] = _Call(request, model_id, answer, on_progress, on_text)
        try:
            self._send(request)
            return await answer
        finally:
            self._calls.pop(request.id, None)

    def _send(self, request: Request) -> None:
        if self._worker is not None:
            self._worker.postMessage(js_value(encode(request)))

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        worker = js.Worker.new(absolute_url(WORKER_URL), js_value({"type": "module"}))
        on_message = OwnedProxy(self._on_message)
        on_error = OwnedProxy(self._on_error)
        worker.addEventListener("message", on_message.proxy)
        worker.addEventListener("error", on_error.proxy)
        self._worker, self._listeners = worker, [on_message, on_error]
        self.threads = wasm_threads(self._asked_threads)
        worker.postMessage(
            js_value(
                {
                    "kind": "boot",
                    "files": worker_files(),
                    "wheels": [absolute_url(TRANSFORMERS_JS_PY_WHEEL)],
                }
            )
        )
        self._send(
            Configure(
                self._new_id(),
                absolute_url(TRANSFORMERS_URL),
                resolved_ort_files(),
                self._models_path,
                self._device,
                self.threads,
                self._keep_cache,
            )
        )

    def _on_message(self, event: Any) -> None:
        data = py_value(event.data)
        if data.get("kind") == "fatal":  # app/engine_worker.js could not start Python
            self._worker_died(str(data.get("reason", "")))
        else:
            self._receive(decode_reply(data))

    def _on_error(self, event: Any) -> None:
        # An ErrorEvent has a message; a module worker that fails to load sends a plain Event.
        message = getattr(event, "message", None)
        self._worker_died(message if isinstance(message, str) else "")

    def _receive(self, reply: Reply) -> None:
        call = self._calls.get(reply.id)
        if call is None:
            return  # the answer to a request nobody waits for (Configure), or after a death
        if isinstance(reply, Progress) and call.on_progress is not None:
            call.on_progress(LoadProgress(reply.phase, reply.loaded_bytes, reply.total_bytes))
        elif isinstance(reply, Text) and call.on_text is not None:
            call.on_text(reply.text)
        elif isinstance(reply, Done) and not call.answer.done():
            call.answer.set_result(reply.value)
        elif isinstance(reply, Failed) and not call.answer.done():
            call.answer.set_exception(error_for(reply, call.model_id))

    def _worker_died(self, reason: str) -> None:
        """The worker failed to start or crashed: fail what waits on it, start anew next time."""
        with_reason = f"the engine stopped ({reason or 'its worker failed to run'})"
        for call in list(self._calls.values()):
            if not call.answer.done():
                error: ParlanceError = (
                    ModelLoadError(call.model_id, with_reason)
                    if isinstance(call.request, Load)
                    else GenerationError(call.model_id, with_reason)
                )
                call.answer.set_exception(error)
        worker, listeners = self._worker, self._listeners
        self._worker, self._listeners = None, []
        # Not from inside the listener that is running: end the worker on the next turn.
        asyncio.get_running_loop().call_soon(_terminate, worker, listeners)


def _terminate(worker: Any, listeners: list[OwnedProxy]) -> None:
    if worker is not None:
        worker.terminate()
    for listener in listeners:
        listener.destroy()


__all__ = ["WorkerEngine", "wasm_threads"]
