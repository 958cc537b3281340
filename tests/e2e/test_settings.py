"""Settings in real Chromium: a chat's panel (`settings`), the defaults page (`#/settings`), what
is stored, what a reply records and shows after a reload, what is refused, and top-p applied."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import canned
from .test_accessibility import assert_axe_clean, axe_url  # noqa: F401 (a fixture)

TEST_CATALOG = "?device=wasm&catalog=models/test-catalog.json"
CHAT = f"{TEST_CATALOG}#/chat"
SETTINGS = f"{TEST_CATALOG}#/settings"
STORY = canned("tiny-chat-a", "story")


class Panel:
    """The settings form, in the chat's dialog or on #/settings."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.get_by_test_id("settings-panel")

    def open(self) -> Panel:
        self.page.get_by_test_id("settings").click()
        expect(self.root).to_be_visible()
        expect(self.page.get_by_test_id("settings-dialog")).to_have_attribute("open", "")
        return self

    def field(self, testid: str) -> Locator:
        return self.root.get_by_test_id(testid)

    def fill(self, **values: str) -> Panel:
        for name, value in values.items():
            self.field(name.replace("_", "-")).fill(value)
        return self

    def save(self) -> None:
        self.root.get_by_test_id("settings-save").click()

    def reason(self, testid: str) -> Locator:
        return self.root.locator(f"#settings-{testid}-error")


def open_settings_page(page: Page) -> tuple[ChatPage, Panel]:
    chat = ChatPage(page).open(SETTINGS)
    panel = Panel(page)
    expect(panel.root).to_be_visible()
    expect(page.get_by_test_id("settings-page")).to_contain_text("Settings for new chats")
    return chat, panel


def test_a_new_chats_system_prompt_and_temperature_are_used_recorded_and_shown_after_reload(
    page: Page,
) -> None:
    chat = ChatPage(page).open(CHAT)
    panel = Panel(page).open()
    expect(panel.field("system-prompt")).to_be_focused()
    expect(panel.field("max-new-tokens")).to_have_attribute("placeholder", "Model default: 256")
    panel.fill(system_prompt="Answer like a pirate.", temperature="0.5", max_new_tokens="40")
    panel.save()
    expect(panel.root).to_be_hidden()
    expect(page.get_by_test_id("settings")).to_be_focused()
    assert chat.stored()["conversations"] == []  # created with the first message, not before

    chat.send("What is the capital of France?")
    reply = chat.wait_reply_finished()
    expect_route(page, r"#/chat/\w+$")
    cid = chat.conversation_id()
    chosen = {"systemPrompt": "Answer like a pirate.", "temperature": 0.5, "maxNewTokens": 40}
    assert chat.stored_conversation(cid)["settings"] == chosen
    stored_reply = chat.stored_messages(cid)[-1]
    assert stored_reply["role"] == "assistant"
    assert stored_reply["metadata"]["settings"] == chosen
    assert stored_reply["metadata"]["model"] == "tinylm/tiny-chat-a"
    assert int(stored_reply["metadata"]["tokens"]) <= 40

    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    info = chat.reply().get_by_test_id("message-info")
    expect(info).to_have_attribute("title", re.compile("System prompt: “Answer like a pirate.”"))
    expect(info).to_have_attribute("title", re.compile(r"Temperature: 0\.5\n"))
    expect(info).to_have_attribute("title", re.compile("Max new tokens: 40"))
    # Also in plain sight, behind the footer's Settings disclosure (a phone has no hover).
    info.get_by_text("Settings", exact=True).click()
    expect(info.get_by_role("listitem")).to_have_text(
        ["System prompt: “Answer like a pirate.”", "Temperature: 0.5", "Max new tokens: 40"]
    )
    # The chat's panel shows what is stored.
    Panel(page).open()
    expect(panel.field("system-prompt")).to_have_value("Answer like a pirate.")
    expect(panel.field("temperature")).to_have_value("0.5")
    expect(panel.field("top-p")).to_have_value("")
    del reply


def test_invalid_values_are_refused_in_the_panel_with_the_reason_and_nothing_is_stored(
    page: Page,
) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.ask("hi")
    expect_route(page, r"#/chat/\w+$")
    cid = chat.conversation_id()
    assert chat.stored_conversation(cid)["settings"] == {}
    panel = Panel(page).open()

    panel.fill(system_prompt="Never stored.", temperature="-1").save()
    expect(panel.reason("temperature")).to_have_text("Temperature must be from 0 to 2.")
    expect(panel.field("temperature")).to_have_attribute("aria-invalid", "true")
    expect(panel.field("temperature")).to_be_focused()
    expect(panel.field("temperature")).to_have_attribute(
        "aria-describedby", "settings-temperature-error settings-temperature-hint"
    )
    expect(panel.root).to_be_visible()

    panel.fill(temperature="", max_new_tokens="0").save()
    expect(panel.reason("max-new-tokens")).to_have_text("Max new tokens must be at least 1.")
    expect(panel.reason("temperature")).to_be_hidden()
    expect(panel.field("temperature")).not_to_have_attribute("aria-invalid", "true")

    panel.fill(max_new_tokens="4096").save()
    expect(panel.reason("max-new-tokens")).to_contain_text("at most 2,048")
    expect(panel.reason("max-new-tokens")).to_contain_text(
        "the context window of Tiny Chat A (bundled)"
    )

    panel.fill(max_new_tokens="", top_p="0", repetition_penalty="5").save()
    expect(panel.reason("top-p")).to_have_text("Top-p must be more than 0 and at most 1.")
    expect(panel.reason("repetition-penalty")).to_have_text(
        "Repetition penalty must be from 1 to 2."
    )
    assert chat.stored_conversation(cid)["settings"] == {}
    assert chat.stored_defaults() is None

    # Escape closes the panel without saving; the chat goes on as before.
    page.keyboard.press("Escape")
    expect(panel.root).to_be_hidden()
    Panel(page).open()
    expect(panel.field("system-prompt")).to_have_value("")
    expect(panel.field("temperature")).to_have_value("")
    page.keyboard.press("Escape")
    assert chat.content(chat.ask("hi")) == canned("tiny-chat-a", "hi")["answer"]
    assert chat.stored_conversation(cid)["settings"] == {}


