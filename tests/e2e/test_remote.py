"""Models of OpenAI-compatible servers, end to end: a real llama.cpp server (llama-cpp-python,
built by `make llama-server`) on 127.0.0.1 serving SmolLM2-135M's GGUF, added in #/models with
its key, chatted with through the real page; servers that must be refused; and a faulty server
(tests/e2e/fake_openai.py) for what a real one will not do on demand: drop or garble a stream,
or run on until Stop hangs up.

Without a C++ toolchain the llama.cpp server cannot be built: its tests then skip saying so.
With one, a server that is not built fails the test, saying how to build it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tools.llama_server import (
    MODEL_NAME,
    LlamaServer,
    ServerUnavailable,
    check_available,
    free_port,
    llama_server,
)

from .chat_page import ChatPage, expect_route
from .fake_openai import FakeOpenAIServer

KEY = "sk-parlance-test-key-4417"
MAX_TOKENS = 24


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    try:
        check_available()
    except ServerUnavailable as exc:
        if exc.buildable:
            pytest.fail(str(exc))
        pytest.skip(str(exc))  # only when this machine cannot build it
    with llama_server(extra=["--api_key", KEY]) as running:
        yield running


@pytest.fixture
def no_local_model(write_site_file: Callable[[str, Any], str]) -> str:
    """A catalog whose one local model is not there: nothing loads in the page on its own (a
    local model would load as the chat opens), so the remote model is all there is."""
    absent = {"id": "none/absent", "label": "Absent", "source": "local"}
    return write_site_file("remote.json", {"default": absent["id"], "models": [absent]})


@pytest.fixture
def faulty() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer().start()
    yield fake
    fake.stop()


def open_models(page: Page, catalog: str) -> ChatPage:
    return ChatPage(page).open(f"?device=wasm&catalog={catalog}#/models")


def add_server(page: Page, url: str, key: str = "") -> Locator:
    page.get_by_test_id("endpoint-url").fill(url)
    page.get_by_test_id("endpoint-key").fill(key)
    page.get_by_test_id("endpoint-add").click()
    status = page.get_by_test_id("endpoint-status")
    expect(page.get_by_test_id("endpoint-add")).to_be_enabled()
    return status


def remote_rows(page: Page) -> Locator:
    return page.locator("[data-testid=model-row][data-source=openai]")


def to_chat_with(chat: ChatPage, model_id: str) -> None:
    chat.page.evaluate("location.hash = '#/chat'")
    expect_route(chat.page, "^#/chat$")
    chat.page.get_by_test_id("model-select").select_option(model_id)


def test_a_server_s_models_join_with_its_key_and_a_reply_streams_from_it_with_its_record(
    page: Page, server: LlamaServer, no_local_model: str
) -> None:
    chat = open_models(page, no_local_model)
    refused = add_server(page, server.base_url)
    expect(refused).to_contain_text("refused the key (HTTP 401)")
    expect(remote_rows(page)).to_have_count(0)

    added = add_server(page, server.base_url + "/", KEY)
    expect(added).to_contain_text(f"Added 1 model from {server.host}")
    model_id = f"{server.host}/{MODEL_NAME}"
    row = page.locator(f'[data-testid=model-row][data-model="{model_id}"]')
    expect(row).to_have_attribute("data-host", server.host)
    expect(row).to_contain_text(f"Runs on {server.host}")

    to_chat_with(chat, model_id)
    option = page.locator(f'[data-testid=model-select] option[value="{model_id}"]')
    expect(option).to_have_text(f"{MODEL_NAME} · runs on {server.host}")
    # The chat's settings go to the server with the messages (max_tokens, temperature).
    page.get_by_test_id("settings").click()
    panel = page.get_by_test_id("settings-panel")
    panel.get_by_test_id("system-prompt").fill("Answer in one short sentence.")
    panel.get_by_test_id("temperature").fill("0")
    panel.get_by_test_id("max-new-tokens").fill(str(MAX_TOKENS))
    panel.get_by_test_id("settings-save").click()
    expect(panel).to_be_hidden()
    chat.record_stream()
    reply = chat.ask("What is the capital of France?")
    expect(reply).to_have_attribute("data-model", model_id)
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-state", "ready")
    expect(status).to_contain_text(f"runs on {server.host}")
    expect(reply.get_by_test_id("message-info")).to_contain_text(f"runs on {server.host}")
    assert chat.content(reply), "the server's reply is shown"
    # Shown as it streams (at most every 50 ms: a fast server's tokens a few at a time).
    assert len(chat.streamed_texts()) >= 2, "the reply streamed in steps"
    record = chat.stored_messages(chat.conversation_id())[-1]["metadata"]
    assert record["model"] == model_id and record["host"] == server.host
    assert 3 <= record["tokens"] <= MAX_TOKENS and record["tokensPerSecond"] > 0
    assert record["settings"]["maxNewTokens"] == MAX_TOKENS
    assert "device" not in record and "dtype" not in record  # the server's, not this browser's

    with page.expect_download() as info:
        page.get_by_test_id("export-all").click()
    exported = Path(info.value.path()).read_text(encoding="utf-8")
    assert server.host in exported, "the export keeps the reply's record"
    assert KEY not in exported, "the key never leaves this device"


def test_a_server_that_does_not_answer_or_is_not_openai_is_refused_adding_nothing(
    page: Page, faulty: FakeOpenAIServer, no_local_model: str
) -> None:
    open_models(page, no_local_model)
    for address, reason in (
        (f"http://127.0.0.1:{free_port()}/v1", "it did not answer"),
        (faulty.base_url.replace("/v1", "/web/v1"), "not answer like an OpenAI-compatible server"),
        ("http://127.0.0.1:9/api", "ends in /v1"),
        ("http://192.168.1.20:8000/v1", "must use https"),
    ):
        expect(add_server(page, address)).to_contain_text(reason)
        expect(page.get_by_test_id("error")).to_contain_text(reason)
        expect(remote_rows(page)).to_have_count(0)
    stored = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open('parlance');
          open.onsuccess = () => {
            const get = open.result.transaction('prefs').objectStore('prefs').get('userModels');
            get.onsuccess = () => { resolve(get.result ?? null); open.result.close(); };
          };
        })"""
    )
    assert stored is None, "nothing was stored"


