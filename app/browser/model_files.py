"""A model's files in this browser: whether transformers.js holds them, fetching them ahead of
use, and removing them.

transformers.js keeps every model file it fetches in its own Cache Storage, and its
`ModelRegistry` says which files a text-generation pipeline loads for a model on a device and
whether they are all cached: that is what "downloaded" means here, nothing guessed. It has no
way to fetch files without also building the model's inference session (which costs the memory
of a loaded model and cannot be stopped), so the download is ours: the files transformers.js
lists, streamed into its cache under the keys it reads them by (model_files_js.py), with
progress per file and a cancel that leaves nothing half-stored. Deleting removes every cached
file of the model, whatever dtype put it there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException

from app.core.catalog import Device, ModelEntry
from app.core.downloads import FileProgress
from app.core.errors import LoadCanceled, ModelLoadError
from app.core.ports import StopSignal

from .interop import OwnedProxy, absolute_url, error_message, js_value, py_value
from .model_files_js import JS
from .transformers import TRANSFORMERS_CACHE, TransformersJs

TASK = "text-generation"


class BrowserModelFiles:
    def __init__(self, transformers: TransformersJs, models_path: str) -> None:
        """`models_path`: the path local models sit under (transformers.js's localModelPath)."""
        self._transformers = transformers
        self._models_path = models_path
        self._js: Any = None

    def _helpers(self) -> Any:
        if self._js is None:
            self._js = run_js(JS)
        return self._js

    async def downloaded(self, entry: ModelEntry, device: Device, dtype: str | None) -> bool:
        tjs = (await self._transformers.module()).js_obj
        try:
            found = await tjs.ModelRegistry.is_pipeline_cached(
                TASK, entry.id, js_value(_where(device, dtype))
            )
        except JsException:
            return False  # a cached config naming files it cannot list: not usable offline
        return bool(found)

    async def download(
        self,
        entry: ModelEntry,
        device: Device,
        dtype: str | None,
        on_progress: Callable[[Sequence[FileProgress]], None],
        cancel: StopSignal,
    ) -> None:
        controller = js.AbortController.new()
        unsubscribe = cancel.on_stop(lambda: controller.abort())
        try:
            names = await self._files(entry, device, dtype)
            progress = [FileProgress(name, 0, None) for name in names]
            on_progress(progress)

            def report(index: int, loaded: float, total: Any) -> None:
                size = None if total is None else int(total)
                progress[int(index)] = FileProgress(names[int(index)], int(loaded), size)
                on_progress(progress)

            items = [{"name": n, "url": self._url(entry, n), "key": self._url(entry, n)}
                     for n in names]  # fmt: skip
            with OwnedProxy(report) as callback:
                try:
                    await self._helpers().download(
                        TRANSFORMERS_CACHE, js_value(items), controller.signal, callback
                    )
                except JsException as exc:
                    await self._forget(exc)
                    if cancel.stopped:
                        raise LoadCanceled(entry.id) from exc
                    raise _download_error(entry, exc) from exc
        finally:
            unsubscribe()

    async def delete(self, entry: ModelEntry, device: Device, dtype: str | None) -> None:
        prefix = self._url(entry, "")
        try:
            await self._helpers().removePrefixed(TRANSFORMERS_CACHE, js_value([prefix]))
        except JsException as exc:
            raise ModelLoadError(entry.id, error_message(exc)) from exc

    async def _files(self, entry: ModelEntry, device: Device, dtype: str | None) -> list[str]:
        """The files transformers.js's pipeline would load (it reads the config to say)."""
        try:
            async with self._transformers.for_source(entry.source) as tjs:
                files = await tjs.ModelRegistry.get_pipeline_files(
                    TASK, entry.id, js_value(_where(device, dtype))
                )
        except JsException as exc:
            raise _download_error(entry, exc) from exc
        return [str(f) for f in py_value(files)]

    def _url(self, entry: ModelEntry, name: str) -> str:
        """Where transformers.js fetches a file from, which is also its cache key."""
        if entry.source == "hub":
            return f"https://huggingface.co/{entry.id}/resolve/main/{name}"
        return absolute_url(f"{self._models_path}{entry.id}/{name}")

    async def _forget(self, exc: JsException) -> None:
        """Remove the files a failed or canceled download had already stored."""
        put = getattr(getattr(exc, "js_error", None), "put", None)
        if put is not None:
            with contextlib.suppress(JsException):
                await self._helpers().remove(TRANSFORMERS_CACHE, put)


def _where(device: Device, dtype: str | None) -> dict[str, Any]:
    return {"device": device, **({"dtype": dtype} if dtype else {})}


def _download_error(entry: ModelEntry, exc: JsException) -> ModelLoadError:
    js_error: Any = getattr(exc, "js_error", None)
    name = str(getattr(js_error, "name", "") or "")
    status = getattr(js_error, "status", None)
    file = getattr(js_error, "file", None)
    file_name = None if file is None else str(file)
    where = "the Hugging Face hub" if entry.source == "hub" else "this site"
    if name == "QuotaExceededError":
        reason = "the browser has no room left for it (free some space, or delete a model)"
    elif name == "NetworkError" or error_message(exc) in ("Failed to fetch", "Load failed"):
        reason = f"{where} could not be reached (offline?)"
    elif status in (401, 403):
        reason = f"{where} refused it (HTTP {status}): a private or gated model"
    elif status == 404:
        reason = f"{file_name or 'a file'} is missing on {where} (HTTP 404)"
    else:
        reason = error_message(exc)
    return ModelLoadError(entry.id, reason, file_name)
