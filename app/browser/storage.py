"""This site's storage as the browser sees it: used and quota bytes, and whether the browser
keeps it when the disk runs low (`navigator.storage`). Browsers without the API report nothing,
and the model manager then shows no figures rather than wrong ones."""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import JsException

from app.core.models import StorageEstimate

from .interop import is_nullish


class BrowserStorage:
    def _api(self) -> Any:
        storage = getattr(js.navigator, "storage", None)
        return None if is_nullish(storage) else storage

    async def estimate(self) -> StorageEstimate | None:
        storage = self._api()
        if storage is None:
            return None
        try:
            figures = await storage.estimate()
            persisted = bool(await storage.persisted())
        except JsException:
            return None
        return StorageEstimate(int(figures.usage or 0), int(figures.quota or 0), persisted)

    async def persist(self) -> bool:
        storage = self._api()
        if storage is None:
            return False
        try:
            return bool(await storage.persist())
        except JsException:
            return False
