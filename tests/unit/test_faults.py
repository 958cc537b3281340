"""Faults a hostile tester found: stop before the first token, failing writes, odd input."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from app.core.conversations import Message, is_blank
from app.core.errors import StoreError
from app.core.events import ErrorRaised, MessageUpdated, ModelStatusChanged
from app.core.memory import MemoryStore

from .fakes import ChatHarness
from .test_chat import CATALOG, Harness


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class FailingStore(MemoryStore):
    """A store whose writes start failing on command, like a full disk."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False

    def _check(self) -> None:
        if self.full:
            raise StoreError("Could not save the message: the browser's storage is full.")

    async def put_message(self, message: Message, **kwargs: Any) -> None:
        self._check()
        await super().put_message(message, **kwargs)

    async def append_message(self, message: Message, *, branch: bool = False) -> Message:
        self._check()
        return await super().append_message(message, branch=branch)


def harness_with(store: MemoryStore, replies: dict[str, str] | None = None) -> ChatHarness:
    return ChatHarness(
        CATALOG, replies or {"tiny/a": "Hello from A", "tiny/b": "Greetings from B"}, store=store
    )


def test_stop_while_the_model_loads_ends_the_reply_at_once_without_generating() -> None:
    async def scenario() -> None:
        h = Harness()
        gate = h.engine.gate("tiny/a")
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("hi"))
        while not [e for e in h.events.of(ModelStatusChanged) if e.state == "downloading"]:
            await asyncio.sleep(0)
        h.chat.stop()
        await asyncio.wait_for(sending, 1)  # it does not wait for the load
        assert h.chat.messages[-1].status == "stopped"
        assert h.chat.messages[-1].content == ""
        assert not h.chat.streaming
        gate.set()
        await asyncio.sleep(0.01)
        assert h.engine.generated == []  # the model, once loaded, never ran this turn

    run(scenario())


def test_stop_pressed_before_the_first_token_with_the_model_ready_stops_the_reply() -> None:
    async def scenario() -> None:
        h = Harness({"tiny/a": " ".join(["word"] * 50)})
        await h.chat.open_new()
        await h.chat.send("warm up")
        sending = asyncio.ensure_future(h.chat.send("again"))
        await asyncio.sleep(0)  # the turn has begun; no token yet
        h.chat.stop()
        await sending
        reply = h.chat.messages[-1]
        assert reply.status == "stopped"
        assert len(reply.content.split()) < 50

    run(scenario())


def test_opening_another_chat_while_the_model_loads_does_not_wait_for_the_load() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.gate("tiny/a")
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("hi"))
        while not h.chat.messages or h.chat.messages[-1].role != "assistant":
            await asyncio.sleep(0)
        await asyncio.wait_for(h.chat.open_new(), 1)
        await sending
        assert h.chat.messages == []

    run(scenario())


def test_a_regenerate_that_cannot_be_stored_keeps_the_previous_reply() -> None:
    async def scenario() -> None:
        store = FailingStore()
        h = harness_with(store)
        cid = await h.first_exchange("hi")
        store.full = True
        h.engine.replies["tiny/a"] = "A second answer"
        await h.chat.regenerate()
        stored = await store.list_messages(cid)
        assert [(m.role, m.content, m.status) for m in stored] == [
            ("user", "hi", "done"),
            ("assistant", "Hello from A", "done"),
        ]
        error = h.events.of(ErrorRaised)[-1].text
        assert "full" in error and "previous reply is kept" in error
        await asyncio.sleep(0.01)  # the chat is shown as stored again
        assert [m.content for m in h.chat.messages] == ["hi", "Hello from A"]

    run(scenario())


def test_a_reply_the_store_refuses_is_shown_as_not_saved_never_as_done() -> None:
    async def scenario() -> None:
        store = FailingStore()
        h = harness_with(store)
        await h.chat.open_new()
        await h.chat.send("hi")
        original = store.append_message

        async def then_fill(message: Message, *, branch: bool = False) -> Message:
            stored = await original(message, branch=branch)
            store.full = True  # the question is stored; the reply will not be
            return stored

        store.append_message = then_fill  # type: ignore[method-assign]
        await h.chat.send("again")
        shown = [e.message for e in h.events.of(MessageUpdated)]
        assert all(m.status != "done" for m in shown if m.content and m.id == shown[-1].id)
        assert shown[-1].status == "error"
        assert "not saved" in str(shown[-1].info.error)
        assert shown[-1].content == "Hello from A"  # the text stays on screen
        assert "full" in h.events.of(ErrorRaised)[-1].text

    run(scenario())


def test_opening_a_chat_with_an_interrupted_reply_shows_it_even_when_writes_fail() -> None:
    async def scenario() -> None:
        store = FailingStore()
        h = harness_with(store)
        cid = await h.first_exchange("hi")
        reply = h.chat.messages[-1]
        await store.put_message(replace(reply, status="streaming", content="Hel"))
        store.full = True
        fresh = harness_with(store)
        assert await fresh.chat.open(cid)
        assert [(m.content, m.status) for m in fresh.chat.messages] == [
            ("hi", "done"),
            ("Hel", "stopped"),
        ]
        assert "stopped" in fresh.events.of(ErrorRaised)[-1].text

    run(scenario())


def test_a_second_send_while_a_reply_streams_hands_the_text_back() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.chunk_pause = asyncio.Event()
        await h.chat.open_new()
        first = asyncio.ensure_future(h.chat.send("one"))
        await asyncio.sleep(0)
        assert await h.chat.send("two") is False
        assert h.events.of(ErrorRaised)[-1].unsent == "two"
        h.engine.chunk_pause.set()
        await first

    run(scenario())


def test_invisible_text_is_blank_and_sends_nothing() -> None:
    assert is_blank("\u200b") and is_blank(" \u200b\u200d\ufeff\n\t")
    assert not is_blank("a\u200b")

    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        assert await h.chat.send("\u200b\u200b") is False
        assert h.chat.conversation is None

    run(scenario())


def test_a_preset_never_preloads_a_hub_model_that_would_download() -> None:
    from app.core.catalog import parse_catalog
    from app.core.targets import ModelChoice

    class NothingUsable:
        async def usable(self, entries: Any) -> set[str]:
            return set()

    catalog = parse_catalog(
        {
            "default": "org/hub-model",
            "models": [{"id": "org/hub-model", "label": "Hub", "source": "hub"}],
        }
    )

    async def scenario() -> None:
        h = ChatHarness(catalog, {}, choice=ModelChoice(catalog, NothingUsable()))
        await h.chat.refresh_availability()
        await h.chat.open_new()
        await asyncio.sleep(0.01)
        assert h.engine.loads == []

    run(scenario())
