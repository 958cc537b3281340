"""Keyboard and screen reader: where focus goes, what Escape does, the modal delete question, a
focusable history, one h1, visible field edges and focus rings, a live region that speaks once
per change; and axe-core (from npm) finding nothing serious or critical in six states."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from .chat_page import ChatPage, expect_route
from .conftest import ROOT, CatalogFor

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"
NO_CATALOG = "?device=wasm&catalog=test-catalogs/none.json#/chat"
PHONE: ViewportSize = {"width": 390, "height": 844}
LABEL_A = "Tiny Chat A (bundled)"  # models/test-catalog.json
AXE = ROOT / "node_modules/axe-core/axe.min.js"


# -- axe-core ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_url(site_root: Path) -> str:
    """axe-core served by the site itself: the page's CSP refuses inline scripts, so
    `add_script_tag(path=...)` (which inlines the file) would be refused; a same-origin URL is
    not. It lives in the test site only, never in vendor/ or the app."""
    assert AXE.exists(), "axe-core is missing: run npm ci"
    shutil.copyfile(AXE, site_root / "test-catalogs" / "axe.min.js")
    return "test-catalogs/axe.min.js"


RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""


def axe_violations(page: Page, axe_url: str) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=axe_url)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    for v in violations:  # every finding is printed (pytest -s), the serious ones fail
        print(f"axe {v['impact']}: {v['id']} ({v['help']}) {v['nodes']}")
    return violations


def assert_axe_clean(page: Page, axe_url: str) -> None:
    serious = [v for v in axe_violations(page, axe_url) if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def test_axe_finds_nothing_serious_in_an_empty_chat(page: Page, axe_url: str) -> None:
    ChatPage(page).open(CHAT)
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-state", "ready")
    assert_axe_clean(page, axe_url)


def test_axe_finds_nothing_serious_in_a_chat_with_code(page: Page, axe_url: str) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.ask("Write code")
    expect(chat.reply().locator("pre")).to_be_visible()
    assert_axe_clean(page, axe_url)


def test_axe_finds_nothing_serious_with_an_error_shown(page: Page, axe_url: str) -> None:
    ChatPage(page).open(NO_CATALOG)
    expect(page.get_by_test_id("error")).to_be_visible()
    assert_axe_clean(page, axe_url)


def test_axe_finds_nothing_serious_with_the_delete_question_open(page: Page, axe_url: str) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.ask("hi")
    chat.items().first.get_by_test_id("conversation-delete").click()
    expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    assert_axe_clean(page, axe_url)


def test_axe_finds_nothing_serious_on_a_phone(page: Page, axe_url: str) -> None:
    page.set_viewport_size(PHONE)
    chat = ChatPage(page).open(CHAT)
    chat.ask("Write code")
    assert_axe_clean(page, axe_url)
    page.get_by_test_id("menu").click()
    expect(page.get_by_test_id("new-chat")).to_be_focused()
    page.wait_for_function("document.getAnimations().length === 0")
    assert_axe_clean(page, axe_url)


def test_axe_finds_nothing_serious_in_dark_mode(page: Page, axe_url: str) -> None:
    page.emulate_media(color_scheme="dark")
    chat = ChatPage(page).open(NO_CATALOG)
    expect(page.get_by_test_id("error")).to_be_visible()
    assert_axe_clean(page, axe_url)
    page.goto(CHAT)
    chat.ask("Write code")
    assert_axe_clean(page, axe_url)


# -- focus and Escape -------------------------------------------------------------------------


def test_focus_returns_to_the_input_after_send_open_rename_and_delete(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.send("hi")
    expect(chat.input).to_be_focused()
    chat.wait_reply_finished()
    expect_route(page, r"#/chat/\w+$")
    first = chat.conversation_id()
    page.get_by_test_id("new-chat").click()
    expect(chat.input).to_be_focused()
    chat.ask("Write code")
    expect_route(page, r"#/chat/\w+$")
    second = chat.conversation_id()
    # Open a conversation, with the mouse and with the keyboard.
    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    expect(chat.input).to_be_focused()
    chat.item(second).focus()
    page.keyboard.press("Enter")
    expect_route(page, f"#/chat/{second}$")
    expect(chat.input).to_be_focused()
    # Rename: Enter saves, Escape cancels; both give focus back.
    chat.item(first).get_by_test_id("conversation-rename").click()
    page.get_by_test_id("conversation-title-input").fill("Greetings")
    page.keyboard.press("Enter")
    expect(chat.item(first).get_by_test_id("conversation-title")).to_have_text("Greetings")
    expect(chat.input).to_be_focused()
    chat.item(first).get_by_test_id("conversation-rename").click()
    page.keyboard.press("Escape")
    expect(chat.input).to_be_focused()
    # Delete another chat than the open one.
    chat.item(first).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    expect(chat.items()).to_have_count(1)
    expect(chat.input).to_be_focused()
    # Delete the open chat: the app goes to a new chat.
    chat.item(second).get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm").click()
    expect_route(page, r"#/chat$")
    expect(chat.items()).to_have_count(0)
    expect(chat.input).to_be_focused()


def test_the_delete_question_is_modal_names_the_chat_and_escape_keeps_it(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.ask("hi")
    chat.item(chat.conversation_id()).get_by_test_id("conversation-rename").click()
    page.get_by_test_id("conversation-title-input").fill("Trip to Lisbon")
    page.keyboard.press("Enter")
    expect(chat.items().first).to_have_text(re.compile("Trip to Lisbon"))
    chat.items().first.get_by_test_id("conversation-delete").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal')")
    expect(page.get_by_role("dialog", name=re.compile("Trip to Lisbon"))).to_be_visible()
    # Focus stays in the dialog however often Tab is pressed.
    for _ in range(5):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(chat.items()).to_have_count(1)
    expect(chat.input).to_be_focused()


def test_escape_and_stop_end_a_streaming_reply_and_focus_the_input(
    page: Page, catalog_for: CatalogFor
) -> None:
    catalog = catalog_for(min_new_tokens=1500)
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog}#/chat")
    chat.send("Tell me a story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    expect(page.get_by_test_id("stop")).to_be_visible()
    page.get_by_test_id("message-list").focus()  # Escape works wherever focus is
    page.keyboard.press("Escape")
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    expect(chat.input).to_be_focused()
    chat.send("Tell me a story")
    expect(chat.reply(1)).to_have_attribute("data-status", "streaming")
    page.get_by_test_id("stop").click()
    expect(chat.reply(1)).to_have_attribute("data-status", "stopped")
    expect(chat.input).to_be_focused()


def test_the_history_is_focusable_and_scrolls_with_the_keyboard(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    words = " ".join(f"word{n}" for n in range(60))
    conversations = [{"id": "long", "title": "Long", "model": None, "createdAt": 1, "updatedAt": 2}]
    messages: list[dict[str, Any]] = [
        {"id": f"m{n}", "conversationId": "long", "role": "user" if n % 2 == 0 else "assistant",
         "content": words, "createdAt": n + 1, "status": "done", "metadata": {}}
        for n in range(30)
    ]  # fmt: skip
    chat.seed(conversations, messages)
    page.goto(CHAT.replace("#/chat", "#/chat/long"))
    expect(chat.messages).to_have_count(30)
    history = page.get_by_test_id("message-list")
    expect(history).to_have_attribute("tabindex", "0")
    assert history.get_attribute("aria-live") is None  # rewritten every frame: never live
    history.focus()
    history.evaluate("h => { h.scrollTop = 0; }")
    page.keyboard.press("PageDown")
    page.wait_for_function("document.querySelector('[data-testid=message-list]').scrollTop > 0")
    page.keyboard.press("End")
    page.wait_for_function(
        """(() => { const h = document.querySelector('[data-testid=message-list]');
                    return h.scrollTop + h.clientHeight >= h.scrollHeight - 2; })()"""
    )


def test_exactly_one_h1_whatever_the_page_shows(page: Page) -> None:
    def h1_count() -> int:
        return int(page.evaluate("document.querySelectorAll('h1').length"))

    chat = ChatPage(page).open(CHAT)
    assert h1_count() == 1
    chat.ask("Write code")
    assert h1_count() == 1
    page.goto(CHAT.replace("#/chat", "#/chat/nope"))
    expect(page.get_by_test_id("not-found")).to_be_visible()
    assert h1_count() == 1
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


# -- what the eye needs -----------------------------------------------------------------------


def luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# The colour of a field's edge (its border, or the inset shadow that draws it) and of what lies
# behind the field (the first ancestor with a background colour).
FIELD_EDGES = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const behind = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return ['chat-input', 'model-select'].map((id) => {
    const el = document.querySelector(`[data-testid=${id}]`);
    const style = getComputedStyle(el);
    const edge = parseFloat(style.borderTopWidth) > 0 ? style.borderTopColor : style.boxShadow;
    return {id, edge: rgb(edge), behind: behind(el)};
  });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_form_field_edges_stand_out_three_to_one(
    page: Page, scheme: Literal["light", "dark"]
) -> None:
    page.emulate_media(color_scheme=scheme)
    ChatPage(page).open(CHAT)
    for field in page.evaluate(FIELD_EDGES):
        ratio = contrast(tuple(field["edge"]), tuple(field["behind"]))
        assert ratio >= 3, f"{field['id']} edge is {ratio:.2f}:1 in {scheme} mode"


def test_the_keyboard_focus_is_visible(page: Page) -> None:
    chat = ChatPage(page).open(CHAT)
    chat.input.focus()
    page.keyboard.press("Tab")
    send = page.get_by_test_id("send")
    expect(send).to_be_focused()
    assert send.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    history = page.get_by_test_id("message-list")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(history).to_be_focused()
    assert history.evaluate("e => getComputedStyle(e).outlineStyle") != "none"


# -- the live region --------------------------------------------------------------------------

RECORD_ANNOUNCEMENTS = """
window.__announced = [];
document.addEventListener('DOMContentLoaded', () => {
  const region = document.querySelector('[data-testid=announcer]');
  new MutationObserver(() => {
    if (region.textContent) window.__announced.push(region.textContent);
  }).observe(region, {childList: true, subtree: true, characterData: true});
});
"""


def test_one_live_region_says_each_model_state_once_and_each_reply_once(page: Page) -> None:
    page.add_init_script(RECORD_ANNOUNCEMENTS)
    chat = ChatPage(page).open(CHAT)
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-state", "ready")
    live = page.locator("[aria-live]:not([aria-live=off]), [role=status], [role=log]")
    live_ids = [e.get_attribute("data-testid") for e in live.all()]
    assert "message-list" not in live_ids and "model-status" not in live_ids
    assert "announcer" in live_ids
    expect(page.get_by_test_id("announcer")).to_contain_text(f"{LABEL_A} is ready")
    chat.ask("hi")
    expect(page.get_by_test_id("announcer")).to_have_text(f"Reply from {LABEL_A} finished")
    chat.ask("Write code")
    page.wait_for_function(
        "window.__announced.filter((s) => s.startsWith('Reply from')).length >= 2"
    )
    said: list[str] = page.evaluate("window.__announced")
    replies = [s for s in said if s.startswith("Reply from")]
    assert replies == [f"Reply from {LABEL_A} finished"] * 2, said
    states = [s for s in said if not s.startswith("Reply from")]
    assert len(states) == len(set(states)) <= 4, f"the status chattered: {said}"
