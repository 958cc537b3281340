"""The conversation store on IndexedDB, implementing core's `Store` Protocol.

Schema (database `parlance`), versioned with an upgrade path in `MIGRATIONS`:
- `conversations`: key `id`; fields title, model, createdAt, updatedAt; index `byUpdatedAt`.
- `messages`: key `id`; fields conversationId, role, content, createdAt, status, metadata;
  index `byConversationTime` on [conversationId, createdAt], so appending a message costs a
  B-tree insert whatever the chat's length, and a conversation's messages are one range read.

Several tabs write to one database, so every write to a conversation runs in one readwrite
transaction that first reads the conversation (and, when the write extends or replaces the
history, its newest message) and aborts, writing nothing, when they are not what the writer
expects. IndexedDB commits a transaction as soon as no request is pending, so those steps are
chained in request callbacks, in JavaScript (`_JS`), and only the outcome crosses into Python.

The database is opened with a time limit: an open that another tab blocks (an old version that
does not let go) or that never settles is reported instead of hanging the start. When a newer
version of the app upgrades the schema in another tab, this tab closes its connection (so it
does not block the upgrade) and its writes say to reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy, jsnull

from app.core.conversations import Conversation, Message, by_recent_activity
from app.core.errors import ConversationGone, HistoryChanged, StoreError
from app.core.ports import UNCHANGED, ConversationChange
from app.core.records import (
    conversation_from,
    conversation_record,
    message_record,
    messages_from,
)

from .interop import error_message, is_nullish, js_value, py_value

DB_NAME = "parlance"
CONVERSATIONS = "conversations"
MESSAGES = "messages"
OPEN_TIMEOUT_MS = 5000


def _v1(db: Any, _tx: Any) -> None:
    conversations = db.createObjectStore(CONVERSATIONS, js_value({"keyPath": "id"}))
    conversations.createIndex("byUpdatedAt", "updatedAt")
    messages = db.createObjectStore(MESSAGES, js_value({"keyPath": "id"}))
    messages.createIndex("byConversationTime", js_value(["conversationId", "createdAt"]))


# MIGRATIONS[i] upgrades a database from version i to version i + 1.
MIGRATIONS: list[Callable[[Any, Any], None]] = [_v1]
DB_VERSION = len(MIGRATIONS)

_JS = """
(() => {
  const fail = (name, message) => Object.assign(new Error(message), { name });
  const request = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const open = (name, version, upgrade, timeoutMs) => new Promise((resolve, reject) => {
    let settled = false;
    let blocked = false;
    const done = (fn, value) => {
      if (!settled) { settled = true; clearTimeout(timer); fn(value); }
    };
    const timer = setTimeout(() => done(reject, fail("OpenTimeout", blocked
      ? "another Parlance tab is keeping an older version of the database open; close it"
      : `the database did not open within ${timeoutMs / 1000} seconds`)), timeoutMs);
    let req;
    try {
      req = indexedDB.open(name, version);
    } catch (error) {
      done(reject, error);
      return;
    }
    req.onupgradeneeded = (event) => upgrade(req.result, req.transaction, event.oldVersion);
    req.onblocked = () => { blocked = true; };
    req.onerror = (event) => { event.preventDefault(); done(reject, req.error); };
    req.onsuccess = () => {
      const db = req.result;
      if (settled) { db.close(); return; }  // too late: the app went on without it
      db.onversionchange = () => { db.close(); db.__closedByUpgrade = true; };
      done(resolve, db);
    };
  });
  const rangeOf = (id) => IDBKeyRange.bound([id, -Infinity], [id, Infinity]);
  // One guarded write: the conversation must exist; `expectNewest` (when present) must be the
  // id of its newest message (null: none). Then `run(stores, conversation)` writes.
  const guarded = (db, conversationId, expectNewest, run) => new Promise((resolve, reject) => {
    if (db.__closedByUpgrade) {
      reject(fail("Closed", "a newer Parlance was opened in another tab; reload this page"));
      return;
    }
    const tx = db.transaction(["conversations", "messages"], "readwrite");
    const conversations = tx.objectStore("conversations");
    const messages = tx.objectStore("messages");
    let refusal = null;
    let result = null;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(refusal ?? tx.error ?? fail("AbortError", "the write was aborted"));
    const refuse = (error) => { refusal = error; tx.abort(); };
    const proceed = (conversation) => {
      try {
        result = run({ conversations, messages }, conversation);
      } catch (error) {
        refuse(error);  // e.g. a full disk refusing put(): nothing of this write is kept
      }
    };
    const got = conversations.get(conversationId);
    got.onsuccess = () => {
      const conversation = got.result;
      if (!conversation) { refuse(fail("ConversationGone", conversationId)); return; }
      if (expectNewest === undefined) { proceed(conversation); return; }
      const cursor = messages.index("byConversationTime")
        .openKeyCursor(rangeOf(conversationId), "prev");
      cursor.onsuccess = () => {
        const newest = cursor.result ? cursor.result.primaryKey : null;
        if (newest !== expectNewest) { refuse(fail("HistoryChanged", conversationId)); return; }
        proceed(conversation);
      };
    };
  });
  const touch = (stores, conversation, at) => {
    if (typeof at === "number" && !(conversation.updatedAt >= at)) {
      stores.conversations.put({ ...conversation, updatedAt: at });
    }
  };
  return {
    request,
    open,
    create: (db, record) => new Promise((resolve, reject) => {
      const tx = db.transaction("conversations", "readwrite");
      tx.objectStore("conversations").add(record);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    update: (db, id, change) => guarded(db, id, undefined, (stores, conversation) => {
      const updated = { ...conversation };
      if ("title" in change) updated.title = change.title;
      if ("model" in change) updated.model = change.model;
      if (typeof change.touchedAt === "number" && !(updated.updatedAt >= change.touchedAt)) {
        updated.updatedAt = change.touchedAt;
      }
      stores.conversations.put(updated);
      return updated;
    }),
    append: (db, record, after) => guarded(
      db, record.conversationId, after, (stores, conversation) => {
        stores.messages.add(record);
        touch(stores, conversation, record.createdAt);
      }),
    put: (db, record, replacing, touchedAt) => guarded(
      db, record.conversationId, replacing ?? undefined, (stores, conversation) => {
        if (replacing) stores.messages.delete(replacing);
        stores.messages.put(record);
        touch(stores, conversation, touchedAt);
      }),
    remove: (db, id) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"], "readwrite");
      tx.objectStore("conversations").delete(id);
      const messages = tx.objectStore("messages");
      const cursor = messages.index("byConversationTime").openKeyCursor(rangeOf(id));
      cursor.onsuccess = () => {
        if (cursor.result) { messages.delete(cursor.result.primaryKey); cursor.result.continue(); }
      };
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    messagesOf: (db, id) => request(
      db.transaction("messages").objectStore("messages").index("byConversationTime").getAll(rangeOf(id))),
  };
})()
"""


def _store_error(action: str, exc: BaseException, conversation_id: str = "") -> StoreError:
    js_error = getattr(exc, "js_error", None)
    name = str(getattr(js_error, "name", "") or "")
    if name == "ConversationGone":
        return ConversationGone(conversation_id)
    if name == "HistoryChanged":
        return HistoryChanged(conversation_id)
    message = error_message(exc)
    if name == "QuotaExceededError" or "quota" in message.lower():
        return StoreError(
            f"Could not {action}: the browser's storage for this site is full. "
            "Delete some conversations and try again."
        )
    return StoreError(f"Could not {action}: {message}")


class IndexedDbStore:
    def __init__(self, db: Any, helpers: Any) -> None:
        self._db = db
        self._js = helpers

    @classmethod
    async def open(cls, name: str = DB_NAME, timeout_ms: int = OPEN_TIMEOUT_MS) -> IndexedDbStore:
        """Open (and upgrade) the database; StoreError says why when it cannot be had."""
        factory: Any = getattr(js, "indexedDB", None)
        if is_nullish(factory):
            raise StoreError("This browser offers no IndexedDB, so chats cannot be kept.")
        helpers = run_js(_JS)

        def upgrade(db: Any, tx: Any, old_version: int) -> None:
            for version in range(int(old_version), DB_VERSION):
                MIGRATIONS[version](db, tx)

        on_upgrade = create_proxy(upgrade)
        try:
            db = await helpers.open(name, DB_VERSION, on_upgrade, timeout_ms)
        except JsException as exc:
            raise StoreError(
                f"The chat database could not be opened ({error_message(exc)})."
            ) from exc
        finally:
            # The upgrade runs before the open settles; a late open is closed by the JS side.
            on_upgrade.destroy()
        return cls(db, helpers)

    async def _call(self, action: str, conversation_id: str, call: Callable[[], Any]) -> Any:
        try:
            return await call()
        except JsException as exc:
            raise _store_error(action, exc, conversation_id) from exc

    # -- Store Protocol -------------------------------------------------------------------

    async def create_conversation(self, conversation: Conversation) -> None:
        record = js_value(conversation_record(conversation))
        await self._call(
            "save the conversation", conversation.id, lambda: self._js.create(self._db, record)
        )

    async def update_conversation(
        self, conversation_id: str, change: ConversationChange
    ) -> Conversation:
        fields: dict[str, Any] = {}
        if change.title is not None:
            fields["title"] = change.title
        if change.model is not UNCHANGED:
            fields["model"] = jsnull if change.model is None else change.model
        if change.touched_at is not None:
            fields["touchedAt"] = change.touched_at
        stored = await self._call(
            "save the conversation",
            conversation_id,
            lambda: self._js.update(self._db, conversation_id, js_value(fields)),
        )
        conversation = conversation_from(py_value(stored))
        if conversation is None:
            raise StoreError("Could not save the conversation: it came back unreadable.")
        return conversation

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        found = await self._call(
            "read the conversation",
            conversation_id,
            lambda: self._js.request(
                self._db.transaction(CONVERSATIONS).objectStore(CONVERSATIONS).get(conversation_id)
            ),
        )
        return None if is_nullish(found) else conversation_from(py_value(found))

    async def list_conversations(self) -> list[Conversation]:
        # The whole store, not the updatedAt index: a record missing updatedAt is in no index
        # entry but still belongs in the sidebar (sorted by its creation time).
        records = await self._call(
            "list the conversations",
            "",
            lambda: self._js.request(
                self._db.transaction(CONVERSATIONS).objectStore(CONVERSATIONS).getAll()
            ),
        )
        found = (conversation_from(r) for r in py_value(records))
        return by_recent_activity(c for c in found if c is not None)

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and all its messages in one transaction."""
        await self._call(
            "delete the conversation",
            conversation_id,
            lambda: self._js.remove(self._db, conversation_id),
        )

    async def append_message(self, message: Message, *, after: str | None) -> None:
        record = js_value(message_record(message))
        await self._call(
            "save the message",
            message.conversation_id,
            # null, not undefined: "the conversation has no message yet" is a check too.
            lambda: self._js.append(self._db, record, jsnull if after is None else after),
        )

    async def put_message(
        self,
        message: Message,
        *,
        replacing: str | None = None,
        touched_at: int | None = None,
    ) -> None:
        record = js_value(message_record(message))
        await self._call(
            "save the message",
            message.conversation_id,
            lambda: self._js.put(self._db, record, replacing, touched_at),
        )

    async def list_messages(self, conversation_id: str) -> list[Message]:
        records = await self._call(
            "read the messages",
            conversation_id,
            lambda: self._js.messagesOf(self._db, conversation_id),
        )
        read = messages_from(py_value(records))
        if read.skipped:
            js.console.warn(f"Parlance skipped {read.skipped} unreadable stored message(s)")
        return read.messages
