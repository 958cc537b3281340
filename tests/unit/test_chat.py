from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from app.core.catalog import parse_catalog
from app.core.conversations import ChatSettings, Conversation, Message
from app.core.errors import HistoryChanged, StoreError
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    ConversationsListed,
    ErrorRaised,
    MessageAdded,
    MessageRemoved,
    MessageUpdated,
    ReplyMetrics,
    SiblingsChanged,
    StreamingChanged,
)
from app.core.memory import MemoryStore
from app.core.ports import ConversationChange

from .fakes import ChatHarness

CATALOG = parse_catalog(
    {
        "default": "smart",
        "presets": {"smart": ["tiny/a"], "quick": ["tiny/b"]},
        "models": [
            {
                "id": "tiny/a",
                "label": "A",
                "source": "local",
                "dtype": {"wasm": "q8", "webgpu": "fp32"},
            },
            {"id": "tiny/b", "label": "B", "source": "local", "dtype": "q8"},
        ],
    }
)


class Harness(ChatHarness):
    def __init__(self, replies: dict[str, str] | None = None) -> None:
        super().__init__(
            CATALOG, replies or {"tiny/a": "Hello from A", "tiny/b": "Greetings from B"}
        )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_sending_creates_the_conversation_stores_the_message_and_streams_the_reply() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        assert await h.chat.send("hi there") is True
        conversation = h.chat.conversation
        assert conversation is not None and conversation.title == "hi there"
        created = [e for e in h.events.of(ConversationOpened) if e.created]
        assert len(created) == 1
        stored = await h.store.list_messages(conversation.id)
        assert [(m.role, m.content, m.status) for m in stored] == [
            ("user", "hi there", "done"),
            ("assistant", "Hello from A", "done"),
        ]
        reply = stored[1]
        assert reply.info.model == "tiny/a"
        assert reply.info.dtype == "q8" and reply.info.device == "wasm"
        assert reply.info.tokens == 3
        chunks = [e.message.content for e in h.events.of(MessageUpdated)]
        assert chunks[:3] == ["Hello", "Hello from", "Hello from A"]
        (metrics,) = h.events.of(ReplyMetrics)
        assert metrics.first_token_ms <= metrics.response_ms
        assert [e.streaming for e in h.events.of(StreamingChanged)] == [True, False]

    run(scenario())


def test_empty_or_whitespace_input_sends_nothing() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        assert await h.chat.send("   \n\t") is False
        assert h.chat.conversation is None
        assert h.events.of(MessageAdded) == []

    run(scenario())


def test_the_user_message_is_stored_while_the_reply_streams() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.chunk_pause = asyncio.Event()
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("keep me"))
        await asyncio.sleep(0.01)
        assert h.chat.conversation is not None
        stored = await h.store.list_messages(h.chat.conversation.id)
        assert [m.content for m in stored] == ["keep me"]
        h.engine.chunk_pause.set()
        await sending

    run(scenario())


def test_a_streaming_reply_is_saved_at_least_once_a_second() -> None:
    async def scenario() -> None:
        h = Harness({"tiny/a": " ".join(f"w{i}" for i in range(10))})
        h.clock.step_ms = 300  # every reading advances 300 ms
        saves: list[str] = []
        original_put, original_append = h.store.put_message, h.store.append_message

        async def spy_put(message: Any, **kwargs: Any) -> None:
            saves.append(message.content)
            await original_put(message, **kwargs)

        async def spy_append(message: Any, **kwargs: Any) -> Any:
            if message.role == "assistant":
                saves.append(message.content)
            return await original_append(message, **kwargs)

        h.store.put_message = spy_put  # type: ignore[method-assign]
        h.store.append_message = spy_append  # type: ignore[method-assign]
        await h.chat.open_new()
        await h.chat.send("go")
        partial = [s for s in saves if s and not s.endswith("w9")]
        assert len(partial) >= 2, saves
        assert saves[-1].endswith("w9")

    run(scenario())


def test_stop_keeps_the_text_so_far_and_marks_the_reply_stopped() -> None:
    async def scenario() -> None:
        h = Harness({"tiny/a": "one two three four five"})
        h.engine.chunk_pause = asyncio.Event()
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("count"))
        while not [e for e in h.events.of(MessageUpdated) if e.message.content]:
            await asyncio.sleep(0)
        h.chat.stop()
        h.engine.chunk_pause.set()
        await sending
        assert h.chat.conversation is not None
        reply = (await h.store.list_messages(h.chat.conversation.id))[-1]
        assert reply.status == "stopped"
        assert reply.content == "one"

    run(scenario())


