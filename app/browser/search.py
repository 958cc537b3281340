"""Search over IndexedDB, in JavaScript, off the critical path of the main thread.

The first search (or focusing the search box, which warms it) reads every conversation and
message into a cache of folded text (`_JS`: the same folding as app/core/search.py's `fold`),
in batches of a few hundred records, yielding to the event loop between batches so that no
task runs long. Later searches scan the cache, in slices of a few milliseconds, and only the
hits cross into Python: ids, lane, title and a window of the original text around the match,
from which core cuts the snippet. A search that a newer one overtook stops at its next slice.

The cache learns what changed from core (`forget`: conversations whose messages, title or
activity moved, from the chat's own events and from other tabs' news); those conversations are
read again at the start of the next search, the rest stays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException

from app.core.errors import StoreError
from app.core.search import (
    CONTEXT_CHARS,
    HIT_LIMIT,
    PER_CONVERSATION,
    SearchHit,
    snippet,
    snippet_at,
)

from .interop import error_message, is_nullish, js_value, py_value

# Records per read while the cache fills; each batch is one short task.
BATCH = 400
# How long one slice of a scan runs before it yields (ms).
SLICE_MS = 5
# Hits turned into Python data per task.
YIELD_EVERY = 10
# Characters of the original text sent to Python on each side of a match.
WINDOW = CONTEXT_CHARS + 20

_JS = """
(() => {
  const fold = (text) => String(text ?? "").normalize("NFKD").replace(/\\p{M}/gu, "").toLowerCase();
  const foldChar = (ch) => ch.normalize("NFKD").replace(/\\p{M}/gu, "").toLowerCase();
  const pause = () => new Promise((resolve) => setTimeout(resolve, 0));
  const request = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const conversations = new Map();  // id -> {id, title, folded, updatedAt, messages: [...]}
  let ready = null;  // the promise of the first fill
  let dirty = new Set();
  let latest = 0;
  const entry = (record) => ({
    id: String(record.id), title: String(record.title ?? ""), folded: fold(record.title),
    updatedAt: Number(record.updatedAt ?? record.createdAt ?? 0) || 0, messages: [],
  });
  const message = (record) => ({
    id: String(record.id), lane: record.lane ?? null, createdAt: Number(record.createdAt) || 0,
    content: String(record.content ?? ""), folded: fold(record.content),
  });
  const byTime = (a, b) => a.createdAt - b.createdAt;
  const fill = async (db, batch) => {
    const store = db.transaction("conversations").objectStore("conversations");
    for (const record of await request(store.getAll())) {
      if (record && record.id != null) conversations.set(String(record.id), entry(record));
    }
    await pause();
    let after = null;
    for (;;) {
      const range = after === null ? null : IDBKeyRange.lowerBound(after, true);
      const store = db.transaction("messages").objectStore("messages");
      const records = await request(store.getAll(range, batch));
      for (const record of records) {
        const owner = conversations.get(String(record.conversationId));
        if (owner && typeof record.role === "string") owner.messages.push(message(record));
      }
      if (records.length < batch) break;
      after = records[records.length - 1].id;
      await pause();
    }
    for (const c of conversations.values()) c.messages.sort(byTime);
  };
  const reread = async (db, ids) => {
    for (const id of ids) {
      const tx = db.transaction(["conversations", "messages"]);
      const got = tx.objectStore("conversations").get(id);
      const range = IDBKeyRange.bound([id, -Infinity], [id, Infinity]);
      const all = tx.objectStore("messages").index("byConversationTime").getAll(range);
      const record = await request(got);
      const records = await request(all);
      if (!record) { conversations.delete(id); continue; }
      const c = entry(record);
      c.messages = records.filter((r) => typeof r.role === "string").map(message).sort(byTime);
      conversations.set(id, c);
    }
  };
  // Where the folded needle matches the original text, as [start, end) in the original.
  const locate = (text, needle) => {
    const chars = Array.from(text);
    let folded = "";
    const origin = [];
    let offset = 0;
    for (const ch of chars) {
      const piece = foldChar(ch);
      folded += piece;
      for (let i = 0; i < piece.length; i++) origin.push(offset);
      offset += ch.length;
    }
    const at = folded.indexOf(needle);
    if (at < 0) return null;
    const last = origin[at + needle.length - 1];
    let end = last + (text.codePointAt(last) > 0xffff ? 2 : 1);
    while (end < text.length && foldChar(text[end]) === "") end++;  // its accents too
    return [origin[at], end];
  };
  const hit = (c, m, text, needle, window) => {
    const found = locate(text, needle);
    const [start, end] = found ?? [0, 0];
    const from = Math.max(0, start - window);
    const to = Math.min(text.length, end + window);
    return {
      conversationId: c.id, messageId: m ? m.id : null, lane: m ? m.lane : null, title: c.title,
      text: text.slice(from, to), cutBefore: from > 0, cutAfter: to < text.length,
      start: found ? start - from : -1, end: found ? end - from : -1,
    };
  };
  const warm = (db, batch) => {
    if (!ready) ready = fill(db, batch).catch((error) => { ready = null; throw error; });
    return ready;
  };
  return {
    // Fill the cache ahead of a search; a failure is reported by the search that follows.
    warm: (db, batch) => { warm(db, batch).catch(() => {}); },
    forget: (ids) => { for (const id of ids) dirty.add(String(id)); },
    // The hits for `query`, or null when a newer search started meanwhile.
    search: async (db, query, limit, perConversation, batch, sliceMs, window) => {
      const turn = ++latest;
      await warm(db, batch);
      if (dirty.size) {
        const ids = [...dirty];
        dirty = new Set();
        await reread(db, ids);
      }
      if (turn !== latest) return null;
      const needle = fold(query).trim();
      const hits = [];
      if (!needle) return hits;
      const order = [...conversations.values()].sort((a, b) => b.updatedAt - a.updatedAt);
      let sliceStart = performance.now();
      for (const c of order) {
        let found = 0;
        if (c.folded.includes(needle)) hits.push(hit(c, null, c.title, needle, window));
        for (const m of c.messages) {
          if (found >= perConversation || hits.length >= limit) break;
          if (m.folded.includes(needle)) {
            hits.push(hit(c, m, m.content, needle, window));
            found++;
          }
        }
        if (hits.length >= limit) break;
        if (performance.now() - sliceStart > sliceMs) {
          await pause();
          if (turn !== latest) return null;
          sliceStart = performance.now();
        }
      }
      return hits.slice(0, limit);
    },
  };
})()
"""


class IndexedDbSearcher:
    """`Searcher` over the app's IndexedDB database (the handle IndexedDbStore opened)."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._js = run_js(_JS)
        self._forgotten: set[str] = set()

    def warm(self) -> None:
        """Start filling the cache (the search box has the focus: a search is coming)."""
        self._js.warm(self._db, BATCH)

    def forget(self, conversation_ids: Collection[str]) -> None:
        # Kept in Python until the next search: a streaming reply changes its conversation on
        # every chunk, and that must cost no call into JavaScript.
        self._forgotten.update(conversation_ids)

    async def search(self, query: str, limit: int = HIT_LIMIT) -> list[SearchHit]:
        if self._forgotten:
            self._js.forget(js_value(sorted(self._forgotten)))
            self._forgotten.clear()
        try:
            found = await self._js.search(
                self._db, query, limit, PER_CONVERSATION, BATCH, SLICE_MS, WINDOW
            )
        except JsException as exc:
            raise StoreError(f"Could not search: {error_message(exc)}") from exc
        if is_nullish(found):
            return []  # overtaken by a newer search, which reports instead
        js.performance.mark("parlance:search-found")  # the scan's end, for bench/search.py
        hits = []
        for index, record in enumerate(py_value(found)):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a short task each: the page stays responsive
            text, start, end = str(record["text"]), int(record["start"]), int(record["end"])
            cut_before, cut_after = bool(record["cutBefore"]), bool(record["cutAfter"])
            # Where JavaScript found the match; should its folding find none there (a rare
            # character folded differently), Python looks for itself.
            if start >= 0:
                cut = snippet_at(text, start, end, cut_before=cut_before, cut_after=cut_after)
            else:
                cut = snippet(text, query, cut_before=cut_before, cut_after=cut_after)
            hits.append(
                SearchHit(
                    conversation_id=str(record["conversationId"]),
                    message_id=_text_or_none(record.get("messageId")),
                    lane=_text_or_none(record.get("lane")),
                    title=str(record["title"]),
                    snippet=cut,
                )
            )
        return hits


def _text_or_none(value: Any) -> str | None:
    """An id from JS: null and undefined (however they arrive) are None."""
    return value if isinstance(value, str) and value else None
