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

from app.core.conversations import ChatSettings, Conversation, Message, ReplyInfo
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


async def line(store: Store, cid: str, ids: list[str], start: int = 1) -> list[Message]:
    """Append `ids` one after the other (each under the one before); the stored messages."""
    stored: list[Message] = []
    for i, mid in enumerate(ids):
        parent = stored[-1].id if stored else None
        stored.append(await store.append_message(message(cid, mid, start + i, parent_id=parent)))
    return stored


def ids(messages: list[Message]) -> list[str]:
    return [m.id for m in messages]


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
    await line(store, "c1", ["m1"])
    await store.delete_conversation("c1")
    await refused(store.update_conversation("c1", ConversationChange(title="x")), ConversationGone)
    await refused(store.append_message(message("c1", "m2", 2)), ConversationGone)
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
    await line(store, "c1", ["m1"], 100)
    await line(store, "c2", ["x1"], 150)
    await store.append_message(message("c1", "m2", 200, parent_id="m1"))
    assert ids(await store.list_messages("c1")) == ["m1", "m2"]
    assert ids(await store.list_messages("c2")) == ["x1"]
    assert await store.list_messages("none") == []
    assert [c.id for c in await store.list_conversations()] == ["c1", "c2"]
    found = await store.get_conversation("c1")
    assert found is not None and found.updated_at == 200


@check
async def a_stale_append_is_refused_and_writes_nothing(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["m1"], 100)
    await store.append_message(message("c1", "other-tab", 200, parent_id="m1"))
    # This tab still thinks the chat ends with m1.
    await refused(store.append_message(message("c1", "m2", 300, parent_id="m1")), HistoryChanged)
    await refused(store.append_message(message("c1", "m3", 300)), HistoryChanged)
    await refused(store.append_message(message("c1", "m4", 300, parent_id="nope")), HistoryChanged)
    assert ids(await store.list_messages("c1")) == ["m1", "other-tab"]


