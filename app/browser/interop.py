"""The one place where Python values cross into JS and JS errors cross into Python."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import JsException, create_proxy, jsnull, to_js

_QUOTED_URL = re.compile(r'"((?:https?:)?/[^"]+)"')


def js_value(value: Any) -> Any:
    """Convert a Python value for JS: dicts become plain objects, not Maps."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def py_value(value: Any) -> Any:
    """Convert a JS value (possibly a JsProxy) into plain Python data."""
    return value.to_py() if hasattr(value, "to_py") else value


class OwnedProxy:
    """A Python callable exposed to JS, destroyed when its owner is done with it.

    Use as a context manager around the JS call that may invoke it.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.proxy = create_proxy(func)

    def __enter__(self) -> Any:
        return self.proxy

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def destroy(self) -> None:
        if self.proxy is not None:
            self.proxy.destroy()
            self.proxy = None


def error_message(exc: BaseException) -> str:
    """The human part of a JS error: its message without the JS class prefix or stack."""
    if isinstance(exc, JsException):
        js_error = getattr(exc, "js_error", None)
        message = getattr(js_error, "message", None) if js_error is not None else None
        if isinstance(message, str) and message:
            return message
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def failing_file(message: str) -> str | None:
    """The URL a loader error names, if any (transformers.js quotes it)."""
    match = _QUOTED_URL.search(message)
    return match.group(1) if match else None


def absolute_url(relative: str) -> str:
    """Resolve a page-relative URL (works from any sub-path)."""
    return str(js.URL.new(relative, js.document.baseURI).href)


def url_path(relative: str) -> str:
    """The path part of a page-relative URL (transformers.js wants a path for local models)."""
    return str(js.URL.new(relative, js.document.baseURI).pathname)


def is_nullish(value: Any) -> bool:
    """JS null arrives as `jsnull`, undefined as None."""
    return value is None or value is jsnull


def js_console_error(text: str) -> None:
    js.console.error(text)


def query_param(name: str) -> str | None:
    value = js.URLSearchParams.new(js.location.search).get(name)
    return None if is_nullish(value) else str(value)


def same_origin_url(relative: str) -> str | None:
    """The absolute URL of `relative` if it is on the page's own origin (http/https), else None."""
    try:
        url = js.URL.new(relative, js.document.baseURI)
    except JsException:
        return None
    own = js.URL.new(js.document.baseURI)
    if str(url.protocol) not in ("http:", "https:") or str(url.origin) != str(own.origin):
        return None
    return str(url.href)


async def fetch_json(url: str) -> Any:
    """Fetch and decode JSON. OSError when it cannot be fetched, ValueError when it is not
    JSON: JS exceptions never escape to a caller that cannot import pyodide."""
    try:
        response = await js.fetch(url, js_value({"cache": "no-cache"}))
    except JsException as exc:
        raise OSError(f"it could not be fetched ({error_message(exc)})") from exc
    if not response.ok:
        raise OSError(f"the server answered HTTP {response.status}")
    try:
        data = await response.json()
    except JsException as exc:
        raise ValueError(f"it is not valid JSON ({error_message(exc)})") from exc
    return py_value(data)


def storage_problem() -> str | None:
    """What app/boot.js found wrong with IndexedDB before PyScript started, if anything."""
    problem = getattr(js.window, "parlanceStorageProblem", None)
    return None if is_nullish(problem) else str(problem)
