"""The Store Protocol's contract, as plain async checks.

The same checks run against the in-memory store in CPython (tests/unit/test_store_contract.py)
and against the real IndexedDB store in Chromium (tests/e2e/test_store_contract.py, through
store_contract.html). Each check gets a fresh, empty store.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from app.core.conversations import Conversation, Message
from app.core.ports import Store

Check = Callable[[Store], Coroutine[Any, Any, None]]
CHECKS: dict[str, Check] = {}


def check(func: Check) -> Check:
    CHECKS[func.__name__] = func
    return func


def conversation(cid: str, updated_at: int, model: str | None = None) -> Conversation:
    return Conversation(cid, f"title {cid}", model, created_at=1, updated_at=updated_at)


def message(cid: str, mid: str, at: int, **extra: object) -> Message:
    return Message(mid, cid, "user", f"text {mid}", at, **extra)  # type: ignore[arg-type]


@check
async def a_saved_conversation_reads_back_equal(store: Store) -> None:
    c = conversation("c1", 5, model="quick")
    await store.save_conversation(c)
    assert await store.get_conversation("c1") == c
    assert await store.get_conversation("nope") is None


@check
async def save_is_an_upsert(store: Store) -> None:
    await store.save_conversation(conversation("c1", 5))
    await store.save_conversation(replace(conversation("c1", 9), title="renamed"))
    listed = await store.list_conversations()
    assert [(c.id, c.title, c.updated_at) for c in listed] == [("c1", "renamed", 9)]


@check
async def conversations_list_most_recently_updated_first(store: Store) -> None:
    for cid, updated in [("a", 10), ("b", 30), ("c", 20)]:
        await store.save_conversation(conversation(cid, updated))
    assert [c.id for c in await store.list_conversations()] == ["b", "c", "a"]


@check
async def messages_list_in_time_order_per_conversation(store: Store) -> None:
    await store.save_conversation(conversation("c1", 1))
    await store.save_conversation(conversation("c2", 1))
    await store.append_message(message("c1", "m3", 300))
    await store.append_message(message("c1", "m1", 100))
    await store.append_message(message("c2", "x1", 150))
    await store.append_message(message("c1", "m2", 200))
    assert [m.id for m in await store.list_messages("c1")] == ["m1", "m2", "m3"]
    assert [m.id for m in await store.list_messages("c2")] == ["x1"]
    assert await store.list_messages("none") == []


@check
async def a_message_round_trips_with_its_status_and_metadata(store: Store) -> None:
    m = Message(
        "m1",
        "c1",
        "assistant",
        "**hi** <b>",
        7,
        status="stopped",
        metadata={"model": "tinylm/a", "tokens": 3, "tokensPerSecond": 12.5, "nested": {"k": [1]}},
    )
    await store.append_message(m)
    (back,) = await store.list_messages("c1")
    assert back == m


@check
async def update_message_replaces_content_and_status(store: Store) -> None:
    m = message("c1", "m1", 1, status="streaming")
    await store.append_message(m)
    await store.update_message(replace(m, content="longer text", status="done"))
    (back,) = await store.list_messages("c1")
    assert (back.content, back.status) == ("longer text", "done")


@check
async def delete_message_removes_only_that_message(store: Store) -> None:
    await store.append_message(message("c1", "m1", 1))
    await store.append_message(message("c1", "m2", 2))
    await store.delete_message(message("c1", "m2", 2))
    assert [m.id for m in await store.list_messages("c1")] == ["m1"]


@check
async def deleting_a_conversation_deletes_its_messages_and_nothing_else(store: Store) -> None:
    await store.save_conversation(conversation("c1", 1))
    await store.save_conversation(conversation("c2", 2))
    for i in range(5):
        await store.append_message(message("c1", f"a{i}", i))
    await store.append_message(message("c2", "b0", 0))
    await store.delete_conversation("c1")
    assert await store.get_conversation("c1") is None
    assert await store.list_messages("c1") == []
    assert [m.id for m in await store.list_messages("c2")] == ["b0"]
    assert [c.id for c in await store.list_conversations()] == ["c2"]


@check
async def a_null_model_target_is_kept_as_null(store: Store) -> None:
    await store.save_conversation(conversation("c1", 1, model=None))
    found = await store.get_conversation("c1")
    assert found is not None and found.model is None


@check
async def update_message_writes_a_message_never_appended(store: Store) -> None:
    m = message("c1", "m1", 1, status="stopped")
    await store.update_message(m)
    assert await store.list_messages("c1") == [m]
