"""A page object for the chat, written against UI-CONTRACT.md's test ids only."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import READY

# Writes fail like a full disk once a test sets window.__diskFull (IndexedDB throws
# QuotaExceededError from put/add/delete, as Chromium does when the quota is reached).
FULL_DISK = """(() => {
  for (const name of ['put', 'add', 'delete']) {
    const real = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (window.__diskFull) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return real.apply(this, args);
    };
  }
})()"""

FINISHED = '[data-status="done"], [data-status="stopped"], [data-status="error"]'


def expect_route(page: Page, pattern: str) -> None:
    """Wait until `location.hash` matches `pattern` (a regular expression).

    Not `expect(page).to_have_url`: Playwright's page.url misses a history.replaceState that
    follows a hash navigation (Chromium 156), so it can stay on the old hash.
    """
    page.wait_for_function("(p) => new RegExp(p).test(location.hash)", arg=pattern)


class ChatPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.app = page.get_by_test_id("app")
        self.input = page.get_by_test_id("chat-input")
        self.messages = page.get_by_test_id("message")
        self.assistant = page.locator('[data-testid=message][data-role="assistant"]')

    def open(self, path: str = "#/chat") -> ChatPage:
        self.page.goto(path)
        self.page.wait_for_selector(READY)
        return self

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def reply(self, index: int = -1) -> Locator:
        return self.assistant.nth(index) if index >= 0 else self.assistant.last

    def wait_reply_finished(self, index: int = -1) -> Locator:
        reply = self.reply(index)
        expect(reply).to_have_attribute("data-status", "done")
        return reply

    def ask(self, text: str) -> Locator:
        """Send `text` and wait for its reply to finish."""
        before = self.assistant.count()
        self.send(text)
        expect(self.assistant).to_have_count(before + 1)
        return self.wait_reply_finished(before)

    def content(self, message: Locator) -> str:
        return message.get_by_test_id("message-content").inner_text().strip()

    def record_stream(self) -> None:
        """Record every text an assistant reply shows while it streams (window.__chunks)."""
        self.page.evaluate(
            """() => {
              window.__chunks = [];
              const list = document.querySelector('[data-testid=app]');
              new MutationObserver(() => {
                const replies = document.querySelectorAll(
                  '[data-testid=message][data-role=assistant] [data-testid=message-content]');
                const last = replies[replies.length - 1];
                if (!last) return;
                const chunks = window.__chunks;
                if (chunks[chunks.length - 1] !== last.textContent) chunks.push(last.textContent);
              }).observe(list, {subtree: true, childList: true, characterData: true});
            }"""
        )

    def streamed_texts(self) -> list[str]:
        return [t for t in self.page.evaluate("window.__chunks") if t]

    # -- sidebar --------------------------------------------------------------------------

    def items(self) -> Locator:
        return self.page.get_by_test_id("conversation-item")

    def item(self, conversation_id: str) -> Locator:
        return self.page.locator(
            f'[data-testid=conversation-item][data-conversation-id="{conversation_id}"]'
        )

    def sidebar_ids(self) -> list[str]:
        return [str(item.get_attribute("data-conversation-id")) for item in self.items().all()]

    def conversation_id(self) -> str:
        """The open conversation's id, from the hash route.

        A new chat's route names it once its first message is stored, which may be a moment
        after the reply has started (the model does not wait for the store), so this waits.
        """
        self.page.wait_for_function("/^#\\/chat\\/[^/]+/.test(location.hash)")
        return str(self.page.evaluate("location.hash")).split("#/chat/")[1]

    def stored_message_count(self, conversation_id: str) -> int:
        """Messages IndexedDB holds for a conversation, read straight from the database."""
        return int(
            self.page.evaluate(
                """(id) => new Promise((resolve, reject) => {
                  const open = indexedDB.open('parlance');
                  open.onsuccess = () => {
                    const tx = open.result.transaction('messages');
                    const all = tx.objectStore('messages').getAll();
                    all.onsuccess = () => {
                      resolve(all.result.filter((m) => m.conversationId === id).length);
                      open.result.close();
                    };
                    all.onerror = () => reject(all.error);
                  };
                  open.onerror = () => reject(open.error);
                })""",
                conversation_id,
            )
        )

    # -- the database, read and written straight (as another tab or an old version would) ---

    def stored(self) -> dict[str, Any]:
        """Every stored conversation and message, as the records IndexedDB holds."""
        return dict(self.page.evaluate(_READ_ALL))

    def stored_conversation(self, conversation_id: str) -> dict[str, Any]:
        found = [c for c in self.stored()["conversations"] if c["id"] == conversation_id]
        assert found, f"no stored conversation {conversation_id}"
        return dict(found[0])

    def stored_defaults(self) -> dict[str, Any] | None:
        """The settings new chats start with, as the `prefs` store holds them (None: unset)."""
        found = self.page.evaluate(_READ_DEFAULTS)
        return None if found is None else dict(found)

    def stored_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        found = [m for m in self.stored()["messages"] if m["conversationId"] == conversation_id]
        return sorted(found, key=lambda m: m.get("createdAt") or 0)

    def wait_stored(self, predicate: str, timeout_ms: float = 30_000) -> None:
        """Wait until `predicate` (JS, given {conversations, messages}) holds for the store.

        IndexedDB answers asynchronously, which `wait_for_function` does not await, so this
        asks the store every 100 ms until it holds (a wait for a state, with a deadline).
        """
        check = f"async () => Boolean(({predicate})(await ({_READ_ALL})()))"
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.page.evaluate(check):
            assert time.monotonic() < deadline, f"the store never satisfied {predicate}"
            self.page.wait_for_timeout(100)

    def seed(self, conversations: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
        """Write records straight into the app's database (after it created its schema).

        Messages that do not say where they sit in the tree (no `lane`) are threaded as one
        line per conversation in time order, after the conversation's stored messages, as the
        schema's v2 migration files messages stored before branches."""
        if any("lane" not in m for m in messages):
            messages = threaded(self.stored()["messages"], messages)
        self.page.evaluate(_WRITE_ALL, {"conversations": conversations, "messages": messages})


