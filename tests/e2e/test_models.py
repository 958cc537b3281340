"""Conversation-scoped models, for real: two bundled models, the load queue, routes, switching."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import READY, NetworkGuard, canned

MODEL_A = "tinylm/tiny-chat-a"
MODEL_B = "tinylm/tiny-chat-b"
BROKEN = "tinylm/tiny-chat-broken"
HUB = "onnx-community/Qwen2.5-0.5B-Instruct"


def loads(page: Page) -> int:
    return int(page.get_by_test_id("app").get_attribute("data-model-loads") or "0")


def start_chat(chat: ChatPage, model: str | None, text: str) -> str:
    """A new chat on `model` (None: the default) with one exchange; returns its id."""
    chat.page.get_by_test_id("new-chat").click()
    expect_route(chat.page, r"#/chat$")
    if model is not None:
        chat.page.get_by_test_id("model-select").select_option(model)
    reply = chat.ask(text)
    expect(reply).to_have_attribute("data-model", model or MODEL_A)
    return chat.conversation_id()


def wait_loaded(page: Page, model: str) -> None:
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-model", model)
    expect(status).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("app")).to_have_attribute("data-loaded-model", model)


@pytest.fixture
def broken_catalog(write_site_file: Callable[[str, Any], str], copy_model: Any) -> str:
    """A and B, plus a local model whose q8 weights are missing."""
    for model in (MODEL_A, MODEL_B):
        copy_model(model, model, [])
    copy_model(MODEL_B, BROKEN, ["onnx/model_quantized.onnx"])
    entries = [
        {"id": m, "label": label, "source": "local", "dtype": "q8"}
        for m, label in ((MODEL_A, "A"), (MODEL_B, "B"), (BROKEN, "Broken"))
    ]
    catalog = {"default": MODEL_A, "presets": {}, "models": entries}
    return write_site_file("with-broken.json", catalog)


def test_each_chat_reopens_on_its_own_model_and_replies_carry_it(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    first = start_chat(chat, MODEL_A, "hi")
    second = start_chat(chat, MODEL_B, "hi")
    assert chat.content(chat.reply()) == canned("tiny-chat-b", "hi")["answer"]
    for conversation_id, model, name in ((first, MODEL_A, "a"), (second, MODEL_B, "b")) * 2:
        page.goto(f"?device=wasm&catalog=models/test-catalog.json#/chat/{conversation_id}")
        wait_loaded(page, model)
        expect(page.get_by_test_id("model-select")).to_have_value(model)
        reply = chat.ask("What is the capital of France?")
        expect(reply).to_have_attribute("data-model", model)
        assert chat.content(reply) == canned(f"tiny-chat-{name}", "capital")["answer"]
    # Earlier replies keep the model that produced them.
    for reply in chat.assistant.all():
        expect(reply).to_have_attribute("data-model", MODEL_B)


def test_two_chats_on_the_same_model_never_reload_it(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    first = start_chat(chat, MODEL_A, "hi")
    second = start_chat(chat, MODEL_A, "Write code")
    before = loads(page)
    for conversation_id in (first, second, first, second):
        chat.item(conversation_id).click()
        expect_route(page, f"#/chat/{conversation_id}$")
        wait_loaded(page, MODEL_A)
    chat.ask("hi")
    assert loads(page) == before == 1


def test_a_flurry_of_route_changes_costs_at_most_one_extra_load(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    on_a = start_chat(chat, MODEL_A, "hi")
    on_b = start_chat(chat, MODEL_B, "hi")
    page.goto(f"?device=wasm&catalog=models/test-catalog.json#/chat/{on_a}")
    page.reload()  # start from one resident model: A
    page.wait_for_selector(READY)
    wait_loaded(page, MODEL_A)
    before = loads(page)
    page.evaluate(
        """async ([a, b]) => {
          for (const id of [b, a, b, a, b]) {
            location.hash = `#/chat/${id}`;
            await new Promise((r) => setTimeout(r, 60));
          }
        }""",
        [on_a, on_b],
    )
    wait_loaded(page, MODEL_B)
    assert loads(page) - before <= 2, "the final model plus at most one more"
    reply = chat.ask("What is the capital of France?")
    expect(reply).to_have_attribute("data-model", MODEL_B)


def test_after_a_page_reload_a_chat_reopens_on_its_own_model(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    on_b = start_chat(chat, MODEL_B, "hi")
    page.reload()
    page.wait_for_selector(READY)
    assert chat.conversation_id() == on_b
    wait_loaded(page, MODEL_B)
    assert loads(page) == 1
    expect(page.get_by_test_id("model-select")).to_have_value(MODEL_B)


def test_switching_mid_chat_answers_with_the_new_model_and_the_earlier_turns(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    greeting = chat.ask("My name is Ada.")
    assert chat.content(greeting) == "Nice to meet you, Ada!"
    expect(greeting).to_have_attribute("data-model", MODEL_A)
    conversation_id = chat.conversation_id()
    order_before = chat.sidebar_ids()
    page.get_by_test_id("model-select").select_option(MODEL_B)
    wait_loaded(page, MODEL_B)
    reply = chat.ask("What is my name?")
    expect(reply).to_have_attribute("data-model", MODEL_B)
    memory = canned("tiny-chat-b", "memory-Ada")
    assert chat.content(reply) == memory["answer"]  # "You are called Ada." needs the context
    expect(greeting).to_have_attribute("data-model", MODEL_A)
    assert chat.conversation_id() == conversation_id
    assert chat.sidebar_ids()[0] == order_before[0]
    page.reload()
    page.wait_for_selector(READY)
    expect(chat.reply(0)).to_have_attribute("data-model", MODEL_A)
    expect(chat.reply(1)).to_have_attribute("data-model", MODEL_B)
    expect(chat.reply(1).get_by_test_id("message-info")).to_contain_text("Tiny Chat B")


def test_a_hub_model_offline_fails_rolls_back_and_the_chat_goes_on(
    page: Page, network_guard: NetworkGuard
) -> None:
    network_guard.expect_offline("huggingface.co")
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    chat.ask("hi")
    conversation_id = chat.conversation_id()
    page.get_by_test_id("model-select").select_option(HUB)
    # A model that needs a download is only fetched once the user says yes.
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("about 510 MB")
    page.get_by_test_id("confirm").click()
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-model", HUB)
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text("could not be reached")
    expect(page.get_by_test_id("model-select")).to_have_value("")
    expect(page.get_by_test_id("error")).to_contain_text("Qwen2.5")
    reply = chat.ask("What is the capital of France?")
    expect(reply).to_have_attribute("data-model", MODEL_A)
    page.reload()
    page.wait_for_selector(READY)
    assert chat.conversation_id() == conversation_id
    expect(page.get_by_test_id("model-select")).to_have_value("")
    assert network_guard.blocked, "the hub was asked for (and the request never left)"


def test_a_local_model_with_a_missing_file_fails_with_the_reason_and_rolls_back(
    page: Page, broken_catalog: str
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={broken_catalog}#/chat")
    start_chat(chat, MODEL_B, "hi")
    page.get_by_test_id("model-select").select_option(BROKEN)
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-model", BROKEN)
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text("model_quantized.onnx")
    expect(page.get_by_test_id("model-select")).to_have_value(MODEL_B)
    reply = chat.ask("hi")
    expect(reply).to_have_attribute("data-model", MODEL_B)
    assert chat.content(reply) == canned("tiny-chat-b", "hi")["answer"]


def test_clearing_a_chats_model_makes_it_follow_the_default(page: Page) -> None:
    chat = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    start_chat(chat, MODEL_B, "hi")
    page.get_by_test_id("model-select").select_option("")
    wait_loaded(page, MODEL_A)
    reply = chat.ask("hi")
    expect(reply).to_have_attribute("data-model", MODEL_A)
    page.reload()
    page.wait_for_selector(READY)
    expect(page.get_by_test_id("model-select")).to_have_value("")


def test_the_status_walks_the_lifecycle_and_shows_download_progress(page: Page) -> None:
    page.add_init_script(
        """(() => {
          window.__states = [];
          new MutationObserver(() => {
            const s = document.querySelector('[data-testid=model-status]');
            const last = window.__states[window.__states.length - 1];
            if (s && s.dataset.state !== last) window.__states.push(s.dataset.state);
            const p = document.querySelector('[data-testid=model-progress]');
            if (p && !p.hidden && p.value > 0) window.__sawProgress = true;
          }).observe(document, {subtree: true, attributes: true});
        })()"""
    )
    ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    wait_loaded(page, MODEL_A)
    states = page.evaluate("window.__states")
    assert states[-1] == "ready"
    for state in ("downloading", "compiling"):
        assert state in states, states
    assert page.evaluate("window.__sawProgress === true")
