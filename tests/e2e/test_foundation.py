"""The whole chain, for real: static files -> PyScript -> Pyodide -> app -> transformers-js-py
-> transformers.js -> onnxruntime-web -> a bundled model -> tokens streamed into the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import SUB_PATH, canned

MODEL_A = "tinylm/tiny-chat-a"
MODEL_B = "tinylm/tiny-chat-b"


def test_the_shell_paints_before_python_is_ready(page: Page) -> None:
    page.goto("#/chat", wait_until="commit")
    page.wait_for_selector("[data-testid=chat-input]", state="visible")
    # The static shell is on screen; Python marks the app ready later.
    ready_at_paint = page.get_by_test_id("app").get_attribute("data-ready")
    assert ready_at_paint == "false"
    expect(page.get_by_test_id("app")).to_have_attribute("data-ready", "true")


def test_an_empty_hash_goes_to_a_new_chat(page: Page) -> None:
    ChatPage(page).open("?catalog=models/test-catalog.json")
    expect_route(page, r"#/chat$")


def test_a_reply_streams_from_tiny_chat_a_on_wasm(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    expect(chat.app).to_have_attribute("data-device", "wasm")
    story = canned("tiny-chat-a", "story")
    chat.record_stream()
    reply = chat.ask(story["messages"][-1]["content"])
    assert chat.content(reply) == story["answer"]
    expect(reply).to_have_attribute("data-model", MODEL_A)
    # It streamed: the page showed many growing prefixes of the answer before the end.
    texts = chat.streamed_texts()
    assert len(texts) >= 5, texts
    assert all(story["answer"].startswith(t.strip()) for t in texts)
    expect(chat.app).to_have_attribute("data-loaded-model", MODEL_A)
    expect(chat.app).to_have_attribute("data-model-loads", "1")


def test_the_trained_answers_come_back_word_for_word(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    for case_id in ["hi", "capital"]:
        case = canned("tiny-chat-a", case_id)
        reply = chat.ask(case["messages"][-1]["content"])
        assert chat.content(reply) == case["answer"]
    users = page.locator('[data-testid=message][data-role="user"]')
    expect(users).to_have_count(2)
    expect(chat.messages).to_have_count(4)


def test_a_reply_streams_on_webgpu(webgpu_page: Page) -> None:
    chat = ChatPage(webgpu_page).open("?catalog=models/test-catalog.json#/chat")
    expect(chat.app).to_have_attribute("data-device", "webgpu")
    case = canned("tiny-chat-a", "capital")
    chat.record_stream()
    reply = chat.ask(case["messages"][-1]["content"])
    assert chat.content(reply) == case["answer"]
    expect(reply).to_have_attribute("data-model", MODEL_A)
    assert len(chat.streamed_texts()) >= 2


def test_the_site_works_from_a_sub_path(page: Page) -> None:
    chat = ChatPage(page).open(f"{SUB_PATH}/?device=wasm&catalog=models/test-catalog.json#/chat")
    assert f"/{SUB_PATH}/" in page.url
    case = canned("tiny-chat-a", "hi")
    reply = chat.ask(case["messages"][-1]["content"])
    assert chat.content(reply) == case["answer"]


def test_the_first_message_creates_the_conversation_and_replaces_the_hash(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    history = page.evaluate("history.length")
    chat.ask("hi")
    expect_route(page, r"#/chat/[0-9a-f]{32}$")
    assert page.evaluate("history.length") == history


def test_the_catalog_query_parameter_picks_the_catalog(
    page: Page,
    write_site_file: Callable[[str, Any], str],
    copy_model: Callable[[str, str, list[str]], None],
) -> None:
    catalog = {
        "default": "quick",
        "presets": {"quick": [MODEL_B]},
        "models": [{"id": MODEL_B, "label": "B", "source": "local", "dtype": "q8"}],
    }
    # Local models load from the catalog's own folder, so B is copied beside it.
    copy_model(MODEL_B, MODEL_B, [])
    url = write_site_file("only-b.json", catalog)
    chat = ChatPage(page)
    page.goto(f"?device=wasm&catalog={url}#/chat")
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    options = page.get_by_test_id("model-select").locator("option")
    expect(options).to_have_count(2)  # "use the default" and B
    case = canned("tiny-chat-b", "hi")
    reply = chat.ask(case["messages"][-1]["content"])
    expect(reply).to_have_attribute("data-model", MODEL_B)
    assert chat.content(reply) == case["answer"]


def test_an_unknown_conversation_shows_not_found(page: Page) -> None:
    ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat/does-not-exist")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    page.get_by_test_id("not-found").get_by_role("link").click()
    expect_route(page, r"#/chat$")
    expect(page.get_by_test_id("not-found")).to_be_hidden()


def test_enter_sends_shift_enter_adds_a_line_and_blank_input_sends_nothing(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.input.fill("   ")
    chat.input.press("Enter")
    page.get_by_test_id("send").click()
    expect(chat.messages).to_have_count(0)
    chat.input.fill("line one")
    chat.input.press("Shift+Enter")
    chat.input.type("line two")
    assert chat.input.input_value() == "line one\nline two"
    chat.input.press("Enter")
    expect(chat.messages).to_have_count(2)
    expect(chat.messages.first).to_have_attribute("data-role", "user")
