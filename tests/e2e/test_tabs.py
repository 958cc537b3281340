"""Two tabs of one browser on the same chats (two pages of one context share IndexedDB)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import READY, CatalogFor

# "Within a second" (issue 8), with room for a loaded 2-core machine.
NEWS_MS = 3000


@pytest.fixture
def second_tab(page: Page) -> Iterator[Page]:
    other = page.context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    yield other
    assert errors == [], f"uncaught errors in the second tab: {errors}"


def test_new_renamed_and_deleted_chats_show_in_every_tab(page: Page, second_tab: Page) -> None:
    a = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    b = ChatPage(second_tab).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    a.ask("hi")
    cid = a.conversation_id()
    expect(b.items()).to_have_count(1, timeout=NEWS_MS)
    expect(b.item(cid).get_by_test_id("conversation-title")).to_have_text("hi")
    a.item(cid).hover()
    a.item(cid).get_by_test_id("conversation-rename").click()
    page.get_by_test_id("conversation-title-input").fill("Greetings")
    page.get_by_test_id("conversation-title-input").press("Enter")
    title = b.item(cid).get_by_test_id("conversation-title")
    expect(title).to_have_text("Greetings", timeout=NEWS_MS)
    a.item(cid).hover()
    a.item(cid).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    expect(b.items()).to_have_count(0, timeout=NEWS_MS)


def test_a_chat_answers_in_one_tab_and_the_other_shows_it_live_then_takes_turns(
    page: Page, second_tab: Page, catalog_for: CatalogFor
) -> None:
    catalog = catalog_for(min_new_tokens=300)
    a = ChatPage(page).open(f"?device=wasm&catalog={catalog}#/chat")
    a.ask("hi")
    cid = a.conversation_id()
    b = ChatPage(second_tab).open(f"?device=wasm&catalog={catalog}#/chat/{cid}")
    expect(b.messages).to_have_count(2)
    a.send("Tell me a story")
    # B shows A's question and A's reply while it streams, and takes no message meanwhile.
    expect(b.messages).to_have_count(4, timeout=NEWS_MS)
    expect(second_tab.get_by_test_id("answering-elsewhere")).to_be_visible()
    expect(b.input).to_be_disabled()
    expect(second_tab.get_by_test_id("regenerate")).to_be_hidden()
    expect(b.reply().get_by_test_id("message-content")).to_contain_text("Once upon a time")
    a.wait_reply_finished()
    final = a.content(a.reply())
    expect(b.reply()).to_have_attribute("data-status", "done", timeout=NEWS_MS)
    assert b.content(b.reply()) == final
    expect(second_tab.get_by_test_id("answering-elsewhere")).to_be_hidden()
    # Now B answers, and the history alternates question, answer: never two questions.
    b.ask("hi")
    roles = [m["role"] for m in a.stored_messages(cid)]
    assert roles == ["user", "assistant"] * 3
    expect(a.messages).to_have_count(6, timeout=NEWS_MS)


def test_both_tabs_sending_at_once_never_split_questions_from_answers(
    page: Page, second_tab: Page
) -> None:
    a = ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    a.ask("hi")
    cid = a.conversation_id()
    b = ChatPage(second_tab).open(f"?device=wasm&catalog=models/test-catalog.json#/chat/{cid}")
    expect(b.messages).to_have_count(2)
    a.input.fill("What is the capital of France?")
    b.input.fill("Write code")
    a.input.press("Enter")
    b.input.press("Enter")
    for tab in (page, second_tab):  # each turn has ended, or been refused
        expect(tab.locator(".composer")).to_have_attribute("data-busy", "false")
    roles = [m["role"] for m in a.stored_messages(cid)]
    assert roles in (["user", "assistant"] * 2, ["user", "assistant"] * 3), roles
    if len(roles) == 4:  # one tab was refused: its text is back in its input, nothing lost
        refused = [t for t in (a, b) if t.input.input_value()]
        assert len(refused) == 1


def test_a_chat_deleted_in_one_tab_while_the_other_answers_stays_deleted(
    page: Page, second_tab: Page, catalog_for: CatalogFor
) -> None:
    catalog = catalog_for(min_new_tokens=1500)
    a = ChatPage(page).open(f"?device=wasm&catalog={catalog}#/chat")
    b = ChatPage(second_tab).open(f"?device=wasm&catalog={catalog}#/chat")
    b.send("Tell me a story")
    expect(b.reply().get_by_test_id("message-content")).to_contain_text("Once")
    cid = b.conversation_id()
    expect(a.items()).to_have_count(1, timeout=NEWS_MS)
    a.item(cid).hover()
    a.item(cid).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    # B leaves the deleted chat and says why; nothing of it comes back.
    expect_route(second_tab, r"#/chat$")
    expect(second_tab.get_by_test_id("error")).to_contain_text("deleted in another tab")
    page.reload()
    page.wait_for_selector(READY)
    expect(a.items()).to_have_count(0)
    assert a.stored() == {"conversations": [], "messages": []}
