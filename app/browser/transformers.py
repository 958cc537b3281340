"""transformers.js itself: imported once from our vendored copy, and its global settings.

The engine (loading and running models) and the model manager (its cache, the hub's answers)
share one transformers.js module. Where it looks for a model's files is global state
(`env.allowLocalModels`, `env.allowRemoteModels`): a local model is read only from this site,
a hub model only from the hub (never looked for here, which answers 404). `for_source` sets
those for one source and holds them while the caller works, so a hub lookup in the model
manager cannot switch the hub off under a local model that is loading, or the reverse.
Reading transformers.js's cache needs neither: it never waits on this.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.catalog import Device, Source

from .interop import absolute_url, js_value

TRANSFORMERS_URL = "vendor/transformers/transformers.min.js"
ORT_FILES = {
    "mjs": "vendor/ort/ort-wasm-simd-threaded.asyncify.mjs",
    "wasm": "vendor/ort/ort-wasm-simd-threaded.asyncify.wasm",
}
# transformers.js's Cache Storage (env.cacheKey): where it keeps every model file it fetched.
TRANSFORMERS_CACHE = "transformers-cache"


class TransformersJs:
    """transformers.js in this JavaScript realm: the page's, or the engine worker's.

    In the page, URLs are resolved against the page and onnxruntime-web runs wasm in its proxy
    worker. In the engine worker (`urls` given: the page resolved them, a worker has no
    document), onnxruntime runs right there, with `threads` wasm threads.
    """

    def __init__(
        self,
        *,
        models_path: str,
        preferred_device: Device,
        urls: tuple[str, dict[str, str]] | None = None,
        threads: int = 1,
    ) -> None:
        self._models_path = models_path
        self._preferred = preferred_device
        self._urls = urls or (absolute_url(TRANSFORMERS_URL), resolved_ort_files())
        self._in_worker = urls is not None
        self._threads = threads
        self._module: asyncio.Future[Any] | None = None
        self._sources = asyncio.Lock()

    def start_import(self) -> None:
        """Begin importing transformers.js in the background."""
        if self._module is None:
            self._module = asyncio.ensure_future(self._import())

    async def module(self) -> Any:
        """The transformers-js-py wrapper of the module (`.js_obj` is the raw JS module)."""
        self.start_import()
        assert self._module is not None
        return await self._module

    async def _import(self) -> Any:
        from transformers_js_py import import_transformers_js

        transformers_url, ort_files = self._urls
        # An absolute URL: transformers-js-py turns a relative one into a CDN address.
        tjs = await import_transformers_js(transformers_url)
        env = tjs.js_obj.env
        env.allowLocalModels = True  # import_transformers_js switches it off
        env.allowRemoteModels = False
        env.localModelPath = self._models_path
        # onnxruntime-web's default wasm location is a CDN: point it at our copies.
        # (transformers-js-py hands env.backends back as a copied dict; write through JS.)
        wasm = env.backends.onnx.wasm
        wasm.wasmPaths = js_value(ort_files)
        if self._in_worker:
            # This worker is the engine's thread: no proxy worker to copy tensors to and from.
            # More than one thread needs SharedArrayBuffer (a cross-origin isolated page);
            # onnxruntime's own default would take half the cores, one on a 2-core machine.
            wasm.proxy = False
            wasm.numThreads = self._threads
        else:
            wasm.proxy = self._preferred == "wasm"
        # transformers.js 4.3 would copy onnxruntime's wasm loader into Cache Storage and import
        # it from a blob: URL; the page's CSP allows scripts from its own origin only.
        env.useWasmCache = False
        return tjs

    @property
    def threads(self) -> int:
        return self._threads

    @asynccontextmanager
    async def for_source(self, source: Source) -> AsyncIterator[Any]:
        """The raw JS module, set to fetch model files from `source` only, until the block ends."""
        tjs = await self.module()
        async with self._sources:
            env = tjs.js_obj.env
            env.allowRemoteModels = source == "hub"
            env.allowLocalModels = source == "local"
            yield tjs.js_obj


def resolved_ort_files() -> dict[str, str]:
    """onnxruntime-web's loader and wasm, as absolute URLs of this site."""
    return {k: absolute_url(v) for k, v in ORT_FILES.items()}
