"""Nothing lost: stop that always stops, full disks, malformed records, odd input (issue 8).

Each test reproduces a fault a hostile tester found, in real Chromium with its real IndexedDB
(made to fail by init scripts where a disk would fail).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .chat_page import FULL_DISK, ChatPage, expect_route
from .conftest import MODEL_A, OUTSIDE, READY, CatalogFor, NetworkGuard, canned


def model_ready(page: Page) -> None:
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-state", "ready")


def banner(page: Page) -> str:
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    return str(error.inner_text())


# -- stop ---------------------------------------------------------------------------------


def test_stop_before_the_first_token_stops_the_reply(page: Page, catalog_for: CatalogFor) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    model_ready(page)
    chat.send("Tell me a story")
    page.get_by_test_id("stop").click()  # as soon as it shows: before any text
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    cid = chat.conversation_id()
    (reply,) = [m for m in chat.stored_messages(cid) if m["role"] == "assistant"]
    assert reply["status"] == "stopped"
    assert reply["metadata"].get("tokens", 0) < 1500


def test_stop_while_the_model_is_still_loading_ends_the_turn_at_once(
    page: Page, catalog_for: CatalogFor
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    chat.send("Tell me a story")
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    expect(page.get_by_test_id("send")).to_be_visible()
    chat.send("hi")  # the chat is usable at once, and the model answers the next turn
    expect(chat.assistant).to_have_count(2)
    expect(chat.reply()).to_have_attribute("data-status", "done", timeout=120_000)


def test_opening_another_chat_mid_reply_leaves_at_once_and_saves_the_reply_stopped(
    page: Page, catalog_for: CatalogFor
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    first = chat.conversation_id()
    page.get_by_test_id("new-chat").click()
    expect(chat.messages).to_have_count(0)
    (reply,) = [m for m in chat.stored_messages(first) if m["role"] == "assistant"]
    assert reply["status"] == "stopped" and reply["metadata"].get("tokens", 0) < 1500


def test_deleting_the_chat_that_is_replying_deletes_it_for_good(
    page: Page, catalog_for: CatalogFor
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply().get_by_test_id("message-content")).not_to_be_empty()
    doomed = chat.conversation_id()
    chat.item(doomed).hover()
    chat.item(doomed).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    expect(chat.items()).to_have_count(0)
    page.reload()
    page.wait_for_selector(READY)
    assert chat.stored() == {"conversations": [], "messages": []}


# -- a full disk --------------------------------------------------------------------------


def test_a_regenerate_on_a_full_disk_keeps_the_stored_reply(page: Page) -> None:
    page.add_init_script(FULL_DISK)
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    first = chat.content(chat.ask("hi"))
    cid = chat.conversation_id()
    page.evaluate("window.__diskFull = true")
    page.get_by_test_id("regenerate").click()
    assert "full" in banner(page)
    stored = chat.stored_messages(cid)
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", "hi", "done"),
        ("assistant", first, "done"),
    ]
    expect(chat.reply().get_by_test_id("message-content")).to_have_text(first)
    page.evaluate("window.__diskFull = false")
    page.reload()
    page.wait_for_selector(READY)
    expect(chat.messages).to_have_count(2)
    assert chat.content(chat.reply()) == first


def test_a_first_message_the_disk_refuses_is_handed_back_and_its_reply_stopped(
    page: Page, catalog_for: CatalogFor
) -> None:
    """The message is stored while the model already answers (app/core/sending.py): when the
    store refuses it, the reply stops, nothing half-made is stored or left on screen, the text is
    back in the input and the banner says what happened to both."""
    page.add_init_script(FULL_DISK)
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=200)}#/chat")
    model_ready(page)
    page.evaluate("window.__diskFull = true")
    chat.send("Tell me a story")
    text = banner(page)
    assert "full" in text and "back in the input" in text and "not saved" in text
    expect(chat.input).to_have_value("Tell me a story")
    expect(chat.messages).to_have_count(0)
    expect(page.get_by_test_id("stop")).to_be_hidden()
    assert page.evaluate("location.hash") == "#/chat"
    assert chat.stored()["conversations"] == []


def test_a_reply_that_cannot_be_stored_is_never_shown_as_done(
    page: Page, catalog_for: CatalogFor
) -> None:
    page.add_init_script(FULL_DISK)
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=200)}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply().get_by_test_id("message-content")).not_to_be_empty()
    page.evaluate("window.__diskFull = true")
    expect(chat.reply()).to_have_attribute("data-status", "error")
    assert "full" in banner(page)
    expect(chat.reply().get_by_test_id("message-info")).to_contain_text("not saved")
    assert chat.content(chat.reply()).startswith("Once upon a time")  # the text stays
    stored = chat.stored_messages(chat.conversation_id())
    assert stored[0]["content"] == "Tell me a story"
    assert all(m["status"] != "done" for m in stored if m["role"] == "assistant")


def test_a_chat_with_an_interrupted_reply_opens_even_when_writes_fail(page: Page) -> None:
    page.add_init_script(FULL_DISK)
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.seed(
        [{"id": "c1", "title": "Cut off", "model": None, "createdAt": 1, "updatedAt": 2}],
        [
            {"id": "u", "conversationId": "c1", "role": "user", "content": "hi", "createdAt": 1,
             "status": "done", "metadata": {}},
            {"id": "a", "conversationId": "c1", "role": "assistant", "content": "Hel",
             "createdAt": 2, "status": "streaming", "metadata": {"model": MODEL_A}},
        ],
    )  # fmt: skip
    page.evaluate("window.__diskFull = true")
    page.goto("?device=wasm&catalog=models/test-catalog.json#/chat/c1")
    expect(chat.messages).to_have_count(2)
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    assert "stopped" in banner(page)


# -- start-up -----------------------------------------------------------------------------


def no_indexeddb(page: Page) -> None:
    page.add_init_script(
        "Object.defineProperty(window, 'indexedDB', {value: undefined, configurable: true})"
    )


def test_without_indexeddb_the_app_starts_says_so_and_chats_in_memory(page: Page) -> None:
    no_indexeddb(page)
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    assert "will not be kept" in banner(page)
    assert chat.content(chat.ask("hi")) == canned("tiny-chat-a", "hi")["answer"]
    expect(chat.items()).to_have_count(1)


def test_an_indexeddb_that_refuses_to_open_still_lets_the_app_start(page: Page) -> None:
    page.add_init_script(
        "IDBFactory.prototype.open = function () {"
        " throw new DOMException('The operation is insecure.', 'SecurityError'); }"
    )
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    text = banner(page)
    assert "refuses to open IndexedDB" in text and "will not be kept" in text
    chat.ask("hi")


def test_a_database_that_never_opens_is_reported_within_seconds(page: Page) -> None:
    page.add_init_script("""(() => {
      const real = IDBFactory.prototype.open;
      IDBFactory.prototype.open = function (name, version) {
        if (name !== 'parlance') return real.call(this, name, version);
        return {};  // a request whose events never fire
      };
    })()""")
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    assert "did not open within 5 seconds" in banner(page)
    chat.ask("hi")


def test_a_start_that_fails_before_python_runs_says_what_failed(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(base_url=base_url)
    guard = NetworkGuard()
    context.route(OUTSIDE, guard)
    page = context.new_page()
    # Python's standard library missing from the site: Pyodide cannot start.
    page.route("**/python_stdlib.zip", lambda route: route.fulfill(status=404, body="gone"))
    page.goto("?device=wasm&catalog=models/test-catalog.json#/chat")
    expect(page.get_by_test_id("error")).to_contain_text("Parlance could not start")
    expect(page.get_by_test_id("error")).to_contain_text("ExitStatus")
    expect(page.locator(".boot-note")).to_have_text("Parlance could not start.")
    context.close()
    assert guard.blocked == []


def seed_one_chat(chat: ChatPage) -> None:
    chat.open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.seed(
        [{"id": "kept", "title": "Kept chat", "model": None, "createdAt": 1, "updatedAt": 1}],
        [{"id": "m", "conversationId": "kept", "role": "user", "content": "still here",
          "createdAt": 1, "status": "done", "metadata": {}}],
    )  # fmt: skip


def test_a_broken_catalog_falls_back_to_the_shipped_one_and_keeps_the_chats(
    page: Page, site_root: Path
) -> None:
    chat = ChatPage(page)
    seed_one_chat(chat)
    (site_root / "test-catalogs" / "not-json.json").write_text("{ this is not json")
    chat.open("?device=wasm&catalog=test-catalogs/not-json.json#/chat/kept")
    text = banner(page)
    assert "unusable" in text and "ships with" in text
    expect(chat.messages).to_have_count(1)
    expect(chat.items()).to_have_count(1)


def test_a_catalog_that_cannot_be_fetched_falls_back_too(page: Page) -> None:
    chat = ChatPage(page)
    seed_one_chat(chat)
    chat.open("?device=wasm&catalog=test-catalogs/nothing-here.json#/chat/kept")
    assert "HTTP 404" in banner(page)
    expect(chat.messages).to_have_count(1)


def test_a_catalog_from_another_origin_or_a_data_url_is_refused(page: Page) -> None:
    chat = ChatPage(page)
    for url in ["http://evil.example/catalog.json", "data:application/json,%7B%7D"]:
        chat.open(f"?device=wasm&catalog={url}#/chat")
        assert "not on this site" in banner(page)
        expect(page.get_by_test_id("model-select").locator("option")).not_to_have_count(1)


# -- odd input ----------------------------------------------------------------------------


def test_a_second_enter_at_once_keeps_its_text_in_the_input(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    page.evaluate("""() => {
      const input = document.querySelector('[data-testid=chat-input]');
      const enter = () => input.dispatchEvent(
        new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true}));
      input.value = 'hi';
      enter();
      input.value = 'second thought';
      enter();
    }""")
    chat.wait_reply_finished()
    expect(chat.input).to_have_value("second thought")
    users = [m for m in chat.stored_messages(chat.conversation_id()) if m["role"] == "user"]
    assert [m["content"] for m in users] == ["hi"]


def test_invisible_input_sends_nothing(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.send("\u200b\u200b ")
    chat.send("hi")
    chat.wait_reply_finished()
    users = page.locator('[data-testid=message][data-role="user"]')
    expect(users).to_have_count(1)


def test_malformed_stored_records_do_not_hide_their_conversation(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.seed(
        [{"id": "odd", "title": "Odd records", "model": None, "createdAt": 5}],  # no updatedAt
        [
            {"id": "1", "conversationId": "odd", "role": "user", "content": "fine",
             "createdAt": 1, "status": "done", "metadata": {}},
            {"id": "2", "conversationId": "odd", "role": "assistant", "content": "odd metadata",
             "createdAt": 2, "status": "done", "metadata": "oops"},
            {"id": "3", "conversationId": "odd", "role": "wizard", "content": "no such role",
             "createdAt": 3},
            {"id": "4", "conversationId": "odd", "role": "user", "content": 42, "createdAt": 4,
             "status": "exploded"},
        ],
    )  # fmt: skip
    page.reload()
    page.wait_for_selector(READY)
    expect(chat.items()).to_have_count(1)  # listed although it has no updatedAt
    chat.item("odd").click()
    expect_route(page, "#/chat/odd$")
    expect(chat.messages).to_have_count(3)
    expect(chat.messages.nth(1).get_by_test_id("message-content")).to_have_text("odd metadata")
    expect(page.get_by_test_id("error")).to_be_hidden()


def test_a_message_too_long_for_the_model_is_refused_and_the_chat_goes_on(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.input.fill("x" * 1_000_000)
    chat.input.press("Enter")
    expect(chat.reply()).to_have_attribute("data-status", "error")
    assert "too long" in banner(page)
    assert chat.content(chat.ask("hi")) == canned("tiny-chat-a", "hi")["answer"]


def test_a_history_longer_than_the_window_is_trimmed_and_the_reply_says_so(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    long_text = " ".join(f"word{i}" for i in range(3000))
    chat.seed(
        [{"id": "long", "title": "Long", "model": None, "createdAt": 1, "updatedAt": 2}],
        [
            {"id": "u", "conversationId": "long", "role": "user", "content": long_text,
             "createdAt": 1, "status": "done", "metadata": {}},
            {"id": "a", "conversationId": "long", "role": "assistant", "content": long_text,
             "createdAt": 2, "status": "done", "metadata": {"model": MODEL_A}},
        ],
    )  # fmt: skip
    chat.open("?device=wasm&catalog=models/test-catalog.json#/chat/long")
    # Only the hash changed: wait for the seeded chat before `ask` counts its replies.
    expect(chat.messages).to_have_count(2)
    reply = chat.ask("hi")
    assert chat.content(reply) == canned("tiny-chat-a", "hi")["answer"]
    expect(reply.get_by_test_id("message-info")).to_contain_text("2 earlier messages left out")


def test_a_huge_stored_reply_opens_as_plain_text(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    huge = "[" * 1_000_000  # the worst case for a Markdown parser
    chat.seed(
        [{"id": "big", "title": "Big", "model": None, "createdAt": 1, "updatedAt": 1}],
        [{"id": "r", "conversationId": "big", "role": "assistant", "content": huge,
          "createdAt": 1, "status": "done", "metadata": {"model": MODEL_A}}],
    )  # fmt: skip
    chat.open("?device=wasm&catalog=models/test-catalog.json#/chat/big")
    content = chat.reply().get_by_test_id("message-content")
    expect(content).to_have_class("message-content plain-text")
    assert len(chat.content(chat.reply())) == 1_000_000
    chat.ask("hi")
