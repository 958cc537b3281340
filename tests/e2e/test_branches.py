"""Edit and branch: an edit starts a new branch and keeps the old one; the user steps between
siblings; a conversation reopens on the branch last shown; a database written before branches
opens with every message."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"


def two_exchanges(page: Page) -> ChatPage:
    chat = ChatPage(page).open(CHAT)
    chat.ask("first question")
    chat.ask("second question")
    expect(chat.messages).to_have_count(4)
    return chat


def texts(chat: ChatPage) -> list[str]:
    return [chat.content(m) for m in chat.messages.all()]


def test_an_edit_starts_a_new_branch_and_the_old_one_stays(page: Page) -> None:
    chat = two_exchanges(page)
    original = texts(chat)
    first = chat.messages.first
    first.get_by_test_id("message-edit").click()
    box = first.get_by_test_id("message-edit-input")
    expect(box).to_be_focused()
    expect(box).to_have_value("first question")
    box.fill("first question, asked better")
    first.get_by_test_id("message-edit-save").click()
    expect(chat.messages).to_have_count(2)
    chat.wait_reply_finished()
    assert chat.content(chat.messages.first) == "first question, asked better"
    expect(chat.messages.first.get_by_test_id("branch-position")).to_have_text("2/2")
    cid = chat.conversation_id()
    assert chat.stored_message_count(cid) == 6
    stored = chat.stored_messages(cid)
    edited = next(m for m in stored if m["content"] == "first question, asked better")
    assert edited["parentId"] is None  # a sibling of the first message, not a follow-up

    # By keyboard: the focus stays on the version controls of that message.
    chat.messages.first.get_by_test_id("branch-prev").focus()
    page.keyboard.press("Enter")
    expect(chat.messages).to_have_count(4)
    assert texts(chat) == original
    expect(chat.messages.first.get_by_test_id("branch-position")).to_have_text("1/2")
    expect(chat.messages.first.get_by_test_id("branch-next")).to_be_focused()
    # Reopened, also after a reload, on the branch last shown.
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(chat.messages).to_have_count(4)
    assert texts(chat) == original
    chat.messages.first.get_by_test_id("branch-next").click()
    expect(chat.messages).to_have_count(2)
    expect(chat.messages.first.get_by_test_id("branch-position")).to_have_text("2/2")


def test_escape_or_cancel_leaves_the_message_as_it_was(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.ask("keep me")
    user = chat.messages.first
    user.get_by_test_id("message-edit").click()
    user.get_by_test_id("message-edit-input").fill("changed")
    page.keyboard.press("Escape")
    expect(user.get_by_test_id("message-edit-input")).to_have_count(0)
    expect(user.get_by_test_id("message-content")).to_have_text("keep me")
    expect(user.get_by_test_id("message-edit")).to_be_focused()
    user.get_by_test_id("message-edit").click()
    # Saving the same text makes no new version.
    user.get_by_test_id("message-edit-input").fill("keep me  ")
    user.get_by_test_id("message-edit-save").click()
    expect(user.get_by_test_id("message-edit-input")).to_have_count(0)
    user.get_by_test_id("message-edit").click()
    user.get_by_test_id("message-edit-cancel").click()
    expect(user.get_by_test_id("message-edit-input")).to_have_count(0)
    expect(chat.messages).to_have_count(2)
    assert chat.stored_message_count(chat.conversation_id()) == 2
    expect(page.get_by_test_id("branch-position")).to_have_count(0)


def test_editing_is_not_offered_while_a_reply_streams(page: Page, catalog_for: Any) -> None:
    catalog = catalog_for(min_new_tokens=1500)
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog}#/chat")
    chat.send("tell me a long story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    expect(chat.messages.first.get_by_test_id("message-edit")).to_be_disabled()
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    expect(chat.messages.first.get_by_test_id("message-edit")).to_be_enabled()


# The schema of the first version (IndexedDB version 1), as that version created it.
WRITE_V1 = """({conversations, messages}) => new Promise((resolve, reject) => {
  const open = indexedDB.open('parlance', 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore('conversations', {keyPath: 'id'}).createIndex('byUpdatedAt', 'updatedAt');
    db.createObjectStore('messages', {keyPath: 'id'})
      .createIndex('byConversationTime', ['conversationId', 'createdAt']);
  };
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


def test_a_database_written_before_branches_opens_with_every_message(page: Page) -> None:
    conversations = [
        {"id": "old-1", "title": "Old chat", "model": None, "createdAt": 1, "updatedAt": 50},
        {"id": "old-2", "title": "Other", "model": None, "createdAt": 2, "updatedAt": 20},
    ]
    messages = [
        {"id": f"m{i}", "conversationId": "old-1", "role": "user" if i % 2 == 0 else "assistant",
         "content": f"old message {i}", "createdAt": 10 + i, "status": "done",
         "metadata": {"model": "tinylm/tiny-chat-a"} if i % 2 else {}}
        for i in range(5)
    ] + [
        {"id": "n0", "conversationId": "old-2", "role": "user", "content": "lone question",
         "createdAt": 15, "status": "done", "metadata": {}},
    ]  # fmt: skip
    # A page of the same origin that is not the app: the database is written before it opens.
    page.goto("models/test-catalog.json")
    page.evaluate(WRITE_V1, {"conversations": conversations, "messages": messages})
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat/old-1")
    expect(chat.messages).to_have_count(5)
    assert texts(chat) == [f"old message {i}" for i in range(5)]
    stored = chat.stored()
    assert len(stored["messages"]) == 6 and len(stored["conversations"]) == 2
    line = chat.stored_messages("old-1")
    assert [m["parentId"] for m in line] == [None, "m0", "m1", "m2", "m3"]
    assert {m["lane"] for m in line} == {"m0"}
    # The chat goes on from where it was.
    chat.ask("a new question")
    expect(chat.messages).to_have_count(7)
    after = chat.stored_messages("old-1")
    assert after[5]["parentId"] == "m4" and after[5]["lane"] == "m0"
    page.get_by_test_id("conversation-list").get_by_text("Other").click()
    expect_route(page, r"#/chat/old-2$")
    expect(chat.messages).to_have_count(1)


def test_stored_records_whose_parents_loop_still_open(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.seed(
        [{"id": "loop", "title": "Looped", "model": None, "createdAt": 1, "updatedAt": 2}],
        [
            {"id": "x", "conversationId": "loop", "role": "user", "content": "one",
             "createdAt": 1, "status": "done", "metadata": {}, "parentId": "y", "lane": "x"},
            {"id": "y", "conversationId": "loop", "role": "assistant", "content": "two",
             "createdAt": 2, "status": "done", "metadata": {}, "parentId": "x", "lane": "x"},
        ],
    )  # fmt: skip
    chat.open(CHAT.replace("#/chat", "#/chat/loop"))
    expect(chat.messages).to_have_count(2)
    chat.ask("and on")
    expect(chat.messages).to_have_count(4)