def test_a_generation_error_is_shown_stored_on_the_reply_and_the_chat_stays_usable() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        h.engine.fail_generate = "out of memory"
        await h.chat.send("first")
        errors = h.events.of(ErrorRaised)
        assert len(errors) == 1 and "out of memory" in errors[0].text
        assert h.chat.conversation is not None
        stored = await h.store.list_messages(h.chat.conversation.id)
        assert stored[0].content == "first"
        assert stored[1].status == "error"
        h.engine.fail_generate = None
        await h.chat.send("second")
        stored = await h.store.list_messages(h.chat.conversation.id)
        assert [m.status for m in stored] == ["done", "error", "done", "done"]
        # The failed reply is not fed back to the model as context.
        _, turns = h.engine.generated[-1]
        assert [t.content for t in turns] == ["first", "second"]

    run(scenario())


def test_every_turn_of_the_conversation_is_sent_as_context() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("My name is Ada.")
        await h.chat.send("What is my name?")
        _, turns = h.engine.generated[-1]
        assert [(t.role, t.content) for t in turns] == [
            ("user", "My name is Ada."),
            ("assistant", "Hello from A"),
            ("user", "What is my name?"),
        ]

    run(scenario())


def test_a_new_chat_targeting_another_model_replies_with_it_and_records_it() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.set_model("quick")
        await h.chat.send("hi")
        assert h.chat.conversation is not None and h.chat.conversation.model == "quick"
        reply = h.chat.messages[-1]
        assert reply.content == "Greetings from B"
        assert reply.info.model == "tiny/b"

    run(scenario())


def test_opening_an_unknown_conversation_reports_not_found_and_writes_nothing() -> None:
    async def scenario() -> None:
        h = Harness()
        assert await h.chat.open("nope") is False
        assert h.events.of(ConversationNotFound) == [ConversationNotFound("nope")]
        assert await h.store.list_conversations() == []

    run(scenario())


def test_a_stored_conversation_reopens_with_its_messages_and_queues_its_model() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.set_model("tiny/b")
        await h.chat.send("hi")
        conversation_id = h.chat.conversation.id if h.chat.conversation else ""
        fresh = Harness()
        fresh.store = h.store
        fresh.chat._store = h.store
        assert await fresh.chat.open(conversation_id)
        await asyncio.sleep(0.01)
        opened = fresh.events.of(ConversationOpened)[-1]
        assert [m.content for m in opened.messages] == ["hi", "Greetings from B"]
        assert fresh.engine.loads == ["tiny/b"]

    run(scenario())


def test_an_unknown_model_target_fails_the_reply_with_a_clear_message() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.set_model("nobody/nothing")
        await h.chat.send("hello")
        errors = h.events.of(ErrorRaised)
        assert (
            errors and "nobody/nothing" in errors[0].text and "not in the catalog" in errors[0].text
        )
        assert h.chat.messages[0].content == "hello"

    run(scenario())


def test_the_reply_record_survives_serialisation_as_json() -> None:
    from app.core.records import message_from, message_record

    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("hi")
        reply = h.chat.messages[-1]
        assert message_from(json.loads(json.dumps(message_record(reply)))) == reply

    run(scenario())


def test_regenerate_adds_a_sibling_reply_and_keeps_the_old_one() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("hi")
        assert h.chat.can_regenerate
        old = h.chat.messages[-1]
        h.engine.replies["tiny/a"] = "A second answer"
        assert await h.chat.regenerate()
        assert h.chat.conversation is not None
        stored = await h.store.list_messages(h.chat.conversation.id)
        assert [(m.role, m.content) for m in stored] == [
            ("user", "hi"),
            ("assistant", "Hello from A"),
            ("assistant", "A second answer"),
        ]
        new = h.chat.messages[-1]
        assert [m.content for m in h.chat.messages] == ["hi", "A second answer"]
        assert new.parent_id == old.parent_id == h.chat.messages[0].id
        assert [e.message_id for e in h.events.of(MessageRemoved)] == [old.id]
        siblings = h.events.of(SiblingsChanged)[-1].siblings
        assert siblings[new.id].position == "2/2"
        # The model saw the conversation up to the user message, not the replaced reply.
        _, turns = h.engine.generated[-1]
        assert [t.content for t in turns] == ["hi"]

    run(scenario())


