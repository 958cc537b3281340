"""One assistant reply on its way to the store, written so that no failure loses what was kept.

- While it streams, the reply is written at most once a second (one write in flight at a time),
  so a reload loses about a second of it; the final write comes after the last autosave.
- The first write adds the reply to the tree (under the user's message); a regenerated reply
  becomes a sibling of the old one (a branch), which stays stored: a full disk at any point
  leaves every whole reply. A regenerate that fails before writing anything writes nothing.
- The end of a reply is shown as done or stopped only once it is stored; a reply the store
  refused stays on screen as an error that says it was not saved.
- A write that finds the conversation deleted (in another tab) stops the reply: nothing is
  written back, so a deleted chat stays deleted.
- The first write waits for the question (`after`: the user's message, stored while the model
  already answers, sending.py): a reply is never stored without it, and a question the store
  refused fails the reply's writes with the store's error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace

from .conversations import Message, MessageStatus, ReplyInfo
from .errors import ConversationGone, StoreError
from .ports import Clock, Store

AUTOSAVE_INTERVAL_MS = 1000.0


class ReplyWriter:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        reply: Message,
        show: Callable[[Message], None],
        on_gone: Callable[[], None],
        branch: bool = False,
        after: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.current = reply
        self._after = after
        self._store = store
        self._clock = clock
        self._show = show
        self._on_gone = on_gone
        self._branch = branch
        self._written = False
        self._last_saved = clock.monotonic_ms()
        self._saving: asyncio.Future[None] | None = None
        self.first_text_at: float | None = None

    @property
    def written(self) -> bool:
        return self._written

    def append(self, chunk: str) -> None:
        """A streamed chunk: shown at once, stored by the next autosave."""
        now = self._clock.monotonic_ms()
        if self.first_text_at is None:
            self.first_text_at = now
        self.current = self.current.with_content(self.current.content + chunk)
        self._show(self.current)
        idle = self._saving is None or self._saving.done()
        if idle and now - self._last_saved >= AUTOSAVE_INTERVAL_MS:
            self._last_saved = now
            self._saving = asyncio.ensure_future(self._autosave(self.current))

    async def _autosave(self, message: Message) -> None:
        try:
            await self._write(message)
        except ConversationGone:
            self._on_gone()
        except StoreError:
            pass  # the final write tries again and reports what fails

    async def _write(self, message: Message, touched_at: int | None = None) -> None:
        if self._written:
            await self._store.put_message(message, touched_at=touched_at)
            return
        if self._after is not None:
            await self._after()
        stored = await self._store.append_message(message, branch=self._branch)
        self._written = True
        self.current = replace(self.current, lane=stored.lane)
        if touched_at is not None:
            await self._store.put_message(replace(message, lane=stored.lane), touched_at=touched_at)

    async def finish(self, status: MessageStatus, info: ReplyInfo, touched_at: int) -> Message:
        """Store the reply's end, then show it. Raises StoreError (after showing the reply as
        not saved) when the store refuses."""
        if self._saving is not None:
            with contextlib.suppress(StoreError):
                await self._saving
        final = replace(self.current, status=status, info=info)
        if status == "error" and self._branch and not self._written:
            # A regenerate that failed: the reply it was to replace is still stored and whole.
            self.current = final
            return final
        try:
            await self._write(final, touched_at)
            final = replace(final, lane=self.current.lane)
        except StoreError as exc:
            unsaved = replace(
                final, status="error", info=replace(info, error=f"This reply was not saved. {exc}")
            )
            self.current = unsaved
            self._show(unsaved)
            raise
        self.current = final
        self._show(final)
        return final
