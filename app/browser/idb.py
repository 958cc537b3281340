"""The conversation store on IndexedDB, implementing core's `Store` Protocol.

Schema (database `parlance`), versioned with an upgrade path in `MIGRATIONS`:
- `conversations`: key `id`; fields title, model, createdAt, updatedAt; index `byUpdatedAt`.
- `messages`: key `id`; fields conversationId, role, content, createdAt, status, metadata;
  index `byConversationTime` on [conversationId, createdAt], so appending a message costs a
  B-tree insert whatever the chat's length, and a conversation's messages are one range read.

IndexedDB commits a transaction as soon as control returns to the event loop with no request
pending, so every multi-step transaction here issues its requests synchronously (or from the
request's own success callback) and only then awaits the transaction's completion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy

from app.core.conversations import Conversation, Message
from app.core.errors import StoreError

from .interop import error_message, is_nullish, js_value, py_value

DB_NAME = "parlance"
CONVERSATIONS = "conversations"
MESSAGES = "messages"


def _v1(db: Any, _tx: Any) -> None:
    conversations = db.createObjectStore(CONVERSATIONS, js_value({"keyPath": "id"}))
    conversations.createIndex("byUpdatedAt", "updatedAt")
    messages = db.createObjectStore(MESSAGES, js_value({"keyPath": "id"}))
    messages.createIndex("byConversationTime", js_value(["conversationId", "createdAt"]))


# MIGRATIONS[i] upgrades a database from version i to version i + 1.
MIGRATIONS: list[Callable[[Any, Any], None]] = [_v1]
DB_VERSION = len(MIGRATIONS)

# Promises over IDB's event API: awaiting them from Python needs no proxy per request.
_PROMISIFY = """
({
  request: (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  }),
  transaction: (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException("Transaction aborted", "AbortError"));
  }),
})
"""


def conversation_record(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    }


def conversation_from(record: dict[str, Any]) -> Conversation:
    return Conversation(
        id=str(record["id"]),
        title=str(record.get("title") or ""),
        model=record.get("model"),
        created_at=int(record.get("createdAt") or 0),
        updated_at=int(record.get("updatedAt") or 0),
    )


def message_record(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversationId": m.conversation_id,
        "role": m.role,
        "content": m.content,
        "createdAt": m.created_at,
        "status": m.status,
        "metadata": m.metadata,
    }


def message_from(record: dict[str, Any]) -> Message:
    return Message(
        id=str(record["id"]),
        conversation_id=str(record["conversationId"]),
        role=record["role"],
        content=str(record.get("content") or ""),
        created_at=int(record.get("createdAt") or 0),
        status=record.get("status") or "done",
        metadata=dict(record.get("metadata") or {}),
    )


def _store_error(action: str, exc: BaseException) -> StoreError:
    message = error_message(exc)
    if "quota" in message.lower():
        return StoreError(
            f"Could not {action}: the browser's storage for this site is full. "
            "Delete some conversations and try again."
        )
    return StoreError(f"Could not {action}: {message}")


class IndexedDbStore:
    def __init__(self, db: Any) -> None:
        self._db = db
        self._p = run_js(_PROMISIFY)

    @classmethod
    async def open(cls, name: str = DB_NAME) -> IndexedDbStore:
        factory: Any = getattr(js, "indexedDB", None)
        if is_nullish(factory):
            raise StoreError("This browser offers no IndexedDB; conversations cannot be saved.")
        request = factory.open(name, DB_VERSION)

        def upgrade(event: Any) -> None:
            db, tx = request.result, request.transaction
            for version in range(int(event.oldVersion), DB_VERSION):
                MIGRATIONS[version](db, tx)

        on_upgrade = create_proxy(upgrade)
        request.onupgradeneeded = on_upgrade
        try:
            db = await run_js(_PROMISIFY).request(request)
        except JsException as exc:
            raise _store_error("open the conversation database", exc) from exc
        finally:
            request.onupgradeneeded = None
            on_upgrade.destroy()
        return cls(db)

    # -- helpers --------------------------------------------------------------------------

    async def _read(self, store: str, call: Callable[[Any], Any], action: str) -> Any:
        try:
            tx = self._db.transaction(store, "readonly")
            return await self._p.request(call(tx.objectStore(store)))
        except JsException as exc:
            raise _store_error(action, exc) from exc

    async def _write(self, stores: list[str], fill: Callable[[Any], None], action: str) -> None:
        try:
            tx = self._db.transaction(js_value(stores), "readwrite")
            done = self._p.transaction(tx)
            fill(tx)
            await done
        except JsException as exc:
            raise _store_error(action, exc) from exc

    # -- Store Protocol -------------------------------------------------------------------

    async def save_conversation(self, conversation: Conversation) -> None:
        record = js_value(conversation_record(conversation))
        await self._write(
            [CONVERSATIONS],
            lambda tx: tx.objectStore(CONVERSATIONS).put(record),
            "save the conversation",
        )

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        found = await self._read(
            CONVERSATIONS, lambda s: s.get(conversation_id), "read the conversation"
        )
        return None if is_nullish(found) else conversation_from(py_value(found))

    async def list_conversations(self) -> list[Conversation]:
        records = await self._read(
            CONVERSATIONS,
            lambda s: s.index("byUpdatedAt").getAll(),
            "list the conversations",
        )
        # The index ascends by updatedAt; the sidebar shows the most recent first.
        return [conversation_from(r) for r in reversed(py_value(records))]

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and all its messages in one transaction."""
        cursor_proxy: Any = None

        def fill(tx: Any) -> None:
            nonlocal cursor_proxy
            tx.objectStore(CONVERSATIONS).delete(conversation_id)
            messages = tx.objectStore(MESSAGES)
            request = messages.index("byConversationTime").openKeyCursor(
                _conversation_range(conversation_id)
            )

            def step(_event: Any) -> None:
                cursor = request.result
                if not is_nullish(cursor):
                    messages.delete(cursor.primaryKey)
                    getattr(cursor, "continue")()

            cursor_proxy = create_proxy(step)
            request.onsuccess = cursor_proxy

        try:
            await self._write([CONVERSATIONS, MESSAGES], fill, "delete the conversation")
        finally:
            if cursor_proxy is not None:
                cursor_proxy.destroy()

    async def append_message(self, message: Message) -> None:
        record = js_value(message_record(message))
        await self._write(
            [MESSAGES], lambda tx: tx.objectStore(MESSAGES).add(record), "save the message"
        )

    async def update_message(self, message: Message) -> None:
        record = js_value(message_record(message))
        await self._write(
            [MESSAGES], lambda tx: tx.objectStore(MESSAGES).put(record), "save the message"
        )

    async def delete_message(self, message: Message) -> None:
        await self._write(
            [MESSAGES], lambda tx: tx.objectStore(MESSAGES).delete(message.id), "delete the message"
        )

    async def list_messages(self, conversation_id: str) -> list[Message]:
        records = await self._read(
            MESSAGES,
            lambda s: s.index("byConversationTime").getAll(_conversation_range(conversation_id)),
            "read the messages",
        )
        return [message_from(r) for r in py_value(records)]


def _conversation_range(conversation_id: str) -> Any:
    """Every [conversationId, createdAt] key of one conversation."""
    return js.IDBKeyRange.bound(
        js_value([conversation_id, -math.inf]), js_value([conversation_id, math.inf])
    )
