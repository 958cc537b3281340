"""Search over every conversation, in the real page on IndexedDB (UI contract: `search`,
`search-result`)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import READY

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"
HOSTILE = "<img src=x onerror=window.__pwned=1> the secret plan <script>window.__pwned=2</script>"


def conversation(cid: str, title: str, updated: int, lane: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": cid, "title": title, "model": None, "createdAt": 1, "updatedAt": updated,
    }  # fmt: skip
    if lane:
        record["lane"] = lane
    return record


def message(
    mid: str, cid: str, content: str, at: int, parent: str | None, lane: str, role: str = "user"
) -> dict[str, Any]:
    """A stored message as the v2 schema files it (tree.py): a lane start has forkParent."""
    record: dict[str, Any] = {
        "id": mid, "conversationId": cid, "role": role, "content": content, "createdAt": at,
        "status": "done", "metadata": {}, "parentId": parent, "lane": lane,
    }  # fmt: skip
    if lane == mid:
        record["forkParent"] = parent or ""
    return record


def line(cid: str, texts: list[str], start: int = 1) -> list[dict[str, Any]]:
    """A conversation without branches: each message follows the one before, in one lane."""
    first = f"{cid}-0"
    return [
        message(
            f"{cid}-{n}",
            cid,
            text,
            start + n,
            f"{cid}-{n - 1}" if n else None,
            first,
            "user" if n % 2 == 0 else "assistant",
        )
        for n, text in enumerate(texts)
    ]


def seeded(page: Page) -> ChatPage:
    """Stored chats: a trip, a recipe, hostile markup, and a long chat with two branches.

    In `tree` the reply to message 19 was regenerated: the newer branch (alt, shown when the
    chat opens) leaves out messages 20 to 39 of the first, one of which mentions Zanzibar."""
    chat = ChatPage(page).open(CHAT)
    filler = "Plain words to fill the screen so that the list has to scroll a long way. " * 3
    tree = line("tree", [filler + f"(part {n})" for n in range(40)])
    tree[30]["content"] = filler + "We sailed to Zanzibar at dawn."
    tree += [
        message("alt", "tree", "A different answer.", 100, "tree-19", "alt", "assistant"),
        message("alt2", "tree", "And on from there.", 101, "alt", "alt"),
    ]
    chat.seed(
        [
            conversation("trip", "Holiday in Provence", 50),
            conversation("bake", "Desserts", 40),
            conversation("evil", "Odd one", 30),
            conversation("tree", "Long story", 20, lane="alt"),
        ],
        [
            *line("trip", ["Where should we stay?", "Arles is lovely; Provence is warm in May."]),
            *line("bake", ["How do I make a crème brûlée?", "Custard, sugar, a torch."]),
            *line("evil", [HOSTILE]),
            *tree,
        ],
    )
    page.reload()
    page.wait_for_selector(READY)
    expect(chat.items()).to_have_count(4)
    return chat


def search(page: Page, text: str) -> None:
    box = page.get_by_test_id("search")
    box.fill(text)


def results(page: Page) -> Any:
    return page.get_by_test_id("search-result")


def test_search_finds_a_title_and_message_text_with_the_match_marked(page: Page) -> None:
    seeded(page)
    search(page, "provence")
    found = results(page)
    expect(found).to_have_count(2)
    title_hit, text_hit = found.nth(0), found.nth(1)
    expect(title_hit).to_have_attribute("data-conversation-id", "trip")
    expect(title_hit).to_have_attribute("data-message-id", "")
    expect(title_hit.locator("mark")).to_have_text("Provence")
    expect(text_hit).to_have_attribute("data-message-id", "trip-1")
    expect(text_hit).to_contain_text("Holiday in Provence")  # the conversation it is in
    expect(text_hit.locator("mark")).to_have_text("Provence")
    # Case and accents do not matter; the original spelling is what is marked.
    search(page, "CREME BRULEE")
    expect(results(page)).to_have_count(1)
    expect(results(page).locator("mark")).to_have_text("crème brûlée")


def test_hostile_html_in_a_message_shows_as_text_in_the_snippet(page: Page) -> None:
    seeded(page)
    search(page, "secret plan")
    hit = results(page)
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("onerror=window.__pwned=1> the")
    expect(hit).to_contain_text("<script>window.__pwned=2</script>")
    expect(hit.locator("mark")).to_have_text("secret plan")
    expect(page.get_by_test_id("search-results").locator("img, script")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None


def test_no_matches_says_so_and_escape_clears_the_search(page: Page) -> None:
    seeded(page)
    search(page, "xylophone")
    status = page.get_by_test_id("search-status")
    expect(status).to_have_text("No matches")
    expect(results(page)).to_have_count(0)
    search(page, "arles")
    expect(results(page)).to_have_count(1)
    page.get_by_test_id("search").press("Escape")
    expect(page.get_by_test_id("search")).to_have_value("")
    expect(results(page)).to_have_count(0)
    expect(status).to_be_hidden()


def test_choosing_a_result_opens_its_chat_at_the_message_on_its_branch(page: Page) -> None:
    chat = seeded(page)
    search(page, "zanzibar")
    expect(results(page)).to_have_count(1)
    # The keyboard: down to the result, Enter opens it.
    page.get_by_test_id("search").press("ArrowDown")
    expect(results(page).first).to_have_attribute("aria-selected", "true")
    page.get_by_test_id("search").press("Enter")
    expect_route(page, "^#/chat/tree$")
    target = page.locator('[data-testid=message][data-message-id="tree-30"]')
    expect(target).to_be_in_viewport()
    # The branch holding it, not the newer one the chat reopens on by default.
    expect(chat.messages).to_have_count(40)
    expect(page.locator('[data-testid=message][data-message-id="alt"]')).to_have_count(0)
    # Another result of the chat now open brings its message into view too (a click).
    search(page, "part 2)")
    other = results(page).and_(page.locator('[data-message-id="tree-2"]'))
    expect(other).to_have_count(1)  # not the previous query's result, still on screen
    other.click()
    expect(page.locator('[data-testid=message][data-message-id="tree-2"]')).to_be_in_viewport()


def test_search_works_from_the_phone_drawer(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 780})
    chat = seeded(page)
    page.get_by_test_id("menu").click()
    box = page.get_by_test_id("search")
    expect(box).to_be_visible()
    box.fill("custard")
    expect(results(page)).to_have_count(1)
    results(page).first.click()
    expect_route(page, "^#/chat/bake$")
    expect(page.get_by_test_id("app")).to_have_attribute("data-drawer", "closed")
    expect(page.locator('[data-testid=message][data-message-id="bake-1"]')).to_be_in_viewport()
    expect(chat.messages).to_have_count(2)
