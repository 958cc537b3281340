"""Export and import as the user asks for them: read the store, hand over a file, take one in.

The format and its checks are transfer.py's, pure; this runs them against the ports. An export
reads the store and hands the text to `Downloads`. An import reads the picked file only if it
is no bigger than MAX_IMPORT_BYTES, checks all of it (transfer.read_export), asks the store
which of its ids are taken, gives those new ids, and writes every conversation in one
transaction (`Store.import_conversations`: all or nothing, never overwriting). Whatever goes
wrong is said in the error banner, and then nothing has been written.

Why 50 MB: the file is read whole into memory, as a string and then as Python objects several
times its size, in a WebAssembly heap that also holds the model, and parsing and checking it
blocks the page. On a 2-core machine a 47 MB export (900 chats, 36,000 messages) took about
10 s in Chromium from the pick to the sidebar, 4 s of it parsing and checking. A long chat is a
few hundred kilobytes, so 50 MB is hundreds of long chats; a bigger file is refused before it
is read, and a 200 MB one would hold the page for most of a minute, if the heap held it at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from .errors import ImportRefused, StoreError
from .events import ConversationsImported, ErrorRaised, EventSink
from .ports import Clock, Downloads, Ids, PickedFile, Store
from .tabs import Broadcast, ListChanged
from .transfer import (
    Entry,
    export_document,
    export_filename,
    export_json,
    ids_of,
    read_export,
    with_fresh_ids,
)
from .transfer_markdown import conversation_markdown

MAX_IMPORT_BYTES = 50_000_000
JSON_TYPE = "application/json"
MARKDOWN_TYPE = "text/markdown"


class Transfer:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        ids: Ids,
        emit: EventSink,
        downloads: Downloads,
        labels: Mapping[str, str],
        refresh_list: Callable[[], Awaitable[None]],
        broadcast: Broadcast,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._emit = emit
        self._downloads = downloads
        self._labels = labels
        self._refresh_list = refresh_list
        self._broadcast = broadcast
        self._importing = asyncio.Lock()

    # -- export --------------------------------------------------------------------------

    async def export_conversation(
        self, conversation_id: str, *, markdown: bool = False, lane: str | None = None
    ) -> None:
        """Download one conversation: as JSON every branch, as Markdown the branch ending in
        `lane` (the one on screen; None: the one the conversation reopens on)."""
        try:
            conversation = await self._store.get_conversation(conversation_id)
            if conversation is None:
                self._emit(ErrorRaised("This conversation was deleted, so it was not exported."))
                return
            messages = tuple(await self._store.list_messages(conversation_id))
            now = self._clock.wall_ms()
            if markdown:
                branch = await self._store.read_branch(conversation_id, lane)
                text = conversation_markdown(
                    conversation,
                    branch.messages,
                    total_messages=len(messages),
                    labels=self._labels,
                    exported_at_ms=now,
                )
                name = export_filename(conversation.title, now, "md")
                self._downloads.save(name, MARKDOWN_TYPE, text)
            else:
                document = export_document([(conversation, messages)], now)
                name = export_filename(conversation.title, now, "json")
                self._downloads.save(name, JSON_TYPE, export_json(document))
        except (StoreError, OSError) as exc:
            self._emit(ErrorRaised(f"Nothing was exported. {exc}"))

    async def export_all(self) -> None:
        """Download every conversation, every branch, as one JSON file."""
        try:
            entries: list[Entry] = []
            for conversation in await self._store.list_conversations():
                messages = await self._store.list_messages(conversation.id)
                entries.append((conversation, tuple(messages)))
            now = self._clock.wall_ms()
            text = export_json(export_document(entries, now))
            self._downloads.save(export_filename(None, now, "json"), JSON_TYPE, text)
        except (StoreError, OSError) as exc:
            self._emit(ErrorRaised(f"Nothing was exported. {exc}"))

    # -- import --------------------------------------------------------------------------

    async def import_file(self, file: PickedFile) -> None:
        """Import an export file (one conversation or many). One import at a time."""
        async with self._importing:
            try:
                imported = await self._import(file)
            except (ImportRefused, StoreError) as exc:
                reason = str(exc).rstrip(".")
                name = file.name if len(file.name) <= 80 else file.name[:79] + "…"
                self._emit(ErrorRaised(f"Nothing was imported from {name}. {reason}."))
                return
        self._broadcast.publish(ListChanged())
        await self._refresh_list()
        self._emit(ConversationsImported(tuple(c for c, _ in imported)))

    async def _import(self, file: PickedFile) -> list[Entry]:
        if file.size > MAX_IMPORT_BYTES:
            raise ImportRefused(
                f"It is {file.size / 1e6:,.0f} MB, and Parlance imports files of up to "
                f"{MAX_IMPORT_BYTES / 1e6:.0f} MB"
            )
        try:
            text = await file.read_text()
        except OSError as exc:
            raise ImportRefused(f"The browser could not read it ({exc})") from exc
        entries = read_export(text)
        if not entries:
            raise ImportRefused("The file holds no conversations")
        taken = await self._store.taken_ids(*ids_of(entries))
        entries = with_fresh_ids(entries, taken, self._ids.new_id)
        await self._store.import_conversations(entries)
        return entries