def test_an_invalid_panel_in_a_new_chat_creates_nothing(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    panel = Panel(page).open()
    panel.fill(max_new_tokens="2049").save()
    expect(panel.reason("max-new-tokens")).to_contain_text("at most 2,048")
    assert chat.stored() == {"conversations": [], "messages": []}
    assert chat.stored_defaults() is None


def test_defaults_set_on_the_settings_page_apply_to_a_new_chat(page: Page) -> None:
    chat, panel = open_settings_page(page)
    # The page keeps the sidebar, and shows no chat.
    expect(page.get_by_test_id("new-chat")).to_be_visible()
    expect(page.get_by_test_id("settings-link")).to_have_attribute("aria-current", "page")
    expect(chat.input).to_be_hidden()
    expect(page.get_by_test_id("settings")).to_be_hidden()
    expect(panel.field("temperature")).to_have_attribute("placeholder", "Model default")

    panel.fill(system_prompt="Always answer in one line.", max_new_tokens="32", temperature="3")
    panel.save()
    expect(panel.reason("temperature")).to_have_text("Temperature must be from 0 to 2.")
    assert chat.stored_defaults() is None
    panel.fill(temperature="0").save()
    expect(panel.root.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_test_id("announcer")).to_have_text("Settings for new chats saved")
    defaults = {"systemPrompt": "Always answer in one line.", "temperature": 0, "maxNewTokens": 32}
    assert chat.stored_defaults() == defaults

    page.get_by_test_id("new-chat").click()
    expect_route(page, r"#/chat$")
    expect(chat.input).to_be_visible()
    reply = chat.ask("hi")
    expect_route(page, r"#/chat/\w+$")
    cid = chat.conversation_id()
    assert chat.stored_conversation(cid)["settings"] == defaults
    assert chat.stored_messages(cid)[-1]["metadata"]["settings"] == defaults
    expect(reply.get_by_test_id("message-info")).to_have_attribute(
        "title", re.compile("System prompt: “Always answer in one line.”")
    )
    # The new chat's own panel starts from them too.
    Panel(page).open()
    expect(panel.field("max-new-tokens")).to_have_value("32")

    # Back on the page, the stored defaults are shown; the chat is in the sidebar.
    page.keyboard.press("Escape")
    page.get_by_test_id("settings-link").click()
    expect_route(page, r"#/settings$")
    expect(panel.field("system-prompt")).to_have_value("Always answer in one line.")
    expect(chat.items()).to_have_count(1)
    chat.items().first.click()
    expect_route(page, f"#/chat/{cid}$")
    expect(chat.messages).to_have_count(2)
    expect(chat.input).to_be_visible()


def test_unknown_routes_go_to_a_new_chat_and_settings_survive_a_reload(page: Page) -> None:
    chat = ChatPage(page).open(f"{TEST_CATALOG}#/nowhere")
    expect_route(page, r"#/chat$")
    chat.open(SETTINGS)
    Panel(page).fill(top_p="0.9", repetition_penalty="1.2").save()
    expect(page.get_by_test_id("settings-panel").get_by_text("Saved.")).to_be_visible()
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(page.get_by_test_id("top-p")).to_have_value("0.9")
    expect(page.get_by_test_id("repetition-penalty")).to_have_value("1.2")


def test_top_p_is_applied_a_tiny_nucleus_samples_the_likeliest_word_at_any_temperature(
    page: Page,
) -> None:
    """transformers.js 4.3.1 ignores top_p; app/browser/sampling.py applies it. At temperature 2
    a top-p of 0.01 leaves one token to draw each step, so the reply is the greedy one."""
    chat = ChatPage(page).open(CHAT)
    panel = Panel(page).open().fill(temperature="2", top_p="0.01")
    panel.save()
    expect(panel.root).to_be_hidden()  # the modal dialog has closed: the input takes keys
    reply = chat.ask(STORY["messages"][0]["content"])
    assert chat.content(reply) == STORY["answer"]
    cid = chat.conversation_id()
    settings: dict[str, Any] = chat.stored_messages(cid)[-1]["metadata"]["settings"]
    assert settings == {"temperature": 2, "topP": 0.01, "maxNewTokens": 256}


def test_axe_finds_nothing_serious_in_the_settings_panel_and_page(
    page: Page,
    axe_url: str,  # noqa: F811
) -> None:
    ChatPage(page).open(CHAT)
    panel = Panel(page).open()
    panel.fill(temperature="-1").save()
    expect(panel.reason("temperature")).to_be_visible()
    assert_axe_clean(page, axe_url)
    page.keyboard.press("Escape")
    page.goto(SETTINGS)
    expect(page.get_by_test_id("settings-page")).to_be_visible()
    assert_axe_clean(page, axe_url)
