"""Tabs coordinating through the platform: Web Locks for turns, a BroadcastChannel for news.

Core's `TurnLocks` and `Broadcast` (app/core/tabs.py) on the browser's own features. A turn
lock is an exclusive Web Lock named after the conversation, held for the whole turn and freed
by the browser if the tab dies; a tab that waits for another's turn to end asks for the same
lock in shared mode, which it gets only when the answering tab lets go. Where a browser lacks
either feature, the app falls back to one tab's worth of both (app/core/memory.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy

from app.core.tabs import News, news_from, news_record

from .interop import is_nullish, js_console_error, js_value, py_value

CHANNEL = "parlance"
LOCK_PREFIX = "parlance:turn:"
# How long a send waits for a lock another tab is about to let go (a tab that just finished
# its turn, or one that only peeked) before it says the chat is answering elsewhere.
ACQUIRE_WAIT_MS = 1500

_LOCKS_JS = """
({
  acquire: (name, waitMs) => new Promise((resolve) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs);
    navigator.locks.request(name, { signal: abort.signal }, () => {
      clearTimeout(timer);
      return new Promise((release) => resolve(release));
    }).catch(() => resolve(null));
  }),
  held: async (name) => {
    const { held } = await navigator.locks.query();
    return held.some((lock) => lock.name === name && lock.mode === "exclusive");
  },
  released: (name) => navigator.locks.request(name, { mode: "shared" }, () => true),
})
"""


def platform_tabs_supported() -> bool:
    locks = getattr(js.navigator, "locks", None)
    channel = getattr(js, "BroadcastChannel", None)
    return not is_nullish(locks) and not is_nullish(channel)


class _WebLease:
    def __init__(self, release: Any) -> None:
        self._release = release

    def release(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()


class WebTurnLocks:
    def __init__(self) -> None:
        self._js = run_js(_LOCKS_JS)

    async def acquire(self, conversation_id: str) -> _WebLease | None:
        release = await self._js.acquire(LOCK_PREFIX + conversation_id, ACQUIRE_WAIT_MS)
        return None if is_nullish(release) else _WebLease(release)

    async def held_elsewhere(self, conversation_id: str) -> bool:
        try:
            return bool(await self._js.held(LOCK_PREFIX + conversation_id))
        except JsException:
            return False

    async def wait_released(self, conversation_id: str) -> None:
        await self._js.released(LOCK_PREFIX + conversation_id)


class ChannelBroadcast:
    """News over a BroadcastChannel; what arrives goes to `listener` (set by the app)."""

    def __init__(self) -> None:
        self.listener: Callable[[News], None] = lambda _news: None
        self._channel = js.BroadcastChannel.new(CHANNEL)
        self._on_message = create_proxy(self._receive)
        self._channel.addEventListener("message", self._on_message)

    def publish(self, news: News) -> None:
        try:
            self._channel.postMessage(js_value(news_record(news)))
        except JsException as exc:  # a closed channel (the page is going away)
            js_console_error(f"Parlance could not tell other tabs: {exc}")

    def _receive(self, event: Any) -> None:
        news = news_from(py_value(event.data))
        if news is not None:
            self.listener(news)

    def close(self) -> None:
        self._channel.removeEventListener("message", self._on_message)
        self._on_message.destroy()
        self._channel.close()
