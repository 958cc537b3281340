"""A long conversation opens on its newest page, and older pages come as the reader asks
(app/core/paging.py); what a reply reads is still the whole branch."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.conversations import Conversation, Message
from app.core.events import ConversationOpened, OlderMessagesShown
from app.core.paging import PAGE_MESSAGES
from app.core.tree import placed

from .test_chat import Harness

LONG = 120


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def ids(messages: Any) -> list[str]:
    return [m.id for m in messages]


async def seeded(h: Harness, count: int = LONG, *, fork_at: int | None = None) -> list[Message]:
    """A conversation `long` of `count` messages in one line (and, with `fork_at`, a second
    answer to that message, written last, so the chat reopens on it)."""
    messages = [
        Message(
            f"m{i:03d}",
            "long",
            "user" if i % 2 == 0 else "assistant",
            f"message {i}",
            1_000 + i,
            parent_id=f"m{i - 1:03d}" if i else None,
        )
        for i in range(count)
    ]
    if fork_at is not None:
        parent = f"m{fork_at - 1:03d}"
        messages.append(Message("fork", "long", "assistant", "other", 9_000, parent_id=parent))
    conversation = Conversation("long", "A long chat", None, 1_000, 9_000)
    await h.store.import_conversations([(conversation, placed(messages))])
    return messages


def test_a_long_chat_opens_on_its_newest_page_and_says_there_is_more() -> None:
    async def scenario() -> None:
        h = Harness()
        every = await seeded(h)
        assert await h.chat.open("long")
        opened = h.events.of(ConversationOpened)[-1]
        assert ids(opened.messages) == ids(every[-PAGE_MESSAGES:])
        assert opened.has_older and h.chat.has_older
        assert ids(h.chat.messages) == ids(every[-PAGE_MESSAGES:])

    run(scenario())


def test_a_short_chat_opens_whole_with_nothing_above_it() -> None:
    async def scenario() -> None:
        h = Harness()
        every = await seeded(h, 7)
        await h.chat.open("long")
        opened = h.events.of(ConversationOpened)[-1]
        assert ids(opened.messages) == ids(every) and not opened.has_older
        assert await h.chat.load_older() is False

    run(scenario())


def test_older_pages_go_in_front_of_the_screen_until_the_first_message() -> None:
    async def scenario() -> None:
        h = Harness()
        every = await seeded(h)
        await h.chat.open("long")
        assert await h.chat.load_older()
        first = h.events.of(OlderMessagesShown)[-1]
        assert ids(first.messages) == ids(every[-2 * PAGE_MESSAGES : -PAGE_MESSAGES])
        assert first.conversation_id == "long" and first.has_older
        assert await h.chat.load_older()
        last = h.events.of(OlderMessagesShown)[-1]
        assert ids(last.messages) == ids(every[: LONG - 2 * PAGE_MESSAGES])
        assert not last.has_older
        assert ids(h.chat.messages) == ids(every)
        assert await h.chat.load_older() is False
        assert len(h.events.of(OlderMessagesShown)) == 2

    run(scenario())


def test_a_reply_in_a_long_chat_reads_the_whole_branch_not_just_the_screen() -> None:
    async def scenario() -> None:
        h = Harness()
        await seeded(h, LONG - 1)  # ends with a user message's reply: the next is the user's
        await h.chat.open("long")
        assert await h.chat.send("and one more")
        _, turns = h.engine.generated[-1]
        assert len(turns) == LONG
        assert turns[0].content == "message 0" and turns[-1].content == "and one more"
        # The screen still holds its page and the new turn, not the whole chat.
        assert len(h.chat.messages) == PAGE_MESSAGES + 2

    run(scenario())


def test_a_search_result_far_up_opens_with_every_page_down_to_it() -> None:
    async def scenario() -> None:
        h = Harness()
        every = await seeded(h)
        await h.chat.open("long", focus="m005")
        opened = h.events.of(ConversationOpened)[-1]
        assert ids(opened.messages) == ids(every[5:]) and opened.focus == "m005"
        assert opened.has_older

    run(scenario())


def test_stepping_to_a_sibling_far_up_shows_the_new_branch_down_from_where_they_part() -> None:
    async def scenario() -> None:
        h = Harness()
        every = await seeded(h, fork_at=10)
        await h.chat.open("long")
        opened = h.events.of(ConversationOpened)[-1]
        assert ids(opened.messages) == [*ids(every[:10]), "fork"]
        assert opened.siblings["fork"].previous == "m000"
        await h.chat.show_branch("m000")
        shown = h.events.of(ConversationOpened)[-1]
        assert ids(shown.messages) == ids(every[9:LONG]) and shown.has_older
        assert shown.siblings["m010"].next == "fork"

    run(scenario())