def test_stepping_to_a_sibling_shows_its_branch_and_reopens_on_it() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("hi")
        await h.chat.send("more")
        h.engine.replies["tiny/a"] = "Second take"
        first_reply = h.chat.messages[1]
        await h.chat.edit(h.chat.messages[0].id, "hello instead")
        assert [m.content for m in h.chat.messages] == ["hello instead", "Second take"]
        cid = h.chat.conversation.id if h.chat.conversation else ""
        opened = h.events.of(SiblingsChanged)[-1].siblings
        edited = h.chat.messages[0]
        assert opened[edited.id].position == "2/2"
        previous = opened[edited.id].previous
        assert previous is not None
        await h.chat.show_branch(previous)
        assert [m.content for m in h.chat.messages] == [
            "hi",
            "Hello from A",
            "more",
            "Hello from A",
        ]
        assert h.chat.messages[1] == first_reply
        await h.chat.open_new()
        await h.chat.open(cid)
        assert [m.content for m in h.chat.messages][:2] == ["hi", "Hello from A"]
        # The model answers from the branch on screen only.
        h.engine.replies["tiny/a"] = "On the first branch"
        await h.chat.send("and then?")
        _, turns = h.engine.generated[-1]
        assert [t.content for t in turns] == [
            "hi",
            "Hello from A",
            "more",
            "Hello from A",
            "and then?",
        ]

    run(scenario())


def test_regenerate_does_nothing_without_a_reply_to_replace() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        assert not h.chat.can_regenerate
        assert await h.chat.regenerate() is False

    run(scenario())


def test_renaming_keeps_the_sidebar_order_and_ignores_blank_titles() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("first chat")
        first = h.chat.conversation
        await h.chat.open_new()
        await h.chat.send("second chat")
        assert first is not None
        before = await h.store.get_conversation(first.id)
        await h.chat.rename(first.id, "  Renamed   chat ")
        after = await h.store.get_conversation(first.id)
        assert before is not None and after is not None
        assert after.title == "Renamed chat"
        assert after.updated_at == before.updated_at
        await h.chat.rename(first.id, "   ")
        assert (await h.store.get_conversation(first.id)) == after
        listed = h.events.of(ConversationsListed)[-1]
        assert [c.title for c in listed.conversations] == ["second chat", "Renamed chat"]

    run(scenario())


def test_deleting_the_open_conversation_removes_it_and_its_messages() -> None:
    async def scenario() -> None:
        h = Harness()
        doomed = await h.first_exchange("doomed")
        assert await h.chat.delete(doomed) is True
        assert h.chat.conversation is None
        assert await h.store.get_conversation(doomed) is None
        assert await h.store.list_messages(doomed) == []
        assert h.events.of(ConversationsListed)[-1].conversations == ()

    run(scenario())


def test_a_reply_cut_off_by_a_closed_page_reopens_as_stopped() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.first_exchange("hi")
        reply = h.chat.messages[-1]
        await h.store.put_message(replace(reply, status="streaming", content="Hel"))
        assert await h.chat.open(cid)
        assert h.chat.messages[-1].status == "stopped"
        assert (await h.store.list_messages(cid))[-1].status == "stopped"

    run(scenario())


def test_messages_get_strictly_increasing_times_even_within_one_millisecond() -> None:
    async def scenario() -> None:
        h = Harness()
        h.clock.step_ms = 0  # a clock that never moves
        await h.chat.open_new()
        await h.chat.send("one")
        await h.chat.send("two")
        times = [m.created_at for m in h.chat.messages]
        assert times == sorted(set(times))

    run(scenario())


def test_opening_another_chat_stops_a_streaming_reply_first() -> None:
    async def scenario() -> None:
        h = Harness({"tiny/a": "one two three four"})
        h.engine.chunk_pause = asyncio.Event()
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("count"))
        while not [e for e in h.events.of(MessageUpdated) if e.message.content]:
            await asyncio.sleep(0)
        assert h.chat.conversation is not None
        first = h.chat.conversation.id
        h.engine.chunk_pause.set()
        await h.chat.open_new()
        await sending
        stored = await h.store.list_messages(first)
        assert stored[-1].status == "stopped"
        assert h.chat.messages == []

    run(scenario())


def test_a_message_the_store_refuses_is_handed_back_to_the_user() -> None:
    async def scenario() -> None:
        class FullStore(MemoryStore):
            full = False

            async def append_message(self, message: Message, *, branch: bool = False) -> Message:
                if self.full:
                    raise StoreError("the disk is full")
                return await super().append_message(message, branch=branch)

        h = Harness()
        h.store = store = FullStore()
        h.chat._store = store
        await h.chat.open_new()
        await h.chat.send("saved")
        store.full = True
        await h.chat.send("not saved")
        error = h.events.of(ErrorRaised)[-1]
        assert "full" in error.text and error.unsent == "not saved"
        assert not h.chat.streaming

    run(scenario())


