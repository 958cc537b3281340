"""The conversation store on IndexedDB, implementing core's `Store` Protocol.

Schema (database `parlance`), versioned with an upgrade path in `MIGRATIONS`:
- `conversations`: key `id`; fields title, model, createdAt, updatedAt; index `byUpdatedAt`.
- `messages`: key `id`; fields conversationId, parentId, lane, role, content, createdAt,
  status, metadata (and forkParent on lane starts); index `byConversationTime` on
  [conversationId, createdAt] (the whole tree: delete, export), `byLane` on [conversationId,
  lane, createdAt] (a branch is one range read per lane, tree.py) and `byFork` on
  [conversationId, forkParent] (the lane starts: where the siblings are). Appending a message
  costs a few B-tree inserts whatever the chat's length.
- `prefs`: out-of-line keys; `defaults` holds the settings new chats start with.
- Conversations also hold `settings` and `lane` (the branch last shown).

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

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy, jsnull

from app.core.conversations import ChatSettings, Conversation, Message, by_recent_activity
from app.core.errors import ConversationGone, HistoryChanged, StoreError
from app.core.ports import UNCHANGED, ConversationChange
from app.core.records import (
    conversation_from,
    conversation_record,
    message_record,
    messages_from,
    settings_from,
    settings_record,
)
from app.core.tree import Branch, siblings_on

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


def _v2(db: Any, tx: Any) -> None:
    """Messages become a tree (tree.py): each gets a parentId (the message before it, as the
    chat was one line) and the lane of its conversation's first message; settings and app-wide
    defaults (`prefs`) arrive. Every message is kept: only fields are added."""
    run_js(_V2_JS)(db, tx)


_V2_JS = """
(db, tx) => {
  const messages = tx.objectStore("messages");
  messages.createIndex("byLane", ["conversationId", "lane", "createdAt"]);
  messages.createIndex("byFork", ["conversationId", "forkParent"]);
  db.createObjectStore("prefs");
  let conversation = null;
  let previous = null;
  let lane = null;
  const cursor = messages.index("byConversationTime").openCursor();
  cursor.onsuccess = () => {
    const at = cursor.result;
    if (!at) return;
    const record = { ...at.value };
    if (record.conversationId !== conversation) {
      conversation = record.conversationId;
      previous = null;
      lane = record.id;
    }
    record.parentId = previous;
    record.lane = lane;
    if (lane === record.id) record.forkParent = "";
    else delete record.forkParent;
    at.update(record);
    previous = record.id;
    at.continue();
  };
}
"""

# MIGRATIONS[i] upgrades a database from version i to version i + 1.
MIGRATIONS: list[Callable[[Any, Any], None]] = [_v1, _v2]
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
        return;
      }
      // A write that reads more first answers with a promise, settled before the commit.
      if (result && typeof result.then === "function") {
        result.then((value) => { result = value; }, (error) => refuse(error));
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
      if ("settings" in change) updated.settings = change.settings;
      if ("lane" in change) updated.lane = change.lane;
      if (typeof change.touchedAt === "number" && !(updated.updatedAt >= change.touchedAt)) {
        updated.updatedAt = change.touchedAt;
      }
      stores.conversations.put(updated);
      return updated;
    }),
    // A new message under record.parentId, in the lane tree.py says; refused when the parent
    // has a child already unless `branch`.
    append: (db, record, branch) => guarded(
      db, record.conversationId, undefined, (stores, conversation) => {
        const place = (parent, hasChild) => {
          if (hasChild && !branch) { throw fail("HistoryChanged", record.conversationId); }
          const lane = parent && !hasChild ? parent.lane : record.id;
          const stored = { ...record, lane };
          if (lane === record.id) stored.forkParent = record.parentId ?? "";
          else delete stored.forkParent;
          stores.messages.add(stored);
          const updated = { ...conversation, lane };
          if (!(updated.updatedAt >= record.createdAt)) updated.updatedAt = record.createdAt;
          stores.conversations.put(updated);
          return stored;
        };
        return new Promise((resolve, reject) => {
          const settle = (fn) => { try { resolve(fn()); } catch (error) { reject(error); } };
          if (record.parentId === null || record.parentId === undefined) {
            const any = stores.messages.index("byConversationTime")
              .openKeyCursor(rangeOf(record.conversationId));
            any.onsuccess = () => settle(() => place(null, !!any.result));
            return;
          }
          const got = stores.messages.get(record.parentId);
          got.onsuccess = () => {
            const parent = got.result;
            const lost = !parent || typeof parent.lane !== "string" || !parent.lane;
            if (lost || parent.conversationId !== record.conversationId) {
              reject(fail("HistoryChanged", record.conversationId));
              return;
            }
            const after = stores.messages.index("byLane").openKeyCursor(IDBKeyRange.bound(
              [record.conversationId, parent.lane, parent.createdAt],
              [record.conversationId, parent.lane, Infinity], true, false));
            after.onsuccess = () => settle(() => place(parent, !!after.result));
          };
        });
      }),
    // Rewrite a stored message; where it sits in the tree stays as stored.
    put: (db, record, touchedAt) => guarded(
      db, record.conversationId, undefined, (stores, conversation) => new Promise(
        (resolve, reject) => {
          const got = stores.messages.get(record.id);
          got.onsuccess = () => {
            const stored = got.result;
            const placed = stored
              ? { ...record, parentId: stored.parentId, lane: stored.lane }
              : { ...record };
            if (stored && "forkParent" in stored) placed.forkParent = stored.forkParent;
            else delete placed.forkParent;
            try {
              stores.messages.put(placed);  // a full disk throws here
              touch(stores, conversation, touchedAt);
              resolve(null);
            } catch (error) {
              reject(error);
            }
          };
        })),
    branch: (db, id, wanted) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"]);
      const messages = tx.objectStore("messages");
      const byLane = messages.index("byLane");
      const path = [];
      let starts = [];
      tx.oncomplete = () => resolve({ messages: path, starts });
      tx.onabort = () => reject(tx.error ?? fail("AbortError", "the read was aborted"));
      const walk = (lane, upTo) => {
        const got = byLane.getAll(IDBKeyRange.bound([id, lane, -Infinity], [id, lane, upTo]));
        got.onsuccess = () => {
          const segment = got.result;
          if (!segment.length) return;
          path.unshift(...segment);
          const parentId = segment[0].parentId;
          if (parentId === null || parentId === undefined) return;
          const parent = messages.get(parentId);
          parent.onsuccess = () => {
            if (placed(parent.result)) walk(parent.result.lane, parent.result.createdAt);
          };
        };
      };
      const placed = (record) => record && typeof record.lane === "string" && record.lane;
      // The newest message that has a place in the tree (a record without a lane is not one).
      const fromNewest = () => {
        const newest = messages.index("byConversationTime").openCursor(rangeOf(id), "prev");
        newest.onsuccess = () => {
          const at = newest.result;
          if (!at) return;
          if (placed(at.value)) walk(at.value.lane, Infinity);
          else at.continue();
        };
      };
      const start = (lane) => {
        if (typeof lane !== "string" || !lane) { fromNewest(); return; }
        const tail = byLane.openKeyCursor(
          IDBKeyRange.bound([id, lane, -Infinity], [id, lane, Infinity]), "prev");
        tail.onsuccess = () => { if (tail.result) walk(lane, Infinity); else fromNewest(); };
      };
      const forks = messages.index("byFork").getAll(IDBKeyRange.bound([id, ""], [id, []]));
      forks.onsuccess = () => { starts = forks.result; };
      if (wanted) { start(wanted); return; }
      const conversation = tx.objectStore("conversations").get(id);
      conversation.onsuccess = () => start(conversation.result && conversation.result.lane);
    }),
    getPref: (db, key) => request(db.transaction("prefs").objectStore("prefs").get(key)),
    putPref: (db, key, value) => new Promise((resolve, reject) => {
      const tx = db.transaction("prefs", "readwrite");
      tx.objectStore("prefs").put(value, key);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    takenIds: (db, conversationIds, messageIds) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"]);
      const taken = [];
      const probe = (store, ids) => {
        for (const key of ids) {
          const found = tx.objectStore(store).getKey(key);
          found.onsuccess = () => { if (found.result !== undefined) taken.push(key); };
        }
      };
      probe("conversations", conversationIds);
      probe("messages", messageIds);
      tx.oncomplete = () => resolve(taken);
      tx.onabort = () => reject(tx.error);
    }),
    // Whole conversations in one transaction: add() never overwrites, so a taken id aborts
    // the lot and nothing is written.
    importAll: (db, conversations, messages) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"], "readwrite");
      let refusal = null;
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(
        refusal ?? tx.error ?? fail("AbortError", "the import was aborted"));
      try {
        for (const record of conversations) tx.objectStore("conversations").add(record);
        for (const record of messages) tx.objectStore("messages").add(record);
      } catch (error) {
        refusal = error;
        tx.abort();
      }
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

    @property
    def db(self) -> Any:
        """The open database, for readers of their own (app/browser/search.py)."""
        return self._db

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
        if change.settings is not None:
            fields["settings"] = settings_record(change.settings)
        if change.lane is not None:
            fields["lane"] = change.lane
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

    async def append_message(self, message: Message, *, branch: bool = False) -> Message:
        record = js_value(message_record(message))
        stored = await self._call(
            "save the message",
            message.conversation_id,
            lambda: self._js.append(self._db, record, branch),
        )
        lane = str(getattr(stored, "lane", "") or message.id)
        return replace(message, lane=lane)

    async def put_message(self, message: Message, *, touched_at: int | None = None) -> None:
        record = js_value(message_record(message))
        await self._call(
            "save the message",
            message.conversation_id,
            lambda: self._js.put(self._db, record, touched_at),
        )

    async def read_branch(self, conversation_id: str, lane: str | None = None) -> Branch:
        found = await self._call(
            "read the messages",
            conversation_id,
            lambda: self._js.branch(self._db, conversation_id, lane),
        )
        read = py_value(found)
        path = messages_from(read["messages"], sort=False)
        starts = messages_from(read["starts"])
        if path.skipped:
            js.console.warn(f"Parlance skipped {path.skipped} unreadable stored message(s)")
        return Branch(path.messages, siblings_on(path.messages, starts.messages))

    async def get_defaults(self) -> ChatSettings:
        found = await self._call(
            "read the default settings", "", lambda: self._js.getPref(self._db, "defaults")
        )
        return ChatSettings() if is_nullish(found) else settings_from(py_value(found))

    async def put_defaults(self, settings: ChatSettings) -> None:
        record = js_value(settings_record(settings))
        await self._call(
            "save the default settings",
            "",
            lambda: self._js.putPref(self._db, "defaults", record),
        )

    async def taken_ids(
        self, conversation_ids: Sequence[str], message_ids: Sequence[str]
    ) -> set[str]:
        found = await self._call(
            "read the stored ids",
            "",
            lambda: self._js.takenIds(
                self._db, js_value(list(conversation_ids)), js_value(list(message_ids))
            ),
        )
        return {str(key) for key in py_value(found)}

    async def import_conversations(
        self, conversations: Sequence[tuple[Conversation, Sequence[Message]]]
    ) -> None:
        records = js_value([conversation_record(c) for c, _ in conversations])
        messages = js_value([message_record(m) for _, ms in conversations for m in ms])
        await self._call(
            "import the conversations",
            "",
            lambda: self._js.importAll(self._db, records, messages),
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
