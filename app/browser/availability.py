"""Which catalog models can be loaded right now, found without downloading any of them.

A local model is usable when its config and the weights for this device answer a HEAD request
on our own site. A hub model is usable when transformers.js has it in its Cache Storage; the
hub itself is never contacted here, so resolving a preset sends nothing off the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import js
from pyodide.ffi import JsException

from app.core.catalog import ModelEntry

from .interop import is_nullish, js_value

TRANSFORMERS_CACHE = "transformers-cache"
HUB = "https://huggingface.co/"


class BrowserAvailability:
    def __init__(self, models_url: str, weights_file: Callable[[ModelEntry], str]) -> None:
        """`models_url`: absolute URL of the folder local models sit in (ends with /)."""
        self._models_url = models_url
        self._weights_file = weights_file

    async def usable(self, entries: Sequence[ModelEntry]) -> set[str]:
        found: set[str] = set()
        cache = await self._hub_cache()
        for entry in entries:
            files = ["config.json", f"onnx/{self._weights_file(entry)}"]
            if entry.source == "local":
                ok = all([await self._exists(f"{self._models_url}{entry.id}/{f}") for f in files])
            else:
                ok = cache is not None and all(
                    [await self._cached(cache, f"{HUB}{entry.id}/resolve/main/{f}") for f in files]
                )
            if ok:
                found.add(entry.id)
        return found

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
