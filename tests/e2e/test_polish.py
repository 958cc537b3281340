"""The small things a new user meets first (issue 9, item 5)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import READY, canned

TINY = "?device=wasm&catalog=models/test-catalog.json"


def test_enter_before_python_is_ready_keeps_the_text_and_sends_it_once_ready(page: Page) -> None:
    page.goto(f"{TINY}#/chat", wait_until="commit")
    field = page.get_by_test_id("chat-input")
    field.wait_for(state="visible")
    field.fill("hi")
    field.press("Enter")
    ready_then = page.get_by_test_id("app").get_attribute("data-ready")
    assert ready_then == "false", "the test must press Enter before the app is ready"
    expect(field).to_have_value("hi")  # no newline, nothing lost
    page.wait_for_selector(READY)
    chat = ChatPage(page)
    expect(chat.messages.first).to_have_attribute("data-role", "user")
    chat.wait_reply_finished()
    assert chat.content(chat.reply()) == canned("tiny-chat-a", "hi")["answer"]
    expect(field).to_have_value("")


def test_the_figures_shown_belong_to_the_open_chat(page: Page) -> None:
    chat = ChatPage(page).open(f"{TINY}#/chat")
    chat.ask("hi")
    first = chat.conversation_id()
    metrics = page.get_by_test_id("metrics")
    shown = metrics.get_attribute("data-tokens-per-second")
    assert shown
    page.get_by_test_id("new-chat").click()
    expect(metrics).to_have_attribute("data-tokens-per-second", "")
    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    expect(metrics).to_have_attribute("data-tokens-per-second", shown)


def test_the_error_banner_can_be_dismissed_and_leaves_with_the_user(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=test-catalogs/none.json#/chat")
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    page.get_by_test_id("error-dismiss").click()
    expect(error).to_be_hidden()
    page.reload()
    expect(error).to_be_visible()
    page.evaluate("location.hash = '#/chat/nope'")  # going elsewhere leaves the error behind
    expect(page.get_by_test_id("not-found")).to_be_visible()
    expect(error).to_be_hidden()
    chat.open("?device=wasm&catalog=test-catalogs/none.json&again=1#/chat")  # a new page
    expect(error).to_be_visible()
    chat.ask("hi")  # a reply that goes through clears an older error
    expect(error).to_be_hidden()


def test_the_reply_footer_speaks_plain_words(page: Page) -> None:
    chat = ChatPage(page).open(f"{TINY}#/chat")
    reply = chat.ask("hi")
    info = reply.get_by_test_id("message-info")
    expect(info).to_contain_text("Tiny Chat A (bundled) · 8-bit · CPU")
    details = info.get_attribute("title") or ""
    assert details.startswith("Model: tinylm/tiny-chat-a\nWeights: q8 on wasm\nTokens: ")
    assert "q8 on wasm" not in info.inner_text()
