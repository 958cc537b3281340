"""Messages in real Chromium: highlighted code, the copy buttons, tables and quotes, and a
streaming reply that is followed only while the reader is at its end."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from .chat_page import ChatPage
from .conftest import MODEL_A, CatalogFor, canned

TEST_CATALOG = "?device=wasm&catalog=models/test-catalog.json"
CODE = canned("tiny-chat-a", "code")
THE_CODE = "def add(a, b):\n    return a + b"


def computed(locator: Locator, prop: str, pseudo: str | None = None) -> str:
    return str(
        locator.evaluate(
            "(el, [prop, pseudo]) => getComputedStyle(el, pseudo).getPropertyValue(prop)",
            [prop, pseudo],
        )
    )


def allow_clipboard(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])


def clipboard(page: Page) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def seed_chat(chat: ChatPage, reply: str, question: str = "Show me") -> None:
    """A stored chat with one question and `reply`, opened."""
    chat.open(f"{TEST_CATALOG}#/chat")
    chat.seed(
        [{"id": "c1", "title": "Seeded", "model": None, "createdAt": 1, "updatedAt": 2}],
        [
            {"id": "u", "conversationId": "c1", "role": "user", "content": question,
             "createdAt": 1, "status": "done", "metadata": {}},
            {"id": "a", "conversationId": "c1", "role": "assistant", "content": reply,
             "createdAt": 2, "status": "done", "metadata": {"model": MODEL_A}},
        ],
    )  # fmt: skip
    chat.open(f"{TEST_CATALOG}#/chat/c1")
    expect(chat.messages).to_have_count(2)


# -- code ---------------------------------------------------------------------------------


def test_a_code_block_is_highlighted_and_names_its_language(page: Page) -> None:
    chat = ChatPage(page).open(f"{TEST_CATALOG}#/chat")
    reply = chat.ask("Write code")
    pre = reply.locator("pre")
    expect(pre).to_have_count(1)
    expect(pre).to_have_attribute("data-language", "python")
    expect(pre.locator("code.language-python")).to_have_count(1)
    expect(pre.locator("span.k").first).to_have_text("def")
    expect(pre.locator("span.nf")).to_have_text("add")
    # Keywords have a colour of their own, light and dark, and the block says its language.
    keyword = pre.locator("span.k").first
    light = computed(keyword, "color")
    assert light not in {computed(pre, "color"), ""}
    assert computed(pre, "content", "::before") == '"python"'
    page.emulate_media(color_scheme="dark")
    expect(keyword).not_to_have_css("color", light)
    # The copy button adds no text: the message reads as the reply's text.
    assert THE_CODE in chat.content(reply)
    assert "Copy" not in chat.content(reply)
    expect(reply.get_by_role("button", name="Copy code")).to_have_count(1)


def test_code_copy_copies_exactly_that_block_and_says_so(page: Page) -> None:
    allow_clipboard(page)
    chat = ChatPage(page)
    seed_chat(chat, f"Two blocks:\n\n```python\n{THE_CODE}\n```\n\n```\nplain <text> & more\n```")
    buttons = chat.reply().get_by_test_id("code-copy")
    expect(buttons).to_have_count(2)
    buttons.nth(0).click()
    expect(buttons.nth(0)).to_have_attribute("data-copied", "true")
    expect(buttons.nth(0)).to_have_attribute("aria-label", "Copied")
    assert clipboard(page) == THE_CODE
    buttons.nth(1).click()
    expect(buttons.nth(1)).to_have_attribute("data-copied", "true")
    assert clipboard(page) == "plain <text> & more"
    # The feedback is brief.
    expect(buttons.nth(0)).not_to_have_attribute("data-copied", "true")
    expect(buttons.nth(0)).to_have_attribute("aria-label", "Copy code")


def test_message_copy_copies_the_markdown_source_of_each_message(page: Page) -> None:
    allow_clipboard(page)
    chat = ChatPage(page).open(f"{TEST_CATALOG}#/chat")
    reply = chat.ask("Write code")
    copy = reply.get_by_test_id("message-copy")
    expect(copy).to_have_accessible_name("Copy message")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert clipboard(page) == CODE["answer"]  # the Markdown, fences and ** included
    question = chat.messages.first.get_by_test_id("message-copy")
    question.click()
    expect(question).to_have_text("Copied")
    assert clipboard(page) == "Write code"
    expect(copy).to_have_text("Copy")


def test_a_refused_copy_says_it_failed(page: Page) -> None:
    page.add_init_script(
        "navigator.clipboard.writeText = () =>"
        " Promise.reject(new DOMException('refused', 'NotAllowedError'))"
    )
    chat = ChatPage(page)
    seed_chat(chat, f"```python\n{THE_CODE}\n```")
    chat.reply().get_by_test_id("code-copy").click()
    expect(chat.reply().get_by_test_id("code-copy")).to_have_attribute("data-copied", "failed")
    copy = chat.reply().get_by_test_id("message-copy")
    copy.click()
    expect(copy).to_have_text("Copy failed")


# -- tables and quotes --------------------------------------------------------------------

WIDE = " | ".join(f"column_{i}_with_a_long_unbreakable_name" for i in range(8))
TABLE_AND_QUOTE = (
    "| Name | Value |\n|:--|--:|\n| a | 1 |\n| b | 22 |\n\n"
    "> A quoted line\n> and another.\n\n"
    f"| {WIDE} |\n|{'---|' * 8}\n| {' | '.join(['x'] * 8)} |\n"
)


def test_tables_have_borders_and_a_bold_header_and_quotes_stand_apart(page: Page) -> None:
    page.set_viewport_size({"width": 900, "height": 700})
    chat = ChatPage(page)
    seed_chat(chat, TABLE_AND_QUOTE)
    content = chat.reply().get_by_test_id("message-content")
    expect(content.locator("table")).to_have_count(2)
    header = content.locator("th").first
    cell = content.locator("td").first
    for element in (header, cell):
        assert computed(element, "border-top-style") == "solid"
        assert computed(element, "border-top-width") == "1px"
        assert float(computed(element, "padding-left").removesuffix("px")) >= 6
    assert int(computed(header, "font-weight")) >= 600
    expect(content.locator("td.align-right").first).to_have_text("1")
    quote = content.locator("blockquote")
    expect(quote).to_contain_text("A quoted line")
    assert computed(quote, "border-left-style") == "solid"
    assert computed(quote, "border-left-width") == "3px"


def test_a_wide_table_scrolls_inside_the_message_never_the_page(page: Page) -> None:
    for width in (900, 390):
        page.set_viewport_size({"width": width, "height": 800})
        chat = ChatPage(page)
        seed_chat(chat, TABLE_AND_QUOTE)
        box = chat.reply().locator(".table-scroll").nth(1)
        sizes: dict[str, Any] = box.evaluate(
            """(box) => {
              const list = document.querySelector('[data-testid=message-list]');
              return {box: box.scrollWidth > box.clientWidth,
                      list: list.scrollWidth - list.clientWidth,
                      page: document.documentElement.scrollWidth - window.innerWidth};
            }"""
        )
        assert sizes == {"box": True, "list": 0, "page": 0}, (width, sizes)


# -- following a streaming reply ----------------------------------------------------------


def scroll_state(page: Page) -> dict[str, float]:
    return dict(
        page.get_by_test_id("message-list").evaluate(
            "(el) => ({top: el.scrollTop, gap: el.scrollHeight - el.scrollTop - el.clientHeight,"
            " height: el.scrollHeight})"
        )
    )


def test_scrolling_up_mid_reply_stops_following_until_jump_latest(
    page: Page, catalog_for: CatalogFor
) -> None:
    page.set_viewport_size({"width": 900, "height": 500})
    chat = ChatPage(page).open(f"?device=wasm&catalog={catalog_for(min_new_tokens=1500)}#/chat")
    jump = page.get_by_test_id("jump-latest")
    messages = page.get_by_test_id("message-list")
    chat.send("Tell me a story")
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    # While the reader is at the end, the list follows the reply as it grows.
    page.wait_for_function(
        "() => { const l = document.querySelector('[data-testid=message-list]');"
        " return l.scrollHeight > l.clientHeight + 400; }"
    )
    assert scroll_state(page)["gap"] <= 48
    expect(jump).to_be_hidden()
    # The reader scrolls up: following stops, and jump-latest shows.
    messages.hover()
    page.mouse.wheel(0, -300)
    expect(jump).to_be_visible()
    held = scroll_state(page)
    page.wait_for_function(
        "(h) => document.querySelector('[data-testid=message-list]').scrollHeight > h + 200",
        arg=held["height"],
    )
    expect(chat.reply()).to_have_attribute("data-status", "streaming")
    assert abs(scroll_state(page)["top"] - held["top"]) <= 1, "the view moved while reading"
    # Jump to latest: back at the end, following again, the button gone.
    jump.click()
    expect(jump).to_be_hidden()
    page.wait_for_function(
        "(h) => document.querySelector('[data-testid=message-list]').scrollHeight > h + 100",
        arg=scroll_state(page)["height"],
    )
    assert scroll_state(page)["gap"] <= 48
    # Once the reply ends the button stays hidden, wherever the reader is.
    page.get_by_test_id("stop").click()
    expect(chat.reply()).to_have_attribute("data-status", "stopped")
    messages.hover()
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=message-list]').scrollTop > 0 &&"
        " document.querySelector('[data-testid=message-list]').scrollHeight -"
        " document.querySelector('[data-testid=message-list]').scrollTop -"
        " document.querySelector('[data-testid=message-list]').clientHeight > 100"
    )
    expect(jump).to_be_hidden()