def threaded(stored: list[dict[str, Any]], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with parentId, lane and (on a lane start) forkParent, where they have none."""
    last: dict[str, dict[str, Any]] = {}
    rewritten = {m.get("id") for m in messages}
    for record in sorted(stored, key=lambda m: m.get("createdAt") or 0):
        if record.get("id") not in rewritten:  # a record seeded again is placed anew
            last[record["conversationId"]] = record
    placed = []
    for record in sorted(messages, key=lambda m: m.get("createdAt") or 0):
        if "lane" not in record:
            parent = last.get(record["conversationId"])
            record = {**record, "parentId": parent["id"] if parent else None}
            record["lane"] = parent["lane"] if parent else record["id"]
            if record["lane"] == record["id"]:
                record["forkParent"] = ""
        last[record["conversationId"]] = record
        placed.append(record)
    return placed


_READ_ALL = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('parlance');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction(['conversations', 'messages']);
    const c = tx.objectStore('conversations').getAll();
    const m = tx.objectStore('messages').getAll();
    tx.oncomplete = () => { db.close(); resolve({conversations: c.result, messages: m.result}); };
    tx.onerror = () => reject(tx.error);
  };
})"""

_READ_DEFAULTS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('parlance');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const read = db.transaction('prefs').objectStore('prefs').get('defaults');
    read.onsuccess = () => { db.close(); resolve(read.result ?? null); };
    read.onerror = () => reject(read.error);
  };
})"""

_WRITE_ALL = """({conversations, messages}) => new Promise((resolve, reject) => {
  const open = indexedDB.open('parlance');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction(['conversations', 'messages'], 'readwrite');
    conversations.forEach((c) => tx.objectStore('conversations').put(c));
    messages.forEach((m) => tx.objectStore('messages').put(m));
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})"""
