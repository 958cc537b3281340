"""Which catalog models can be loaded right now, found without downloading any of them.

A local model of the site's own `models/` folder is usable when the manifest written at build
time (`vendor/local-models.json`, see app/core/local_models.py) lists its weights for this
device: one same-origin request at start, and none for a model that is not built. Local models
of a catalog elsewhere (`?catalog=...`), or of a site served without the manifest, are found by
HEAD requests for their config and weights. A hub model is usable when transformers.js has it
in its Cache Storage; the hub itself is never contacted here, so resolving a preset sends
nothing off the machine. A model of an OpenAI-compatible server has no files: it counts as
usable, and its server is contacted only when a chat uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import js
from pyodide.ffi import JsException

from app.core.catalog import ModelEntry
from app.core.local_models import (
    MANIFEST_URL,
    MODELS_FOLDER,
    LocalModels,
    ManifestError,
    parse_manifest,
)

from .interop import absolute_url, is_nullish, js_console_error, js_value

TRANSFORMERS_CACHE = "transformers-cache"
HUB = "https://huggingface.co/"


class BrowserAvailability:
    def __init__(self, models_url: str, weights_file: Callable[[ModelEntry], str]) -> None:
        """`models_url`: absolute URL of the folder local models sit in (ends with /)."""
        self._models_url = models_url
        self._weights_file = weights_file
        self._manifest: asyncio.Future[LocalModels | None] | None = None

    async def usable(self, entries: Sequence[ModelEntry]) -> set[str]:
        found: set[str] = set()
        cache = await self._hub_cache()
        local = await self._local_models() if any(e.source == "local" for e in entries) else None
        for entry in entries:
            if entry.remote:
                # A server's model needs no files here; whether its server answers is the
                # load's to find out (app/browser/openai_engine.py), when it is used.
                found.add(entry.id)
                continue
            weights = self._weights_file(entry)
            files = ["config.json", f"onnx/{weights}"]
            if entry.source == "local" and local is not None:
                ok = local.has_weights(entry.id, weights)
            elif entry.source == "local":
                ok = all([await self._exists(f"{self._models_url}{entry.id}/{f}") for f in files])
            else:
                ok = cache is not None and all(
                    [await self._cached(cache, f"{HUB}{entry.id}/resolve/main/{f}") for f in files]
                )
            if ok:
                found.add(entry.id)
        return found

    async def _local_models(self) -> LocalModels | None:
        """The build-time manifest (read once) when local models come from the folder it lists."""
        if self._models_url != absolute_url(MODELS_FOLDER):
            return None
        if self._manifest is None:
            self._manifest = asyncio.ensure_future(self._read_manifest())
        return await self._manifest

    async def _read_manifest(self) -> LocalModels | None:
        url = absolute_url(MANIFEST_URL)
        try:
            response = await js.fetch(url, js_value({"cache": "no-cache"}))
            if not response.ok:
                return None  # served without `make run`'s vendoring: ask the server instead
            raw = (await response.json()).to_py()
        except JsException:
            return None
        try:
            return parse_manifest(raw)
        except ManifestError as exc:
            js_console_error(f"Parlance: {url} is unusable ({exc}); probing model files instead")
            return None

    async def _exists(self, url: str) -> bool:
        try:
            response = await js.fetch(url, js_value({"method": "HEAD", "cache": "no-store"}))
        except JsException:
            return False
        return bool(response.ok)

    async def _hub_cache(self) -> Any:
        caches: Any = getattr(js, "caches", None)
        if is_nullish(caches):
            return None  # no Cache Storage (an insecure context): nothing is cached
        try:
            return await caches.open(TRANSFORMERS_CACHE)
        except JsException:
            return None

    async def _cached(self, cache: Any, url: str) -> bool:
        try:
            return not is_nullish(await cache.match(url))
        except JsException:
            return False
