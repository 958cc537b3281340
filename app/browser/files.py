"""Files in and out of the page: the file picked for an import, and exports handed to the
browser's downloads (core's `PickedFile` and `Downloads` ports).

A picked file is only wrapped: its size is known at once and core refuses a file that is too
big before anything reads it. An export becomes a Blob behind an object URL that a temporary
link downloads; the URL is revoked shortly after, so the text does not stay in memory for the
page's lifetime.
"""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import JsException, create_once_callable

from .interop import error_message, is_nullish, js_value

# Chromium resolves a blob URL when the click starts the download, so revoking at once would
# do there; the delay is a margin for browsers that resolve it later.
REVOKE_AFTER_MS = 1000


class BrowserFile:
    """A JS `File` from an `<input type=file>`, unread."""

    def __init__(self, file: Any) -> None:
        self._file = file

    @property
    def name(self) -> str:
        return str(self._file.name)

    @property
    def size(self) -> int:
        return int(self._file.size)

    async def read_text(self) -> str:
        try:
            return str(await self._file.text())
        except JsException as exc:
            raise OSError(error_message(exc)) from exc


def picked_file(input_element: Any) -> BrowserFile | None:
    """The file chosen in an `<input type=file>`, if any."""
    files = input_element.files
    if is_nullish(files) or files.length == 0:
        return None
    return BrowserFile(files.item(0))


class BrowserDownloads:
    def save(self, filename: str, media_type: str, text: str) -> None:
        try:
            blob = js.Blob.new(js_value([text]), js_value({"type": f"{media_type};charset=utf-8"}))
            url = js.URL.createObjectURL(blob)
        except JsException as exc:
            raise OSError(f"The browser could not make the file ({error_message(exc)}).") from exc
        link = js.document.createElement("a")
        link.href = url
        link.download = filename
        link.hidden = True
        js.document.body.appendChild(link)
        link.click()
        link.remove()
        js.setTimeout(create_once_callable(lambda: js.URL.revokeObjectURL(url)), REVOKE_AFTER_MS)
