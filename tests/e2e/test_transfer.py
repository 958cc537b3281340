"""Export and import in real Chromium: downloads, the file input, IndexedDB, the real models.

A round trip (export, delete, import) must give back exactly the records that were stored:
branches, settings, reply metadata and all. A file that is not a valid export (not JSON, the
wrong shape, an unknown role, a parent outside its conversation, a cycle, nesting that would
crash Pyodide's parser, a 200 MB file) changes nothing and the banner says why. Ids that are
taken get new ones; hostile text renders inert. Payloads are made in memory, never on disk.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .test_hostile_content import HOSTILE, HOSTILE_TITLE, hostile_records, inspect_inert

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"
MODEL_A = "tinylm/tiny-chat-a"
LABEL_A = "Tiny Chat A (bundled)"
SETTINGS = {"systemPrompt": "Answer briefly.", "temperature": 0.5, "maxNewTokens": 200}
DATE = r"\d{4}-\d{2}-\d{2}"

# Remembers every object URL the page makes and revokes (window.__objectUrls), and every read
# of a Blob's text (window.__blobReads): a file refused for its size must never be read.
WATCH_FILES = """(() => {
  window.__objectUrls = { made: [], revoked: [] };
  const make = URL.createObjectURL, revoke = URL.revokeObjectURL;
  URL.createObjectURL = (blob) => {
    const url = make(blob);
    window.__objectUrls.made.push(url);
    return url;
  };
  URL.revokeObjectURL = (url) => { window.__objectUrls.revoked.push(url); revoke(url); };
  window.__blobReads = 0;
  const text = Blob.prototype.text;
  Blob.prototype.text = function () { window.__blobReads += 1; return text.call(this); };
})()"""

# Opens the database without a version, so it never races the app's own schema upgrade.
SET_SETTINGS = """([id, settings]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('parlance');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction('conversations', 'readwrite');
    const store = tx.objectStore('conversations');
    const got = store.get(id);
    got.onsuccess = () => store.put({ ...got.result, settings });
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def open_chat(page: Page) -> ChatPage:
    page.add_init_script(WATCH_FILES)
    return ChatPage(page).open(CHAT)


def by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: str(r["id"]))


def stored(chat: ChatPage) -> dict[str, list[dict[str, Any]]]:
    """Every stored record, in id order (IndexedDB's own order is by key already; this makes
    the comparison independent of it)."""
    found = chat.stored()
    return {"conversations": by_id(found["conversations"]), "messages": by_id(found["messages"])}


def download(page: Page, testid: str) -> tuple[str, str]:
    """Click an export button; the downloaded file's name and text."""
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    saved = info.value
    return saved.suggested_filename, Path(saved.path()).read_text(encoding="utf-8")


def pick(page: Page, name: str, data: bytes | str) -> None:
    """Choose a file in the `import` input, made in memory."""
    buffer = data.encode() if isinstance(data, str) else data
    page.get_by_test_id("import").set_input_files(
        {"name": name, "mimeType": "application/json", "buffer": buffer}
    )


def shown_messages(chat: ChatPage) -> list[tuple[str | None, str]]:
    return [(m.get_attribute("data-role"), chat.content(m)) for m in chat.messages.all()]


