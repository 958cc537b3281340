"""The Store Protocol's contract, as plain async checks.

The same checks run against the in-memory store in CPython (tests/unit/test_store_contract.py)
and against the real IndexedDB store in Chromium (tests/e2e/test_store_contract.py, through
store_contract.html). Each check gets a fresh, empty store. Two stores on one database would be
two tabs; the checks on stale writes play the second tab by writing what it would write.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from app.core.conversations import Conversation, Message, ReplyInfo
from app.core.errors import ConversationGone, HistoryChanged, StoreError
from app.core.ports import ConversationChange, Store

Check = Callable[[Store], Coroutine[Any, Any, None]]
CHECKS: dict[str, Check] = {}


def check(func: Check) -> Check:
    CHECKS[func.__name__] = func
    return func


def conversation(cid: str, updated_at: int, model: str | None = None) -> Conversation:
    return Conversation(cid, f"title {cid}", model, created_at=1, updated_at=updated_at)


def message(cid: str, mid: str, at: int, **extra: object) -> Message:
    return Message(mid, cid, "user", f"text {mid}", at, **extra)  # type: ignore[arg-type]


async def refused(write: Coroutine[Any, Any, object], kind: type[StoreError]) -> None:
    try:
        await write
    except kind:
        return
    raise AssertionError(f"the write was not refused with {kind.__name__}")


@check
async def a_created_conversation_reads_back_equal(store: Store) -> None:
    c = conversation("c1", 5, model="quick")
    await store.create_conversation(c)
    assert await store.get_conversation("c1") == c
    assert await store.get_conversation("nope") is None


@check
async def creating_never_overwrites_a_conversation(store: Store) -> None:
    await store.create_conversation(conversation("c1", 5))
    await refused(store.create_conversation(replace(conversation("c1", 9), title="x")), StoreError)
    found = await store.get_conversation("c1")
    assert found is not None and found.title == "title c1"


@check
async def an_update_changes_only_its_fields_and_returns_the_stored_conversation(
    store: Store,
) -> None:
    await store.create_conversation(conversation("c1", 5, model="quick"))
    renamed = await store.update_conversation("c1", ConversationChange(title="renamed"))
    assert (renamed.title, renamed.model, renamed.updated_at) == ("renamed", "quick", 5)
    retargeted = await store.update_conversation("c1", ConversationChange(model=None))
    assert (retargeted.title, retargeted.model) == ("renamed", None)
    assert await store.get_conversation("c1") == retargeted


@check
async def activity_only_moves_updated_at_forward(store: Store) -> None:
    await store.create_conversation(conversation("c1", 50))
    assert (
        await store.update_conversation("c1", ConversationChange(touched_at=40))
    ).updated_at == 50
    assert (
        await store.update_conversation("c1", ConversationChange(touched_at=60))
    ).updated_at == 60


@check
async def no_write_recreates_a_deleted_conversation(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.append_message(message("c1", "m1", 1), after=None)
    await store.delete_conversation("c1")
    await refused(store.update_conversation("c1", ConversationChange(title="x")), ConversationGone)
    await refused(store.append_message(message("c1", "m2", 2), after=None), ConversationGone)
    await refused(store.put_message(message("c1", "m3", 3, status="streaming")), ConversationGone)
    assert await store.get_conversation("c1") is None
    assert await store.list_messages("c1") == []
    assert await store.list_conversations() == []


@check
async def conversations_list_most_recently_updated_first(store: Store) -> None:
    for cid, updated in [("a", 10), ("b", 30), ("c", 20)]:
        await store.create_conversation(conversation(cid, updated))
    assert [c.id for c in await store.list_conversations()] == ["b", "c", "a"]


@check
async def appending_extends_the_history_and_moves_the_conversation_up(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.create_conversation(conversation("c2", 1))
    await store.append_message(message("c1", "m1", 100), after=None)
    await store.append_message(message("c2", "x1", 150), after=None)
    await store.append_message(message("c1", "m2", 200), after="m1")
    assert [m.id for m in await store.list_messages("c1")] == ["m1", "m2"]
    assert [m.id for m in await store.list_messages("c2")] == ["x1"]
    assert await store.list_messages("none") == []
    assert [c.id for c in await store.list_conversations()] == ["c1", "c2"]
    found = await store.get_conversation("c1")
    assert found is not None and found.updated_at == 200


@check
async def a_stale_append_is_refused_and_writes_nothing(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.append_message(message("c1", "m1", 100), after=None)
    await store.append_message(message("c1", "other-tab", 200), after="m1")
    # This tab still thinks the chat ends with m1.
    await refused(store.append_message(message("c1", "m2", 300), after="m1"), HistoryChanged)
    await refused(store.append_message(message("c1", "m3", 300), after=None), HistoryChanged)
    assert [m.id for m in await store.list_messages("c1")] == ["m1", "other-tab"]


@check
async def a_message_round_trips_with_its_status_and_metadata(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    m = Message(
        "m1",
        "c1",
        "assistant",
        "**hi** <b>",
        7,
        status="stopped",
        info=ReplyInfo(model="tinylm/a", tokens=3, tokens_per_second=12.5, left_out=1, error="x"),
    )
    await store.append_message(m, after=None)
    (back,) = await store.list_messages("c1")
    assert back == m


@check
async def put_message_is_an_upsert_and_can_touch_the_conversation(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    m = message("c1", "m1", 1, status="streaming")
    await store.put_message(m)
    await store.put_message(replace(m, content="longer text", status="done"), touched_at=99)
    (back,) = await store.list_messages("c1")
    assert (back.content, back.status) == ("longer text", "done")
    found = await store.get_conversation("c1")
    assert found is not None and found.updated_at == 99


@check
async def replacing_swaps_the_newest_message_in_one_write(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.append_message(message("c1", "q", 1), after=None)
    await store.append_message(message("c1", "old", 2), after="q")
    await store.put_message(message("c1", "new", 3), replacing="old")
    assert [m.id for m in await store.list_messages("c1")] == ["q", "new"]


@check
async def replacing_a_message_that_is_no_longer_the_newest_is_refused(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.append_message(message("c1", "q", 1), after=None)
    await store.append_message(message("c1", "old", 2), after="q")
    await store.append_message(message("c1", "q2", 3), after="old")
    await refused(store.put_message(message("c1", "new", 4), replacing="old"), HistoryChanged)
    assert [m.id for m in await store.list_messages("c1")] == ["q", "old", "q2"]


@check
async def deleting_a_conversation_deletes_its_messages_and_nothing_else(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.create_conversation(conversation("c2", 2))
    after = None
    for i in range(5):
        await store.append_message(message("c1", f"a{i}", i), after=after)
        after = f"a{i}"
    await store.append_message(message("c2", "b0", 0), after=None)
    await store.delete_conversation("c1")
    assert await store.get_conversation("c1") is None
    assert await store.list_messages("c1") == []
    assert [m.id for m in await store.list_messages("c2")] == ["b0"]
    assert [c.id for c in await store.list_conversations()] == ["c2"]


@check
async def a_null_model_target_is_kept_as_null(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1, model=None))
    found = await store.get_conversation("c1")
    assert found is not None and found.model is None