def test_a_dropped_or_garbled_stream_keeps_the_text_so_far_and_stop_hangs_up(
    page: Page, faulty: FakeOpenAIServer, no_local_model: str
) -> None:
    chat = open_models(page, no_local_model)
    expect(add_server(page, faulty.base_url)).to_contain_text("Added 3 models")
    host = faulty.base_url.split("//")[1].removesuffix("/v1")
    error = page.get_by_test_id("error")
    for model, reason in (
        ("drop", "connection to the server"),
        ("garble", "not JSON"),
    ):
        to_chat_with(chat, f"{host}/{model}")
        chat.send(f"Tell me about {model}")
        reply = chat.reply()
        expect(reply).to_have_attribute("data-status", "error")
        expect(reply.get_by_test_id("message-content")).to_have_text("Partial answer")
        expect(error).to_contain_text(reason)
        page.get_by_test_id("error-dismiss").click()
    sent = faulty.requests[-1]
    assert sent["stream"] is True and sent["messages"][-1]["content"] == "Tell me about garble"

    to_chat_with(chat, f"{host}/endless")
    chat.send("Go on and on")
    expect(chat.reply().get_by_test_id("message-content")).to_contain_text("more more")
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    assert faulty.hung_up.wait(10), "Stop aborted the request: the server saw it hang up"
    assert chat.content(chat.reply()).startswith("Partial answer more")
    assert json.dumps(faulty.requests).count("Go on and on") == 1

    # The server goes away: its model's lifecycle ends Failed, saying why.
    faulty.stop()
    to_chat_with(chat, f"{host}/drop")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text(f"the server at {host} did not answer")
