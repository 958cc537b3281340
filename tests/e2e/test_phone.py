"""A phone (390x844): the sidebar as a drawer behind the menu button, one-row toolbar, nothing
clipped or scrolling sideways; and no layout shift when Python fills the shell."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, ViewportSize, expect

from .chat_page import ChatPage, expect_route

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


def phone(page: Page) -> ChatPage:
    page.set_viewport_size(PHONE)
    return ChatPage(page).open(CHAT)


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def assert_on_screen(page: Page, *locators: Locator) -> None:
    height = page.evaluate("innerHeight")
    width = page.evaluate("innerWidth")
    for locator in locators:
        b = box(locator)
        assert b["y"] >= 0 and b["y"] + b["height"] <= height + 0.5, f"{locator} clipped: {b}"
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5, f"{locator} clipped: {b}"


def settled(page: Page) -> None:
    """Wait until the drawer has finished sliding."""
    page.wait_for_function("document.getAnimations().length === 0")


def drawer_is_closed(page: Page) -> None:
    menu = page.get_by_test_id("menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("new-chat")).to_be_hidden()
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()


def test_the_menu_button_shows_only_on_narrow_screens(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    ChatPage(page).open(CHAT)
    expect(page.get_by_test_id("menu")).to_be_hidden()
    expect(page.get_by_test_id("new-chat")).to_be_visible()
    page.set_viewport_size(PHONE)
    expect(page.get_by_test_id("menu")).to_be_visible()
    drawer_is_closed(page)


def test_the_menu_opens_a_drawer_with_new_chat_the_list_and_the_privacy_line(page: Page) -> None:
    chat = phone(page)
    chat.ask("hi")
    menu = page.get_by_test_id("menu")
    expect(menu).to_have_attribute("aria-controls", "sidebar")
    drawer_is_closed(page)
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("new-chat")).to_be_focused()  # focus moves into the drawer
    expect(chat.items()).to_have_count(1)
    expect(chat.items().first).to_be_visible()
    expect(page.locator("#sidebar .privacy")).to_be_visible()
    settled(page)
    assert_on_screen(page, page.get_by_test_id("new-chat"), chat.items().first)
    # The chat behind it is out of reach of the keyboard while the drawer is open.
    assert page.evaluate("document.querySelector('main').inert") is True
    page.keyboard.press("Escape")
    drawer_is_closed(page)
    expect(menu).to_be_focused()  # focus comes back to the menu button
    assert page.evaluate("document.querySelector('main').inert") is False
    # The menu button closes it too, and so does a tap beside it.
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    menu.click()
    drawer_is_closed(page)
    expect(menu).to_be_focused()
    menu.click()
    page.get_by_test_id("drawer-scrim").click(position={"x": 370, "y": 400})
    drawer_is_closed(page)


def test_choosing_a_conversation_or_new_chat_closes_the_drawer(page: Page) -> None:
    chat = phone(page)
    chat.ask("hi")
    expect_route(page, r"#/chat/\w+$")
    first = chat.conversation_id()
    page.get_by_test_id("menu").click()
    page.get_by_test_id("new-chat").click()
    expect_route(page, r"#/chat$")
    drawer_is_closed(page)
    expect(chat.input).to_be_focused()
    chat.ask("Write code")
    expect_route(page, r"#/chat/\w+$")
    page.get_by_test_id("menu").click()
    chat.item(first).click()
    expect_route(page, f"#/chat/{first}$")
    drawer_is_closed(page)
    expect(chat.input).to_be_focused()
    expect(chat.messages).to_have_count(2)


def test_rename_in_the_drawer_then_back_to_writing(page: Page) -> None:
    chat = phone(page)
    chat.ask("hi")
    expect_route(page, r"#/chat/\w+$")
    page.get_by_test_id("menu").click()
    item = chat.items().first
    item.get_by_test_id("conversation-rename").click()
    field = page.get_by_test_id("conversation-title-input")
    field.fill("Pocket chat")
    field.press("Enter")
    expect(item.get_by_test_id("conversation-title")).to_have_text("Pocket chat")
    drawer_is_closed(page)
    expect(chat.input).to_be_focused()


def test_the_toolbar_fits_one_row_and_nothing_is_clipped(page: Page, write_site_file: Any) -> None:
    page.set_viewport_size(PHONE)
    # A catalog that cannot be fetched: the shipped one is used, and the error banner says so.
    chat = ChatPage(page).open("?device=wasm&catalog=test-catalogs/none.json#/chat")
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    toolbar = page.locator(".toolbar")
    assert box(toolbar)["height"] <= 60
    parts = [page.get_by_test_id("menu"), page.get_by_test_id("model-select"),
             page.get_by_test_id("model-status")]  # fmt: skip
    rows = {round(box(p)["y"] + box(p)["height"] / 2) for p in parts}
    assert max(rows) - min(rows) <= 4, f"the toolbar wraps: {rows}"
    chat.input.fill("\n".join(f"line {n} of a long message" for n in range(40)))
    assert_on_screen(page, toolbar, error, chat.input, page.get_by_test_id("send"))
    assert_no_sideways_scroll(page)


def test_a_code_reply_and_a_long_word_never_scroll_the_page_sideways(page: Page) -> None:
    chat = phone(page)
    chat.ask("Write code")
    chat.ask("x" * 400)
    assert_no_sideways_scroll(page)
    assert_on_screen(page, chat.input, page.get_by_test_id("send"))


def shell_boxes(page: Page) -> dict[str, dict[str, float]]:
    return {
        name: box(page.locator(selector))
        for name, selector in {
            "picker": "[data-testid=model-select]",
            "toolbar": ".toolbar",
            "composer": ".composer",
            "messages": "[data-testid=message-list]",
        }.items()
    }


def assert_no_layout_shift(page: Page) -> None:
    page.goto(CHAT, wait_until="domcontentloaded")
    before = shell_boxes(page)
    assert page.get_by_test_id("app").get_attribute("data-ready") == "false"
    expect(page.get_by_test_id("app")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-state", "ready")
    assert shell_boxes(page) == before


def test_the_shell_does_not_move_when_python_starts_on_a_desktop(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    assert_no_layout_shift(page)


def test_the_shell_does_not_move_when_python_starts_on_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert_no_layout_shift(page)
