"""The KV cache survives between turns: the next turn reads only what is new, and gives the
same replies as a page that re-reads the whole history (`?kv=0`).

Each reply says how long its prompt was and how many of those tokens the model did not read
again (`data-prompt-tokens`, `data-reused-tokens`, from the engine's own count).
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .chat_page import ChatPage
from .conftest import canned

CHAT = "?device=wasm&catalog=models/test-catalog.json#/chat"


def tokens(reply: Locator) -> tuple[int, int]:
    """(prompt tokens, of which reused) of a finished reply."""
    prompt = reply.get_attribute("data-prompt-tokens")
    reused = reply.get_attribute("data-reused-tokens")
    assert prompt and reused is not None, "the reply records its prompt"
    return int(prompt), int(reused)


def conversation(chat: ChatPage) -> list[tuple[str, int, int]]:
    """Two turns, an edit of the first message, one more turn and a regenerate: each reply's
    text with its prompt and reused token counts."""
    seen: list[tuple[str, int, int]] = []

    def note(reply: Locator) -> None:
        seen.append((chat.content(reply), *tokens(reply)))

    note(chat.ask("My name is Ada."))
    note(chat.ask("What is my name?"))
    first = chat.messages.first
    first.get_by_test_id("message-edit").click()
    first.get_by_test_id("message-edit-input").fill("hi")
    first.get_by_test_id("message-edit-save").click()
    expect(chat.messages).to_have_count(2)
    note(chat.wait_reply_finished())
    note(chat.ask("What is the capital of France?"))
    replaced = chat.reply().get_attribute("data-message-id") or ""
    chat.page.get_by_test_id("regenerate").click()
    # The old reply stays shown (done) until the turn starts: wait for the new one.
    expect(chat.reply()).not_to_have_attribute("data-message-id", replaced)
    note(chat.wait_reply_finished())
    return seen


def test_the_next_turn_goes_on_from_the_cache_and_an_edit_or_regenerate_does_not(
    page: Page,
) -> None:
    with_cache = conversation(ChatPage(page).open(CHAT))
    # The canned answers are what the model answers reading the whole history (test_models.py).
    (ada, p1, r1), (name, p2, r2), (hi, p3, r3), (capital, p4, r4), (_, p5, r5) = with_cache
    assert (ada, name) == (canned("tiny-chat-a", "greet-Ada")["answer"], "Your name is Ada.")
    assert (hi, capital) == (
        canned("tiny-chat-a", "hi")["answer"],
        canned("tiny-chat-a", "context-hi-capital")["answer"],
    )
    assert r1 == 0, "a new chat has nothing to reuse"
    # The second turn's prompt extends the first turn's, then its reply: all of that is reused.
    assert p1 < r2 < p2
    # The edit changed the first message: only the template's opening tokens before it agree,
    # and the cache is cropped to them.
    assert 0 < r3 < p1 // 2
    assert p3 < r4 < p4
    # A regenerate samples (other settings): it starts afresh, with the same prompt.
    assert (p5, r5) == (p4, 0)

    # Re-reading the history every turn (`?kv=0`): the same replies from the same prompts.
    page.goto("about:blank")
    chat = ChatPage(page).open(CHAT.replace("?", "?kv=0&"))
    again = [chat.ask(text) for text in ("My name is Ada.", "What is my name?")]
    assert [chat.content(reply) for reply in again] == [ada, name]
    assert [tokens(reply) for reply in again] == [(p1, 0), (p2, 0)]


def test_on_webgpu_the_next_turn_goes_on_from_the_cache_and_an_edit_crops_it(
    webgpu_page: Page,
) -> None:
    chat = ChatPage(webgpu_page).open("?catalog=models/test-catalog.json#/chat")
    expect(chat.app).to_have_attribute("data-device", "webgpu")
    first = chat.ask("My name is Ada.")
    second = chat.ask("What is my name?")
    assert chat.content(second) == "Your name is Ada."
    assert tokens(second)[1] > tokens(first)[0], "the second turn went on from the cache"
    # An edit reuses only the template's opening tokens: the cache (GPU buffers) is cropped.
    message = chat.messages.first
    message.get_by_test_id("message-edit").click()
    message.get_by_test_id("message-edit-input").fill("hi")
    message.get_by_test_id("message-edit-save").click()
    expect(chat.messages).to_have_count(2)
    edited = chat.wait_reply_finished()
    assert chat.content(edited) == canned("tiny-chat-a", "hi")["answer"]
    edited_prompt, edited_reused = tokens(edited)
    assert 0 < edited_reused < tokens(first)[0] // 2
    capital = chat.ask("What is the capital of France?")
    assert chat.content(capital) == canned("tiny-chat-a", "context-hi-capital")["answer"]
    assert tokens(capital)[1] > edited_prompt
