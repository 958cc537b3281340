"""Inference in the engine worker: threads where the page is isolated, one thread where it is
not, and a worker that fails to start fails the load with a reason, not the page."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from .chat_page import ChatPage
from .conftest import CatalogFor, canned

MODEL_A = "tinylm/tiny-chat-a"
CATALOG = "catalog=models/test-catalog.json"


def test_an_isolated_page_replies_from_the_worker_on_several_threads(page: Page) -> None:
    # ?threads=2: two wasm threads whatever the cores (by default one per core but one).
    chat = ChatPage(page).open(f"?device=wasm&{CATALOG}&threads=2#/chat")
    assert page.evaluate("crossOriginIsolated") is True
    case = canned("tiny-chat-a", "capital")
    reply = chat.ask(case["messages"][-1]["content"])
    assert chat.content(reply) == case["answer"]
    expect(chat.app).to_have_attribute("data-engine", "worker")
    expect(chat.app).to_have_attribute("data-threads", "2")
    # The engine is a worker of its own: the page did not import transformers.js to reply.
    assert page.evaluate("typeof window.parlanceEngine") == "undefined"


def test_a_page_that_is_not_isolated_replies_on_one_thread(page: Page) -> None:
    chat = ChatPage(page).open(f"?device=wasm&{CATALOG}&isolation=off&threads=2#/chat")
    assert page.evaluate("crossOriginIsolated") is False
    case = canned("tiny-chat-a", "hi")
    reply = chat.ask(case["messages"][-1]["content"])
    assert chat.content(reply) == case["answer"]
    expect(chat.app).to_have_attribute("data-engine", "worker")
    expect(chat.app).to_have_attribute("data-threads", "1")


def test_a_worker_that_cannot_start_fails_the_load_and_the_next_choice_starts_anew(
    page: Page,
) -> None:
    broken = "**/app/engine_worker.js"

    def refuse(route: Route) -> None:  # a script that cannot run: the worker dies at once
        route.fulfill(content_type="text/javascript", body="throw new Error('broken worker');")

    page.context.route(broken, refuse)
    chat = ChatPage(page).open(f"?device=wasm&{CATALOG}#/chat")
    chat.send("hello")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-state", "failed")
    expect(status).to_contain_text("engine stopped")
    # Nothing was lost: the message is kept, the turn ends with the reason, the chat takes input.
    expect(page.locator('[data-testid=message][data-role="user"]')).to_have_count(1)
    expect(chat.reply()).to_have_attribute("data-status", "error")
    expect(page.get_by_test_id("send")).to_be_visible()
    page.context.unroute(broken, refuse)
    case = canned("tiny-chat-a", "capital")
    reply = chat.ask(case["messages"][-1]["content"])
    assert chat.content(reply) == case["answer"]
    expect(reply).to_have_attribute("data-model", MODEL_A)


def test_stop_mid_reply_reaches_the_worker_between_two_steps(
    page: Page, catalog_for: CatalogFor
) -> None:
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    expect(chat.reply().get_by_test_id("message-content")).not_to_be_empty()
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    cid = chat.conversation_id()
    (reply,) = [m for m in chat.stored_messages(cid) if m["role"] == "assistant"]
    # The worker's own count: it stopped decoding, not just the page listening.
    assert 0 < reply["metadata"]["tokens"] < 1500