def test_a_regenerate_samples_even_when_the_model_is_greedy_unless_the_user_chose_greedy() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.send("hi")
        assert h.engine.options[-1].get("do_sample") is not True
        await h.chat.regenerate()
        assert h.engine.options[-1]["do_sample"] is True
        assert h.engine.options[-1]["temperature"] > 0
        assert h.chat.messages[-1].info.settings is not None
        assert (h.chat.messages[-1].info.settings.temperature or 0) > 0
        assert h.chat.conversation is not None
        await h.chat._store.update_conversation(
            h.chat.conversation.id, ConversationChange(settings=ChatSettings(temperature=0))
        )
        await h.chat.open(h.chat.conversation.id)
        await h.chat.regenerate()
        assert h.engine.options[-1]["do_sample"] is False

    run(scenario())


class GatedStore(MemoryStore):
    """Holds every new conversation and user's message until `gate` opens; may refuse them."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.refuse: StoreError | None = None
        self.order: list[str] = []

    async def create_conversation(self, conversation: Conversation) -> None:
        await self.gate.wait()
        if self.refuse is not None:
            raise self.refuse
        self.order.append("conversation")
        await super().create_conversation(conversation)

    async def append_message(self, message: Message, *, branch: bool = False) -> Message:
        if message.role == "user":
            await self.gate.wait()
            if self.refuse is not None:
                raise self.refuse
        self.order.append(message.role)
        return await super().append_message(message, branch=branch)


def gated_harness() -> tuple[Harness, GatedStore]:
    h = Harness()
    h.store = store = GatedStore()
    h.chat._store = store
    h.chat._answering._store = store
    return h, store


def test_the_model_starts_before_the_message_is_stored_and_the_reply_is_written_after_it() -> None:
    async def scenario() -> None:
        h, store = gated_harness()
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("first words"))
        for _ in range(50):
            await asyncio.sleep(0)
        assert h.engine.generated, "the model waited for the store"
        assert store.order == []  # neither the question nor the reply is stored yet
        assert not [e for e in h.events.of(ConversationOpened) if e.created]
        store.gate.set()
        await sending
        assert store.order == ["conversation", "user", "assistant"]
        assert h.chat.conversation is not None
        stored = await store.list_messages(h.chat.conversation.id)
        assert [(m.role, m.status) for m in stored] == [("user", "done"), ("assistant", "done")]
        assert stored[0].lane and h.chat.messages[0].lane == stored[0].lane
        assert len([e for e in h.events.of(ConversationOpened) if e.created]) == 1

    run(scenario())


def test_a_first_message_the_store_refuses_stops_the_model_and_comes_back_whole() -> None:
    async def scenario() -> None:
        h, store = gated_harness()
        h.engine.chunk_pause = asyncio.Event()  # the reply is mid-stream when the store answers
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("keep my words"))
        for _ in range(50):
            await asyncio.sleep(0)
        assert h.events.of(MessageUpdated), "the reply had started"
        store.refuse = StoreError("the disk is full")
        store.gate.set()
        h.engine.chunk_pause.set()
        await sending
        error = h.events.of(ErrorRaised)[-1]
        assert "full" in error.text and "not saved" in error.text
        assert error.unsent == "keep my words"
        assert h.chat.conversation is None and h.chat.messages == []
        removed = {e.message_id for e in h.events.of(MessageRemoved)}
        added = {e.message.id for e in h.events.of(MessageAdded)}
        assert removed == added  # the question and its reply left the screen
        assert await store.list_conversations() == []
        assert not h.chat.streaming
        assert len(h.engine.generated) == 1  # stopped: the scripted reply was not finished
        assert h.events.of(MessageUpdated)[-1].message.content != "Hello from A"

    run(scenario())


def test_a_message_another_tab_got_ahead_of_is_handed_back_and_the_chat_resyncs() -> None:
    async def scenario() -> None:
        h, store = gated_harness()
        store.gate.set()
        await h.chat.open_new()
        await h.chat.send("first")
        store.gate.clear()
        sending = asyncio.ensure_future(h.chat.send("second"))
        await asyncio.sleep(0)
        assert h.chat.conversation is not None
        store.refuse = HistoryChanged(h.chat.conversation.id)
        store.gate.set()
        await sending
        error = h.events.of(ErrorRaised)[-1]
        assert error.unsent == "second" and "back in the input" in error.text
        await asyncio.sleep(0.01)  # the resync
        assert [m.content for m in h.chat.messages] == ["first", "Hello from A"]
        assert h.chat.conversation is not None  # the chat itself stays open

    run(scenario())
