"""Conversations for real: Chromium's IndexedDB, the bundled models, the UI contract."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .chat_page import FULL_DISK, ChatPage, expect_route
from .conftest import canned

MODEL_A = "tinylm/tiny-chat-a"


@pytest.fixture
def long_catalog(write_site_file: Callable[[str, Any], str], copy_model: Any) -> str:
    """A catalog whose model must write at least `min_new_tokens`: a reply that streams for
    seconds, long enough to stop it or reload in the middle of it."""
    copy_model(MODEL_A, MODEL_A, [])
    gen = {"min_new_tokens": 1500, "max_new_tokens": 1500, "do_sample": False}
    catalog = {
        "default": MODEL_A,
        "presets": {},
        "models": [
            {"id": MODEL_A, "label": "A", "source": "local", "dtype": "q8", "generation": gen}
        ],
    }
    return write_site_file("long-replies.json", catalog)


def ask_new_chat(chat: ChatPage, text: str) -> str:
    chat.page.get_by_test_id("new-chat").click()
    expect_route(chat.page, r"#/chat$")
    chat.ask(text)
    expect_route(chat.page, r"#/chat/\w+$")
    return chat.conversation_id()


def test_a_conversation_and_its_messages_come_back_after_a_reload(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    hi = canned("tiny-chat-a", "hi")
    chat.ask("hi")
    chat.ask("Write code")
    before = [(m.get_attribute("data-role"), chat.content(m)) for m in chat.messages.all()]
    conversation_id = chat.conversation_id()
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(chat.messages).to_have_count(4)
    after = [(m.get_attribute("data-role"), chat.content(m)) for m in chat.messages.all()]
    assert after == before
    assert after[1] == ("assistant", hi["answer"])
    assert chat.sidebar_ids() == [conversation_id]
    expect(chat.item(conversation_id)).to_have_attribute("aria-current", "page")
    # The model that produced each reply, and its figures, survive the reload too.
    expect(chat.reply(0)).to_have_attribute("data-model", MODEL_A)
    expect(chat.reply(0).get_by_test_id("message-info")).to_contain_text("tok/s")


def test_conversations_are_ordered_by_their_latest_message(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    first = ask_new_chat(chat, "hi")
    second = ask_new_chat(chat, "What is the capital of France?")
    expect(chat.items()).to_have_count(2)
    assert chat.sidebar_ids() == [second, first]
    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    chat.ask("Write code")
    expect(chat.items().first).to_have_attribute("data-conversation-id", first)
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    assert chat.sidebar_ids() == [first, second]


def test_a_long_first_message_titles_the_chat_cut_at_a_word(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.ask("Explain quantum entanglement to a child")
    expect(page.get_by_test_id("conversation-title")).to_have_text("Explain quantum...")


def test_rename_saves_on_enter_cancels_on_escape_and_keeps_the_order(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    older = ask_new_chat(chat, "hi")
    newer = ask_new_chat(chat, "Write code")
    item = chat.item(older)
    item.hover()
    item.get_by_test_id("conversation-rename").click()
    field = page.get_by_test_id("conversation-title-input")
    field.fill("Greetings")
    field.press("Enter")
    expect(chat.item(older).get_by_test_id("conversation-title")).to_have_text("Greetings")
    assert chat.sidebar_ids() == [newer, older], "renaming is not message activity"
    chat.item(older).hover()
    chat.item(older).get_by_test_id("conversation-rename").click()
    page.get_by_test_id("conversation-title-input").fill("Never saved")
    page.get_by_test_id("conversation-title-input").press("Escape")
    expect(chat.item(older).get_by_test_id("conversation-title")).to_have_text("Greetings")
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(chat.item(older).get_by_test_id("conversation-title")).to_have_text("Greetings")


def test_delete_removes_the_conversation_and_its_messages(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    keep = ask_new_chat(chat, "hi")
    doomed = ask_new_chat(chat, "Write code")
    assert chat.stored_message_count(doomed) == 2
    chat.item(doomed).hover()
    chat.item(doomed).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    expect(chat.items()).to_have_count(1)
    expect_route(page, r"#/chat$")
    expect(chat.messages).to_have_count(0)
    assert chat.stored_message_count(doomed) == 0
    assert chat.stored_message_count(keep) == 2
    page.goto(f"?device=wasm&catalog=models/test-catalog.json#/chat/{doomed}")
    expect(page.get_by_test_id("not-found")).to_be_visible()


def test_stop_keeps_the_partial_reply_marked_stopped(page: Page, long_catalog: str) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={long_catalog}#/chat")
    chat.send("Tell me a story")
    stop = page.get_by_test_id("stop")
    expect(stop).to_be_enabled()
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    expect(chat.reply().get_by_test_id("message-content")).to_contain_text("Once upon a time")
    stop.click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    expect(stop).to_be_hidden()
    partial = chat.content(chat.reply())
    assert partial.startswith("Once upon a time")
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    assert chat.content(chat.reply()) == partial


def test_regenerate_shows_a_new_reply_and_keeps_the_old_one_as_a_sibling(
    page: Page, long_catalog: str
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={long_catalog}#/chat")
    chat.send("hi")
    expect(chat.reply().get_by_test_id("message-content")).to_contain_text("Hello")
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    stopped_id = chat.reply().get_attribute("data-message-id")
    regenerate = page.get_by_test_id("regenerate")
    expect(regenerate).to_be_visible()
    regenerate.click()
    expect(regenerate).to_be_hidden()
    expect(chat.assistant).to_have_count(1)
    expect(chat.reply()).not_to_have_attribute("data-message-id", stopped_id or "")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    expect(chat.messages).to_have_count(2)
    expect(chat.reply().get_by_test_id("branch-position")).to_have_text("2/2")
    assert chat.stored_message_count(chat.conversation_id()) == 3
    chat.reply().get_by_test_id("branch-prev").click()
    expect(chat.reply()).to_have_attribute("data-message-id", stopped_id or "")
    expect(chat.reply().get_by_test_id("branch-position")).to_have_text("1/2")


def test_a_reload_mid_reply_keeps_the_user_message_and_part_of_the_reply(
    page: Page, long_catalog: str
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={long_catalog}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    expect_route(page, r"#/chat/\w+$")
    # Autosave runs at least once a second: wait until part of the reply is stored.
    chat.wait_stored(
        "(db) => db.messages.some((m) => m.role === 'assistant' && m.content.length > 200)"
    )
    assert chat.reply().get_attribute("data-status") == "streaming", "the reply is still running"
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(chat.messages).to_have_count(2)
    assert chat.content(chat.messages.first) == "Tell me a story"
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    assert chat.content(chat.reply()).startswith("Once upon a time")


def test_hostile_markup_in_messages_and_replies_never_runs(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    hostile = "<img src=x onerror=window.__pwned=1> and [x](javascript:window.__pwned=1)"
    chat.ask(hostile)
    conversation_id = chat.conversation_id()
    user = chat.messages.first.get_by_test_id("message-content")
    expect(user).to_have_text(hostile)
    # A stored reply with the same markup (as an import or a model could produce) renders safely.
    last = chat.stored_messages(conversation_id)[-1]
    chat.seed(
        [],
        [{"id": "hostile", "conversationId": conversation_id, "role": "assistant",
          "parentId": last["id"], "lane": last["lane"],
          "content": hostile + "\n\n<script>window.__pwned=1</script>",
          "createdAt": 4_000_000_000_000, "status": "done",
          "metadata": {"model": "tinylm/tiny-chat-a"}}],
    )  # fmt: skip
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    reply = page.locator('[data-message-id="hostile"] [data-testid=message-content]')
    expect(reply).to_contain_text("<img src=x onerror=window.__pwned=1>")
    expect(reply.locator("img, script")).to_have_count(0)
    for href in reply.locator("a").evaluate_all("links => links.map(a => a.href)"):
        assert not href.lower().startswith("javascript:")
    assert page.evaluate("window.__pwned") is None


def test_a_store_that_refuses_shows_an_error_and_the_chat_stays_usable(page: Page) -> None:
    page.add_init_script(FULL_DISK)
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    saved = ask_new_chat(chat, "hi")
    page.evaluate("window.__diskFull = true")
    chat.send("Write code")
    expect(page.get_by_test_id("error")).to_be_visible()
    expect(page.get_by_test_id("error")).to_contain_text("full")
    expect(chat.input).to_have_value("Write code")  # the unsaved message is given back
    page.evaluate("window.__diskFull = false")
    chat.ask("What is the capital of France?")
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    page.goto(f"?device=wasm&catalog=models/test-catalog.json#/chat/{saved}")
    expect(chat.messages.first.get_by_test_id("message-content")).to_have_text("hi")
    assert chat.stored_message_count(saved) >= 2


def test_each_reply_shows_its_model_speed_and_duration(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    reply = chat.ask("hi")
    info = reply.get_by_test_id("message-info")
    expect(info).to_contain_text("Tiny Chat A")
    expect(info).to_contain_text(re.compile(r"\d+(\.\d)? tok/s"))
    metrics = page.get_by_test_id("metrics")
    assert float(metrics.get_attribute("data-tokens-per-second") or "0") > 0
    assert float(metrics.get_attribute("data-response-ms") or "0") > 0


def test_the_input_grows_with_its_content_and_shrinks_after_sending(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    one_line = chat.input.bounding_box()
    chat.input.fill("")
    for line in ["one", "two", "three", "four"]:
        chat.input.type(line)
        chat.input.press("Shift+Enter")
    four_lines = chat.input.bounding_box()
    assert one_line is not None and four_lines is not None
    assert four_lines["height"] > one_line["height"] * 2
    chat.input.press("Enter")
    expect(chat.messages).to_have_count(2)
    after = chat.input.bounding_box()
    assert after is not None and after["height"] < four_lines["height"]