@check
async def a_line_of_messages_is_one_lane_read_back_as_one_branch(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    stored = await line(store, "c1", ["a", "b", "c"])
    assert {m.lane for m in stored} == {"a"}
    branch = await store.read_branch("c1")
    assert ids(branch.messages) == ["a", "b", "c"] and branch.siblings == {}
    assert [m.parent_id for m in branch.messages] == [None, "a", "b"]
    assert (await store.read_branch("none")).messages == []


@check
async def a_branch_keeps_the_old_one_and_reopens_where_it_was_written(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["q", "r1", "q2", "r2"])
    # Regenerate r1: a sibling under q, in a lane of its own.
    r1b = await store.append_message(message("c1", "r1b", 10, parent_id="q"), branch=True)
    assert r1b.lane == "r1b"
    branch = await store.read_branch("c1")
    assert ids(branch.messages) == ["q", "r1b"]
    assert branch.siblings["r1b"].lanes == ("q", "r1b")
    assert branch.siblings["r1b"].position == "2/2"
    # The first branch is still whole, and stepping back to it shows it to its end.
    old = await store.read_branch("c1", "q")
    assert ids(old.messages) == ["q", "r1", "q2", "r2"]
    assert old.siblings["r1"].position == "1/2" and "q2" not in old.siblings
    assert len(await store.list_messages("c1")) == 5


@check
async def editing_the_first_message_makes_sibling_roots(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["q", "r"])
    await store.append_message(message("c1", "q-edit", 5), branch=True)
    await store.append_message(message("c1", "r-edit", 6, parent_id="q-edit"))
    branch = await store.read_branch("c1")
    assert ids(branch.messages) == ["q-edit", "r-edit"]
    assert branch.siblings["q-edit"].lanes == ("q", "q-edit")
    assert ids((await store.read_branch("c1", "q")).messages) == ["q", "r"]


@check
async def a_branch_under_a_branch_reads_back_through_every_lane(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["a", "b", "c", "d"])
    await store.append_message(message("c1", "c2", 10, parent_id="b"), branch=True)
    await store.append_message(message("c1", "d2", 11, parent_id="c2"))
    await store.append_message(message("c1", "d3", 12, parent_id="c2"), branch=True)
    await store.append_message(message("c1", "e3", 13, parent_id="d3"))
    branch = await store.read_branch("c1")
    assert ids(branch.messages) == ["a", "b", "c2", "d3", "e3"]
    assert branch.siblings["c2"].position == "2/2"
    assert branch.siblings["d3"].lanes == ("c2", "d3")
    middle = await store.read_branch("c1", "c2")
    assert ids(middle.messages) == ["a", "b", "c2", "d2"]
    assert middle.siblings["d2"].position == "1/2"


@check
async def a_long_branch_reads_as_its_newest_page_then_the_pages_before_it(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    every = ids(await line(store, "c1", [f"m{i:02d}" for i in range(12)]))
    page = await store.read_branch("c1", newest=5)
    assert ids(page.messages) == every[7:] and page.has_older
    older = await store.read_older("c1", page.messages[0].id, 5)
    assert ids(older.messages) == every[2:7] and older.has_older
    oldest = await store.read_older("c1", older.messages[0].id, 5)
    assert ids(oldest.messages) == every[:2] and not oldest.has_older
    assert (await store.read_older("c1", every[0], 5)).messages == []
    assert (await store.read_older("c1", "nope", 5)).messages == []
    whole = await store.read_branch("c1")
    assert ids(whole.messages) == every and not whole.has_older
    exact = await store.read_branch("c1", newest=12)
    assert ids(exact.messages) == every and not exact.has_older
    assert (await store.read_branch("c1", newest=11)).has_older


@check
async def a_page_reaches_back_to_the_message_asked_for(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    every = ids(await line(store, "c1", [f"m{i:02d}" for i in range(10)]))
    page = await store.read_branch("c1", newest=2, through="m03")
    assert ids(page.messages) == every[3:] and page.has_older
    first = await store.read_branch("c1", newest=2, through="m00")
    assert ids(first.messages) == every and not first.has_older
    elsewhere = await store.read_branch("c1", newest=2, through="not-on-it")
    assert ids(elsewhere.messages) == every[8:] and elsewhere.has_older


@check
async def pages_cross_lanes_and_keep_the_siblings_of_their_first_message(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["a", "b", "c", "d"])
    await store.append_message(message("c1", "c2", 10, parent_id="b"), branch=True)
    await store.append_message(message("c1", "d2", 11, parent_id="c2"))
    page = await store.read_branch("c1", newest=2)
    assert ids(page.messages) == ["c2", "d2"] and page.has_older
    assert page.siblings["c2"].position == "2/2"
    above = await store.read_older("c1", "c2", 1)
    assert ids(above.messages) == ["b"] and above.has_older and above.siblings == {}
    rest = await store.read_older("c1", "c2", 5)
    assert ids(rest.messages) == ["a", "b"] and not rest.has_older
    old = await store.read_branch("c1", "a", newest=2)
    assert ids(old.messages) == ["c", "d"] and old.siblings["c"].position == "1/2"
    assert ids((await store.read_older("c1", "c", 9)).messages) == ["a", "b"]


@check
async def the_branch_shown_is_remembered_with_the_conversation(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["q", "r1"])
    await store.append_message(message("c1", "r2", 5, parent_id="q"), branch=True)
    await store.update_conversation("c1", ConversationChange(lane="q"))
    assert ids((await store.read_branch("c1")).messages) == ["q", "r1"]
    # A lane that is not there (an old record) falls back to the newest message's branch.
    await store.update_conversation("c1", ConversationChange(lane="gone"))
    assert ids((await store.read_branch("c1")).messages) == ["q", "r2"]


@check
async def settings_and_defaults_round_trip(store: Store) -> None:
    chosen = ChatSettings("Be brief.", temperature=0.2, top_p=0.9, max_new_tokens=64)
    await store.create_conversation(replace(conversation("c1", 1), settings=chosen))
    found = await store.get_conversation("c1")
    assert found is not None and found.settings == chosen
    changed = await store.update_conversation(
        "c1", ConversationChange(settings=ChatSettings(repetition_penalty=1.3))
    )
    assert changed.settings == ChatSettings(repetition_penalty=1.3)
    assert await store.get_defaults() == ChatSettings()
    await store.put_defaults(chosen)
    assert await store.get_defaults() == chosen


@check
async def user_models_round_trip(store: Store) -> None:
    assert await store.get_user_models() == []
    records: list[dict[str, Any]] = [
        {"id": "a/b", "label": "B", "source": "hub", "dtype": {"wasm": "q8"}, "bytes": 12},
        {"id": "c/d", "label": "D", "source": "hub"},
    ]
    await store.put_user_models(records)
    assert await store.get_user_models() == records
    await store.put_user_models(records[1:])
    assert await store.get_user_models() == records[1:]


@check
async def endpoint_keys_are_kept_apart_from_the_added_models(store: Store) -> None:
    assert await store.get_endpoint_keys() == {}
    entry = {"id": "h:1/m", "label": "m", "source": "openai", "baseUrl": "http://h:1/v1"}
    await store.put_user_models([entry])
    await store.put_endpoint_keys({"http://h:1/v1": "sk-1", "https://x/v1": "sk-2"})
    assert await store.get_endpoint_keys() == {"http://h:1/v1": "sk-1", "https://x/v1": "sk-2"}
    assert await store.get_user_models() == [entry]  # the key never joins the entry
    await store.put_endpoint_keys({"https://x/v1": "sk-2"})
    assert await store.get_endpoint_keys() == {"https://x/v1": "sk-2"}


@check
async def an_import_writes_everything_or_nothing(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["m1"])
    assert await store.taken_ids(["c1", "c9"], ["m1", "m9"]) == {"c1", "m1"}
    fresh = conversation("c2", 3)
    placed = [
        Message("n1", "c2", "user", "hi", 1, lane="n1"),
        Message("n2", "c2", "assistant", "yo", 2, parent_id="n1", lane="n1"),
    ]
    clash = (conversation("c3", 4), [Message("m1", "c3", "user", "x", 1, lane="m1")])
    await refused(store.import_conversations([(fresh, placed), clash]), StoreError)
    assert await store.get_conversation("c2") is None and await store.list_messages("c2") == []
    await store.import_conversations([(fresh, placed)])
    branch = await store.read_branch("c2")
    assert ids(branch.messages) == ["n1", "n2"]
    assert [c.id for c in await store.list_conversations()] == ["c2", "c1"]


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
    stored = await store.append_message(m)
    (back,) = await store.list_messages("c1")
    assert back == stored == replace(m, lane="m1")


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
async def a_rewrite_keeps_the_message_where_it_is_in_the_tree(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await line(store, "c1", ["q", "r"])
    await store.put_message(message("c1", "r", 2, status="done"))
    (_, back) = await store.list_messages("c1")
    assert (back.parent_id, back.lane) == ("q", "q")


@check
async def deleting_a_conversation_deletes_its_messages_and_nothing_else(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1))
    await store.create_conversation(conversation("c2", 2))
    await line(store, "c1", [f"a{i}" for i in range(5)])
    await line(store, "c2", ["b0"])
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