def export_of(conversation: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    """An export file holding one conversation, from records in the store's shape."""
    items = []
    for message in messages:
        item = {k: v for k, v in message.items() if k != "conversationId"}
        items.append(item)
    document = {
        "format": "parlance",
        "version": 1,
        "exportedAt": "2026-11-21T09:00:00Z",
        "conversations": [{**conversation, "messages": items}],
    }
    return json.dumps(document)


def small_chat(conversation_id: str, now: int) -> str:
    conversation: dict[str, Any] = {
        "id": conversation_id, "title": "Seeded", "model": None,
        "createdAt": now, "updatedAt": now + 1, "settings": {},
    }  # fmt: skip
    messages: list[dict[str, Any]] = [
        {"id": f"{conversation_id}-q", "parentId": None, "role": "user", "content": "hello",
         "createdAt": now, "status": "done", "metadata": {}},
        {"id": f"{conversation_id}-r", "parentId": f"{conversation_id}-q", "role": "assistant",
         "content": "hi there", "createdAt": now + 1, "status": "done",
         "metadata": {"model": MODEL_A, "tokens": 2}},
    ]  # fmt: skip
    return export_of(conversation, messages)


def test_export_delete_import_gives_back_every_record_branches_settings_and_metadata(
    page: Page,
) -> None:
    chat = open_chat(page)
    chat.ask("hi")
    page.get_by_test_id("regenerate").click()  # a second reply to "hi": a sibling
    # The sibling count shows once the regenerate's turn has ended.
    expect(chat.reply().get_by_test_id("branch-position")).to_have_text("2/2")
    chat.wait_reply_finished()
    chat.ask("Write code")
    first = chat.conversation_id()
    page.evaluate(SET_SETTINGS, [first, SETTINGS])
    page.get_by_test_id("new-chat").click()
    expect_route(page, r"#/chat$")
    expect(chat.messages).to_have_count(0)  # the new chat is open before `ask` counts replies
    chat.ask("Write code")
    expect_route(page, r"#/chat/\w+$")
    second = chat.conversation_id()
    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    expect(chat.messages).to_have_count(4)
    before = stored(chat)
    assert len(before["messages"]) == 7
    shown = shown_messages(chat)

    name, text = download(page, "export")
    assert re.fullmatch(f"parlance-hi-{DATE}.json", name), name
    one = json.loads(text)
    assert (one["format"], one["version"]) == ("parlance", 1)
    (exported,) = one["conversations"]
    assert exported["settings"] == SETTINGS and len(exported["messages"]) == 5

    name, markdown = download(page, "export-markdown")
    assert re.fullmatch(f"parlance-hi-{DATE}.md", name), name
    assert markdown.startswith("# hi\n")
    assert "(4 of 5 messages); the JSON export keeps every branch." in markdown
    assert f"## {LABEL_A} ({MODEL_A})" in markdown and "## You\n\nWrite code\n" in markdown
    assert "```" in markdown  # the code reply's fence, verbatim

    name, everything = download(page, "export-all")
    assert re.fullmatch(f"parlance-all-{DATE}.json", name), name
    assert {c["id"] for c in json.loads(everything)["conversations"]} == {first, second}
    # Each download's object URL is revoked once the browser has it.
    page.wait_for_function(
        "window.__objectUrls.made.length === 3 && window.__objectUrls.revoked.length === 3"
    )

    for conversation_id in (first, second):
        chat.item(conversation_id).get_by_test_id("conversation-delete").click()
        page.get_by_test_id("confirm").click()
        expect(chat.item(conversation_id)).to_have_count(0)
    chat.wait_stored("s => s.conversations.length === 0 && s.messages.length === 0")

    pick(page, name, everything)
    expect(chat.items()).to_have_count(2)
    chat.wait_stored("s => s.messages.length === 7")
    assert stored(chat) == before  # every field of every record, lanes included
    expect(page.get_by_test_id("announcer")).to_have_text("Imported 2 conversations")
    expect(page.get_by_test_id("import-result")).to_have_text("Imported 2 conversations")
    expect(page.get_by_test_id("error")).to_be_hidden()

    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    expect(chat.messages).to_have_count(4)
    assert shown_messages(chat) == shown
    expect(chat.reply(0)).to_have_attribute("data-model", MODEL_A)
    expect(chat.reply(0).get_by_test_id("message-info")).to_contain_text("tok/s")


def test_importing_a_file_whose_ids_are_taken_adds_a_copy_and_overwrites_nothing(
    page: Page,
) -> None:
    chat = open_chat(page)
    chat.ask("hi")
    original = chat.conversation_id()
    before = stored(chat)
    in_time = sorted(before["messages"], key=lambda m: m["createdAt"])
    name, text = download(page, "export")

    pick(page, name, text)
    # One conversation imported: it opens, with ids of its own.
    expect(chat.items()).to_have_count(2)
    expect_route(page, r"#/chat/\w+$")
    page.wait_for_function(f"!location.hash.endsWith('/{original}')")
    copy = chat.conversation_id()
    expect(chat.item(copy)).to_have_attribute("aria-current", "page")
    expect(chat.messages).to_have_count(2)
    assert [c for _, c in shown_messages(chat)] == [m["content"] for m in in_time]
    expect(page.get_by_test_id("announcer")).to_have_text("Imported 1 conversation: hi")

    after = stored(chat)
    kept = [c for c in after["conversations"] if c["id"] == original]
    assert kept == before["conversations"]
    assert [m for m in after["messages"] if m["conversationId"] == original] == before["messages"]
    copied = [m for m in after["messages"] if m["conversationId"] == copy]
    old_ids = {m["id"] for m in before["messages"]}
    assert len(copied) == 2 and not {m["id"] for m in copied} & old_ids
    question, reply = sorted(copied, key=lambda m: m["createdAt"])
    assert reply["parentId"] == question["id"] and reply["lane"] == question["id"]
    assert reply["metadata"] == in_time[1]["metadata"]


def test_broken_and_hostile_files_change_nothing_and_the_banner_says_why(page: Page) -> None:
    chat = open_chat(page)
    now = int(time.time() * 1000)
    pick(page, "seed.json", small_chat("seed", now))
    expect(chat.items()).to_have_count(1)
    chat.wait_stored("s => s.messages.length === 2")
    before = stored(chat)
    good = json.loads(small_chat("other", now))

    def edited(change: Any) -> str:
        document = json.loads(json.dumps(good))
        change(document["conversations"][0])
        return json.dumps(document)

    def message(index: int, **fields: Any) -> Any:
        return lambda c: c["messages"][index].update(fields)

    refused: list[tuple[str, bytes | str, str]] = [
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00binary",
         "This file is not JSON (line 1, column 1: Expecting value)."),
        ("shape.json", json.dumps({**good, "conversations": {"a": 1}}),
         "conversations: must be a list, not an object."),
        ("notes.json", json.dumps({"title": "my notes", "messages": []}),
         'This is not a Parlance export: it has no "format": "parlance".'),
        ("role.json", edited(message(1, role="wizard")),
         "conversations[0].messages[1].role: 'wizard' is not one of user, assistant."),
        ("parent.json", edited(message(1, parentId="seed-q")),
         "conversations[0].messages[1].parentId: 'seed-q' is not a message of this "
         "conversation."),
        ("cycle.json", edited(message(0, parentId="other-r")),
         "conversations[0].messages[0].parentId: 'other-r' leads back to this message "
         "(a cycle)."),
        ("deep.json", "[" * 200_000 + "]" * 200_000,
         "This file nests lists or objects more than 32 levels deep; an export never does."),
    ]  # fmt: skip
    error = page.get_by_test_id("error")
    said = error.locator(".error-text")
    for name, payload, reason in refused:
        pick(page, name, payload)
        expect(said).to_have_text(f"Nothing was imported from {name}. {reason}")
        assert stored(chat) == before, name
        page.get_by_test_id("error-dismiss").click()
        expect(error).to_be_hidden()

    # A 200 MB file, made in the page: refused by its size, never read.
    page.evaluate(
        """() => {
          const megabyte = new Uint8Array(1024 * 1024).fill(32);
          const file = new File(Array(200).fill(megabyte), 'huge.json',
                                { type: 'application/json' });
          const picked = new DataTransfer();
          picked.items.add(file);
          const input = document.querySelector('[data-testid=import]');
          input.files = picked.files;
          input.dispatchEvent(new Event('change', { bubbles: true }));
        }"""
    )
    expect(said).to_have_text(
        "Nothing was imported from huge.json. It is 210 MB, and Parlance imports files of up "
        "to 50 MB."
    )
    assert page.evaluate("window.__blobReads") == len(refused) + 1  # the seed and the rest
    assert stored(chat) == before
    expect(chat.items()).to_have_count(1)

    # After all that the app still imports a good file.
    pick(page, "other.json", json.dumps(good))
    expect(chat.items()).to_have_count(2)


def test_imported_hostile_text_renders_inert_like_model_output(page: Page) -> None:
    chat = open_chat(page)
    conversation, messages = hostile_records(int(time.time() * 1000))
    for previous, message in zip([None, *messages], messages, strict=False):
        message["parentId"] = previous["id"] if previous else None
    pick(page, "hostile.json", export_of(conversation, messages))
    expect_route(page, f"#/chat/{conversation['id']}$")
    expect(chat.messages).to_have_count(len(messages))
    expect(page.get_by_test_id("conversation-title")).to_have_text(HOSTILE_TITLE)
    expect(page.get_by_test_id("import-result")).to_have_text(
        f"Imported 1 conversation: {HOSTILE_TITLE}"
    )
    inspect_inert(page)
    users = page.locator('[data-testid=message][data-role="user"]')
    expect(users.first).to_have_text(re.compile(re.escape(HOSTILE[0])))
