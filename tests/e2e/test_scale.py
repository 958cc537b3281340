"""Scale of stored data (issue 12, target 6): thousands of conversations in the sidebar, and a
conversation of thousands of messages, seeded straight into the app's IndexedDB.

The sidebar renders only the rows in view (above a threshold) and still reaches every
conversation; a long chat opens at its end and shows older messages as the reader scrolls up,
with the screen staying where it was."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .chat_page import ChatPage

PAGE = "?device=wasm&catalog=models/test-catalog.json"

# Seeds `conversations` conversations (the newest first in the sidebar is `c{n-1}`; `c00042` is
# titled "The zebra chat") and, when
# `messages` > 0, one more conversation "long" of that many messages in one line (the newest
# activity), its message `m0100` holding the word "needle".
SEED = """async ({conversations, messages}) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("parlance");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction(["conversations", "messages"], "readwrite");
  const base = 1_700_000_000_000;
  for (let c = 0; c < conversations; c++) {
    const id = `c${String(c).padStart(5, "0")}`;
    tx.objectStore("conversations").put({
      id, title: c === 42 ? "The zebra chat" : `Chat number ${c}`, model: null,
      createdAt: base + c, updatedAt: base + c, settings: {},
    });
  }
  if (messages > 0) {
    const at = base + 10_000_000;
    tx.objectStore("conversations").put({
      id: "long", title: "A very long chat", model: null, createdAt: at,
      updatedAt: at + messages, settings: {}, lane: "m0000",
    });
    for (let m = 0; m < messages; m++) {
      const id = `m${String(m).padStart(4, "0")}`;
      const record = {
        id, conversationId: "long", role: m % 2 ? "assistant" : "user",
        content: `Message ${m}.` + (m === 100 ? " The needle is here." : "")
          + "\\n\\nA second paragraph, so that each message has some height.",
        createdAt: at + m, status: "done", metadata: {},
        parentId: m ? `m${String(m - 1).padStart(4, "0")}` : null, lane: "m0000",
      };
      if (m === 0) record.forkParent = "";
      tx.objectStore("messages").put(record);
    }
  }
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}"""


def seeded(page: Page, route: str, *, conversations: int = 0, messages: int = 0) -> ChatPage:
    chat = ChatPage(page).open(f"{PAGE}#/chat")
    page.evaluate(SEED, {"conversations": conversations, "messages": messages})
    page.goto(f"{PAGE}{route}")
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    return chat


def top_of(page: Page, message_id: str) -> float:
    """Where a message is on screen (px from the viewport's top)."""
    return float(
        page.evaluate(
            "(id) => document.querySelector(`[data-message-id='${id}']`)"
            ".getBoundingClientRect().top",
            message_id,
        )
    )


def test_a_long_chat_opens_at_its_end_and_older_messages_come_as_you_scroll_up(
    page: Page,
) -> None:
    chat = seeded(page, "#/chat/long", messages=2000)
    listing = page.get_by_test_id("message-list")
    expect(chat.messages.last).to_have_attribute("data-message-id", "m1999")
    expect(chat.messages).to_have_count(50)
    expect(chat.messages.last).to_be_in_viewport()
    expect(listing).to_have_attribute("data-has-older", "true")
    # Up to the top: the page above goes in, and what was on screen stays where it was.
    expect(chat.messages.first).to_have_attribute("data-message-id", "m1950")
    # Scrolled and measured in one go: the page above cannot arrive in between.
    before = float(
        listing.evaluate(
            """(list) => {
              list.scrollTop = 0;
              return list.querySelector("[data-message-id='m1950']").getBoundingClientRect().top;
            }"""
        )
    )
    expect(chat.messages).to_have_count(100)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))")
    assert abs(top_of(page, "m1950") - before) <= 1
    assert float(listing.evaluate("(list) => list.scrollTop")) > 0
    # On up to the first message: every message arrives, in order.
    while listing.get_attribute("data-has-older") == "true":
        shown = chat.messages.count()
        listing.evaluate("(list) => { list.scrollTop = 0; }")
        expect(chat.messages).not_to_have_count(shown)
    ids = chat.messages.evaluate_all("(all) => all.map((m) => m.dataset.messageId)")
    assert ids == [f"m{i:04d}" for i in range(2000)]


def test_a_search_result_far_up_a_long_chat_opens_at_its_message(page: Page) -> None:
    seeded(page, "#/chat", messages=2000)
    page.get_by_test_id("search").fill("needle")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    result.click()
    found = page.locator('[data-testid=message][data-message-id="m0100"]')
    expect(found).to_be_in_viewport()
    expect(found).to_have_attribute("data-focused", "true")
    expect(page.get_by_test_id("message").last).to_have_attribute("data-message-id", "m1999")


def item_at(page: Page, position: int) -> str:
    """The conversation id of the rendered row at this position of the whole list (from 1)."""
    row = page.locator(f'[data-testid=conversation-item][aria-posinset="{position}"]')
    return str(row.get_attribute("data-conversation-id"))


def test_a_sidebar_of_ten_thousand_renders_the_rows_in_view_and_reaches_the_last(
    page: Page,
) -> None:
    chat = seeded(page, "#/chat", conversations=10_000)
    listing = page.get_by_test_id("conversation-list")
    expect(listing).to_have_attribute("data-total", "10000")
    expect(listing).to_have_attribute("data-virtual", "true")
    expect(chat.items().first).to_have_attribute("data-conversation-id", "c09999")
    expect(chat.items().first).to_have_attribute("aria-setsize", "10000")
    assert chat.items().count() < 100
    # The list is as tall as ten thousand rows, and scrolling shows the rows that belong there.
    scroller = page.locator(".sidebar nav")
    scroller.evaluate("(nav) => { nav.scrollTop = nav.scrollHeight / 2; }")
    middle = page.locator('[data-testid=conversation-item][aria-posinset="5001"]')
    expect(middle).to_be_in_viewport()
    assert item_at(page, 5001) == "c04999"
    scroller.evaluate("(nav) => { nav.scrollTop = nav.scrollHeight; }")
    last = chat.item("c00000")
    expect(last).to_be_in_viewport()
    expect(last).to_have_attribute("aria-posinset", "10000")
    assert chat.items().count() < 100
    # Rename and open still work on a row far down.
    last.hover()
    last.get_by_test_id("conversation-rename").click()
    field = page.get_by_test_id("conversation-title-input")
    field.fill("The very first chat")
    field.press("Enter")
    expect(last.get_by_test_id("conversation-title")).to_have_text("The very first chat")
    last.click()
    expect(last).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-testid=conversation-item][aria-current=page]")).to_have_count(1)


def test_tab_walks_the_long_sidebar_past_the_rows_first_rendered(page: Page) -> None:
    chat = seeded(page, "#/chat", conversations=1000)
    chat.items().first.focus()
    for _ in range(3 * 60):  # each row: the row, Rename, Delete
        page.keyboard.press("Tab")
    focused = page.locator("[data-testid=conversation-item]:focus")
    expect(focused).to_have_attribute("aria-posinset", "61")
    expect(focused).to_be_in_viewport()
    focused.press("Enter")
    expect(chat.item("c00939")).to_have_attribute("aria-current", "page")


def test_a_search_result_in_a_far_away_conversation_opens_it_and_shows_it_in_the_sidebar(
    page: Page,
) -> None:
    chat = seeded(page, "#/chat", conversations=10_000)
    page.get_by_test_id("search").fill("zebra")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    result.click()
    far = chat.item("c00042")
    expect(far).to_have_attribute("aria-current", "page")
    expect(far).to_be_in_viewport()
