"""Two tabs of one browser: two Chats sharing a store, turn locks and a broadcast."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.events import (
    AnsweringElsewhere,
    ConversationsListed,
    ErrorRaised,
    OpenConversationDeleted,
)
from app.core.memory import LocalBroadcast, LocalTurnLocks, MemoryStore
from app.core.tabs import (
    ConversationDeleted,
    ListChanged,
    MessageLive,
    News,
    TurnEnded,
    TurnStarted,
    news_from,
    news_record,
)

from .fakes import ChatHarness
from .test_chat import CATALOG


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def two_tabs(replies: dict[str, str] | None = None) -> tuple[ChatHarness, ChatHarness]:
    store, locks, hub = MemoryStore(), LocalTurnLocks(), LocalBroadcast()
    replies = replies or {"tiny/a": "Hello from A", "tiny/b": "Greetings from B"}
    a = ChatHarness(CATALOG, replies, store=store, locks=locks, hub=hub, tab="a")
    b = ChatHarness(CATALOG, replies, store=store, locks=locks, hub=hub, tab="b")
    return a, b


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_new_chat_in_one_tab_appears_in_the_other() -> None:
    async def scenario() -> None:
        a, b = two_tabs()
        await a.chat.open_new()
        await b.chat.open_new()
        await a.chat.send("hi")
        await settle()
        listed = b.events.of(ConversationsListed)[-1]
        assert [c.title for c in listed.conversations] == ["hi"]

    run(scenario())


def test_a_stale_tab_cannot_split_answers_from_their_questions() -> None:
    async def scenario() -> None:
        a, b = two_tabs()
        cid = await a.first_exchange("first")
        await b.chat.open(cid)
        b.tab.listener = lambda _news: None  # B hears nothing (a frozen background tab)...
        await a.chat.send("second from A")  # ...so it still shows only the first exchange
        assert await b.chat.send("second from B")
        stored = await a.store.list_messages(cid)
        assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
        assert [m.content for m in stored if m.role == "user"] == ["first", "second from A"]
        refusal = b.events.of(ErrorRaised)[-1]
        assert refusal.unsent == "second from B" and "another tab" in refusal.text
        await settle()
        assert [m.content for m in b.chat.messages] == [m.content for m in stored]

    run(scenario())


def test_a_chat_answers_in_one_tab_at_a_time_and_the_other_shows_it_live() -> None:
    async def scenario() -> None:
        a, b = two_tabs({"tiny/a": "one two three"})
        await a.chat.open_new()
        await a.chat.send("go")
        a.engine.chunk_pause = asyncio.Event()
        assert a.chat.conversation is not None
        cid = a.chat.conversation.id
        await b.chat.open(cid)
        answering = asyncio.ensure_future(a.chat.send("again"))
        await settle()
        assert b.events.of(AnsweringElsewhere)[-1].active is True
        assert not b.chat.can_regenerate
        assert await b.chat.send("me too") is False
        assert b.chat.messages[-1].content == "one"  # A's reply, live
        a.engine.chunk_pause.set()
        await answering
        await settle()
        assert b.events.of(AnsweringElsewhere)[-1].active is False
        assert [m.content for m in b.chat.messages][-2:] == ["again", "one two three"]
        assert b.chat.messages[-1].status == "done"

    run(scenario())


def test_a_chat_deleted_while_another_tab_streams_into_it_stays_deleted() -> None:
    async def scenario() -> None:
        a, b = two_tabs({"tiny/a": "one two three four"})
        cid = await a.first_exchange("go")
        a.engine.chunk_pause = asyncio.Event()
        answering = asyncio.ensure_future(a.chat.send("again"))
        await settle()
        await b.chat.delete(cid)
        a.engine.chunk_pause.set()
        await asyncio.wait_for(answering, 1)
        await settle()
        assert await a.store.get_conversation(cid) is None
        assert await a.store.list_messages(cid) == []
        assert a.events.of(OpenConversationDeleted) == [OpenConversationDeleted(cid)]

    run(scenario())


def test_a_stale_regenerate_adds_a_branch_and_never_deletes_a_reply() -> None:
    async def scenario() -> None:
        a, b = two_tabs()
        cid = await a.first_exchange("first")
        await b.chat.open(cid)
        b.tab.listener = lambda _news: None  # B has not heard of the second exchange
        await a.chat.send("second")
        b.engine.replies["tiny/a"] = "Another answer"
        await b.chat.regenerate()
        stored = await a.store.list_messages(cid)
        assert sorted(m.content for m in stored) == sorted(
            ["first", "Hello from A", "second", "Hello from A", "Another answer"]
        )
        first_line = await a.store.read_branch(cid, stored[0].lane)
        assert [m.content for m in first_line.messages] == [
            "first",
            "Hello from A",
            "second",
            "Hello from A",
        ]
        assert [m.content for m in b.chat.messages] == ["first", "Another answer"]

    run(scenario())


def test_a_tab_that_dies_mid_reply_frees_the_chat_for_the_others() -> None:
    async def scenario() -> None:
        locks = LocalTurnLocks()
        lease = await locks.acquire("c1")
        assert lease is not None
        assert await locks.acquire("c1") is None
        waiting = asyncio.ensure_future(locks.wait_released("c1"))
        await settle()
        assert not waiting.done()
        lease.release()  # what the browser does with a dead tab's Web Lock
        await asyncio.wait_for(waiting, 1)
        assert await locks.acquire("c1") is not None

    run(scenario())


def test_news_round_trips_through_plain_data_and_unknown_news_is_ignored() -> None:
    from app.core.conversations import Message, ReplyInfo

    message = Message("m", "c", "assistant", "hi", 3, "streaming", ReplyInfo(model="x/y"))
    every: list[News] = [
        ListChanged(),
        ConversationDeleted("c"),
        TurnStarted("c"),
        TurnEnded("c"),
        MessageLive(message),
    ]
    for news in every:
        assert news_from(news_record(news)) == news
    assert news_from({"kind": "from-the-future"}) is None
    assert news_from("junk") is None
    assert news_from({"kind": "deleted"}) is None
