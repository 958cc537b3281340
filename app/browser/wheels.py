"""Wheels the app needs only after start-up, unpacked when the page is idle.

PyScript fetches and unpacks every file of pyscript.toml [files] before the app's first line
runs, and start-up is bound by the main thread's CPU (BENCHMARKS.md). Pygments (a 1.2 MB wheel
of some 800 modules; code highlighting) and fastjsonschema (checking an imported file) serve
nothing on the way to the first screen, so they are not in [files]: `LaterWheels` fetches them
from the same vendored, pinned files (vendor/wheels/, precached by the service worker like the
rest of vendor/, so this works offline) and unpacks them where [files] puts wheels, once the
page is idle after ready, or at once when something needs them first (an import of
conversations awaits `ready()`; a code block rendered before then is shown unhighlighted,
app/core/markdown.py).

tests/unit/test_layout.py checks that every pinned browser wheel is either in [files] or here.
"""

from __future__ import annotations

import asyncio
import importlib

from .interop import js_console_error

# File names under vendor/wheels/ (requirements-browser.txt pins them).
LATER_WHEELS = (
    "pygments-2.21.0-py3-none-any.whl",
    "fastjsonschema-2.22.3-py3-none-any.whl",
)
WHEELS_URL = "./vendor/wheels/"


class LaterWheels:
    def __init__(self, names: tuple[str, ...] = LATER_WHEELS) -> None:
        self._names = names
        self._loading: asyncio.Future[None] | None = None

    def start(self) -> asyncio.Future[None]:
        """Start fetching and unpacking (once); the same load for every caller."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
        return self._loading

    async def ready(self) -> None:
        """Once every later wheel is importable (or has failed to load, which is logged: the
        import that needs it then fails with a clear ModuleNotFoundError)."""
        await asyncio.shield(self.start())

    async def _load(self) -> None:
        for name in self._names:
            try:
                from pyodide.http import pyfetch  # ~40 ms to import: not at start-up

                response = await pyfetch(WHEELS_URL + name)
                if not response.ok:
                    raise OSError(f"HTTP {response.status}")
                # Where PyScript's [files] puts a wheel mapped to "./*": the working directory,
                # which is on sys.path.
                await response.unpack_archive(extract_dir=".", format="zip")
            except Exception as exc:
                js_console_error(f"Parlance: could not load {name}: {exc!r}")
        importlib.invalidate_caches()
