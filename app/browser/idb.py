"""The conversation store on IndexedDB, implementing core's `Store` Protocol.

Schema (database `parlance`), versioned with an upgrade path in `MIGRATIONS`:
- `conversations`: key `id`; fields title, model, createdAt, updatedAt; index `byUpdatedAt`.
- `messages`: key `id`; fields conversationId, parentId, lane, role, content, createdAt,
  status, metadata (and forkParent on lane starts); index `byConversationTime` on
  [conversationId, createdAt] (the whole tree: delete, export), `byLane` on [conversationId,
  lane, createdAt] (a branch is one range read per lane, tree.py) and `byFork` on
  [conversationId, forkParent] (the lane starts: where the siblings are). Appending a message
  costs a few B-tree inserts whatever the chat's length.
- `prefs`: out-of-line keys; `defaults` holds the settings new chats start with, `userModels`
  the catalog entries the user added, `endpointKeys` their servers' keys (kept apart: never in
  an entry, never exported).
- Conversations also hold `settings` and `lane` (the branch last shown).

Several tabs write to one database, so every write to a conversation runs in one readwrite
transaction that first reads the conversation (and, when the write extends or replaces the
history, its newest message) and aborts, writing nothing, when they are not what the writer
expects. IndexedDB commits a transaction as soon as no request is pending, so those steps are
chained in request callbacks, in JavaScript (`idb_js.JS`), and only the outcome crosses into Python.

The database is opened with a time limit: an open that another tab blocks (an old version that
does not let go) or that never settles is reported instead of hanging the start. When a newer
version of the app upgrades the schema in another tab, this tab closes its connection (so it
does not block the upgrade) and its writes say to reload.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy, jsnull

from app.core.conversations import ChatSettings, Conversation, Message, by_recent_activity
from app.core.endpoints import keys_from
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

from .idb_js import JS, V2_JS
from .interop import error_message, is_nullish, js_value, py_value

DB_NAME = "parlance"
CONVERSATIONS = "conversations"
MESSAGES = "messages"
# The prefs key of the catalog entries the user added in #/models.
USER_MODELS = "userModels"
# The prefs key of the keys of the servers the user added (by address), apart from the entries.
ENDPOINT_KEYS = "endpointKeys"
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
    run_js(V2_JS)(db, tx)


# MIGRATIONS[i] upgrades a database from version i to version i + 1.
MIGRATIONS: list[Callable[[Any, Any], None]] = [_v1, _v2]
DB_VERSION = len(MIGRATIONS)


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
        helpers = run_js(JS)

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
        text = await self._call("list the conversations", "", lambda: self._js.listJson(self._db))
        found = (conversation_from(r) for r in json.loads(str(text)))
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

    async def read_branch(
        self,
        conversation_id: str,
        lane: str | None = None,
        *,
        newest: int | None = None,
        through: str | None = None,
    ) -> Branch:
        # One message more than the page: its parent, for the first one's siblings, and the
        # proof that there is more before it.
        limit = None if newest is None else newest + 1
        branch = await self._branch(conversation_id, lane, limit, through, None)
        return branch if newest is None else branch.tail(newest, through)

    async def read_older(self, conversation_id: str, before: str, count: int) -> Branch:
        branch = await self._branch(conversation_id, None, count + 1, None, before)
        return branch.tail(count)

    async def _branch(
        self,
        conversation_id: str,
        lane: str | None,
        limit: int | None,
        through: str | None,
        before: str | None,
    ) -> Branch:
        found = await self._call(
            "read the messages",
            conversation_id,
            lambda: self._js.branch(self._db, conversation_id, lane, limit, through, before),
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

    async def get_user_models(self) -> list[Any]:
        found = await self._call(
            "read your added models", "", lambda: self._js.getPref(self._db, USER_MODELS)
        )
        value = None if is_nullish(found) else py_value(found)
        return list(value) if isinstance(value, list) else []

    async def put_user_models(self, records: Sequence[Mapping[str, Any]]) -> None:
        value = js_value([dict(r) for r in records])
        await self._call(
            "save your added models", "", lambda: self._js.putPref(self._db, USER_MODELS, value)
        )

    async def get_endpoint_keys(self) -> dict[str, str]:
        found = await self._call(
            "read your servers' keys", "", lambda: self._js.getPref(self._db, ENDPOINT_KEYS)
        )
        return keys_from(None if is_nullish(found) else py_value(found))

    async def put_endpoint_keys(self, keys: Mapping[str, str]) -> None:
        value = js_value(dict(keys))
        await self._call(
            "save your servers' keys",
            "",
            lambda: self._js.putPref(self._db, ENDPOINT_KEYS, value),
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
