"""What an import file may hold, and every way one is refused: each broken or hostile file is
refused with its first problem named, and leaves the store as it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from app.core.conversations import Conversation, Message
from app.core.errors import ImportRefused
from app.core.events import ConversationsImported
from app.core.memory import MemoryStore
from app.core.transfer import MAX_DEPTH, export_document, nesting_problem, read_export
from app.core.transfer_schema import MAX_SAFE_INTEGER
from app.core.transferring import MAX_IMPORT_BYTES
from app.core.tree import placed

from .test_transfer import SETTINGS, FakeFile, Tab, branched_chats, run

# -- broken and hostile files ------------------------------------------------------------


def small_export() -> dict[str, Any]:
    """One conversation: a question, two replies to it (a regenerate) and a follow-up."""
    conversation = Conversation("c1", "Plans", "tiny/a", 1, 9, settings=SETTINGS, lane="m2")
    messages = placed(
        [
            Message("m0", "c1", "user", "hi", 1),
            Message("m1", "c1", "assistant", "hello", 2, parent_id="m0"),
            Message("m2", "c1", "assistant", "hey", 3, parent_id="m0"),
            Message("m3", "c1", "user", "more", 4, parent_id="m2"),
        ]
    )
    return export_document([(conversation, tuple(messages))], 0)


def edited(change: Callable[[dict[str, Any]], None]) -> str:
    document = small_export()
    change(document)
    return json.dumps(document)


def msg(document: dict[str, Any], index: int) -> dict[str, Any]:
    message: dict[str, Any] = document["conversations"][0]["messages"][index]
    return message


def conv(document: dict[str, Any]) -> dict[str, Any]:
    conversation: dict[str, Any] = document["conversations"][0]
    return conversation


def add_conversation(document: dict[str, Any]) -> None:
    other = copy.deepcopy(conv(document))
    other["id"] = "c2"
    for message in other["messages"]:
        message["id"] = "o" + message["id"]
        message["parentId"] = "o" + message["parentId"] if message["parentId"] else None
    other["messages"][3]["parentId"] = "m1"  # a parent in another conversation
    other.pop("lane")
    document["conversations"].append(other)


BROKEN: dict[str, tuple[str, str]] = {
    "not JSON": (
        "{this is not json",
        "This file is not JSON (line 1, column 2: Expecting "
        "property name enclosed in double quotes).",
    ),
    "empty": ("", "This file is not JSON (line 1, column 1: Expecting value)."),
    "a list": ("[1, 2]", 'This is not a Parlance export: it has no "format": "parlance".'),
    "another format": (
        json.dumps({"format": "chatgpt", "conversations": []}),
        'This is not a Parlance export: it has no "format": "parlance".',
    ),
    "a newer version": (
        edited(lambda d: d.update(version=2)),
        "This export is format version 2, made by a newer Parlance; this one reads version 1.",
    ),
    "a version as text": (edited(lambda d: d.update(version="1")), "version: must be 1, not '1'"),
    "conversations not a list": (
        edited(lambda d: d.update(conversations={"a": 1})),
        "conversations: must be a list, not an object",
    ),
    "a message not an object": (
        edited(lambda d: conv(d)["messages"].append("hello")),
        "conversations[0].messages[4]: must be an object, not a string",
    ),
    "an unknown role": (
        edited(lambda d: msg(d, 3).update(role="wizard")),
        "conversations[0].messages[3].role: 'wizard' is not one of user, assistant",
    ),
    "a missing role": (
        edited(lambda d: msg(d, 1).pop("role")),
        "conversations[0].messages[1].role: missing",
    ),
    "an unknown status": (
        edited(lambda d: msg(d, 1).update(status="exploded")),
        "conversations[0].messages[1].status: 'exploded' is not one of done, stopped, error, "
        "streaming",
    ),
    "content not text": (
        edited(lambda d: msg(d, 0).update(content={"html": "<b>"})),
        "conversations[0].messages[0].content: must be a string, not an object",
    ),
    "a missing title": (edited(lambda d: conv(d).pop("title")), "conversations[0].title: missing"),
    "an empty id": (
        edited(lambda d: conv(d).update(id="")),
        "conversations[0].id: must not be empty",
    ),
    "a numeric id": (
        edited(lambda d: msg(d, 0).update(id=7)),
        "conversations[0].messages[0].id: must be a string, not a whole number",
    ),
    "a time before 1970": (
        edited(lambda d: msg(d, 0).update(createdAt=-1)),
        "conversations[0].messages[0].createdAt: -1 is below 0",
    ),
    "a fractional time": (
        edited(lambda d: msg(d, 0).update(createdAt=1.5)),
        "conversations[0].messages[0].createdAt: must be a whole number, not a number",
    ),
    "a time JavaScript cannot hold": (
        edited(lambda d: conv(d).update(updatedAt=2**60)),
        f"conversations[0].updatedAt: {2**60} is above {MAX_SAFE_INTEGER}",
    ),
    "a token count that is a boolean": (
        edited(lambda d: msg(d, 1)["metadata"].update(tokens=True)),
        "conversations[0].messages[1].metadata.tokens: must be a whole number, not true or false",
    ),
    "a temperature that is text": (
        edited(lambda d: conv(d)["settings"].update(temperature="hot")),
        "conversations[0].settings.temperature: must be a number, not a string",
    ),
    "NaN": (
        edited(lambda d: msg(d, 1)["metadata"].update(tokensPerSecond=0.5)).replace("0.5", "NaN"),
        "This file is not JSON: NaN is not a JSON number.",
    ),
    "an infinite number": (
        edited(lambda d: msg(d, 1)["metadata"].update(durationMs=0.5)).replace("0.5", "1e999"),
        "This file is not JSON: the number 1e999 is too large.",
    ),
    "a number with a thousand digits": (
        edited(lambda d: msg(d, 1)["metadata"].update(tokens=7)).replace(
            '"tokens": 7', '"tokens": ' + "9" * 1000
        ),
        "This file is not JSON: the number 99999999999999999999… is too large.",
    ),
    "a parent outside the file": (
        edited(lambda d: msg(d, 3).update(parentId="elsewhere")),
        "conversations[0].messages[3].parentId: 'elsewhere' is not a message of this conversation",
    ),
    "a parent in another conversation": (
        edited(add_conversation),
        "conversations[1].messages[3].parentId: 'm1' is not a message of this conversation",
    ),
    "a message that follows itself": (
        edited(lambda d: msg(d, 2).update(parentId="m2")),
        "conversations[0].messages[2].parentId: 'm2' leads back to this message (a cycle)",
    ),
    "a cycle": (
        edited(lambda d: msg(d, 0).update(parentId="m3")),
        "conversations[0].messages[0].parentId: 'm3' leads back to this message (a cycle)",
    ),
    "a reply older than its question": (
        edited(lambda d: msg(d, 1).update(createdAt=1)),
        "conversations[0].messages[1].createdAt: 1 is not later than its parent's (1)",
    ),
    "a message id used twice": (
        edited(lambda d: msg(d, 3).update(id="m1")),
        "conversations[0].messages[3].id: 'm1' is also the id of conversations[0].messages[1]",
    ),
    "a conversation id used twice": (
        edited(lambda d: d["conversations"].append({**conv(d), "messages": []})),
        "conversations[1].id: 'c1' is also the id of conversations[0]",
    ),
    "a branch that is not a message": (
        edited(lambda d: conv(d).update(lane="nowhere")),
        "conversations[0].lane: 'nowhere' is not a message of this conversation",
    ),
    "deep nesting": (
        "[" * 100_000 + "]" * 100_000,
        f"This file nests lists or objects more than {MAX_DEPTH} levels deep; an export never "
        "does.",
    ),
    "deep nesting in a field an export does not have": (
        edited(lambda d: msg(d, 1)["metadata"].update(extra="DEEP")).replace(
            '"DEEP"', '{"a": ' * 40 + "1" + "}" * 40
        ),
        f"This file nests lists or objects more than {MAX_DEPTH} levels deep; an export never "
        "does.",
    ),
    "many closing brackets": ("]" * 5000, "This file is not JSON: its brackets do not match."),
    "a few unbalanced brackets": (
        "[[{}]",
        "This file is not JSON (line 1, column 6: Expecting ',' delimiter).",
    ),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_file_is_refused_with_its_first_problem_named(name: str) -> None:
    text, reason = BROKEN[name]
    with pytest.raises(ImportRefused) as refused:
        read_export(text)
    assert str(refused.value) == reason


@pytest.mark.parametrize("name", ["a cycle", "an unknown role", "deep nesting"])
def test_a_refused_import_changes_nothing_and_the_banner_says_why(name: str) -> None:
    async def scenario() -> None:
        source = await branched_chats()
        tab = Tab(source)
        before = await tab.snapshot()
        await tab.transfer.import_file(FakeFile(BROKEN[name][0], name="broken.json"))
        assert await tab.snapshot() == before
        assert tab.errors() == [
            f"Nothing was imported from broken.json. {BROKEN[name][1].rstrip('.')}."
        ]
        assert tab.events.of(ConversationsImported) == [] and tab.news == []

    run(scenario())


def test_a_file_over_the_cap_is_refused_before_it_is_read() -> None:
    async def scenario() -> None:
        tab = Tab()
        huge = FakeFile("", name="huge.json", size=200 * 1024 * 1024)
        await tab.transfer.import_file(huge)
        assert huge.reads == 0
        assert tab.errors() == [
            "Nothing was imported from huge.json. It is 210 MB, and Parlance imports files of "
            "up to 50 MB."
        ]
        at_cap = FakeFile(json.dumps(small_export()), size=MAX_IMPORT_BYTES)
        await tab.transfer.import_file(at_cap)
        assert at_cap.reads == 1 and len(tab.events.of(ConversationsImported)) == 1

    run(scenario())


def test_a_file_with_no_conversations_imports_nothing_and_says_so() -> None:
    async def scenario() -> None:
        tab = Tab()
        await tab.transfer.import_file(FakeFile(json.dumps(export_document([], 0))))
        assert tab.errors() == ["Nothing was imported from export.json. The file holds no "
                                "conversations."]  # fmt: skip

    run(scenario())


def test_a_file_the_store_refuses_midway_writes_nothing() -> None:
    async def scenario() -> None:
        class TakenLate(MemoryStore):
            """Another tab takes an id between the check and the write."""

            asked = 0

            async def taken_ids(self, c: Any, m: Any) -> set[str]:
                self.asked += 1
                return set() if self.asked == 1 else await super().taken_ids(c, m)

        store = TakenLate()
        await store.create_conversation(Conversation("c1", "Mine", None, 1, 1))
        tab = Tab(store)
        await tab.transfer.import_file(FakeFile(json.dumps(small_export())))
        assert [c.title for c in await store.list_conversations()] == ["Mine"]
        assert tab.errors() == [
            "Nothing was imported from export.json. Could not import: an id is already taken; "
            "nothing was imported."
        ]

    run(scenario())


# -- what a valid file may hold ----------------------------------------------------------


def test_fields_a_later_version_adds_are_ignored_and_optional_ones_have_defaults() -> None:
    document = small_export()
    document["app"] = {"name": "Parlance", "build": [1, 2]}
    conv(document)["pinned"] = True
    for key in ("model", "updatedAt", "settings", "lane"):
        conv(document).pop(key)
    msg(document, 0).pop("status")
    msg(document, 0).pop("metadata")
    ((conversation, messages),) = read_export(json.dumps(document))
    assert conversation == Conversation("c1", "Plans", None, 1, 1)
    assert messages[0] == Message("m0", "c1", "user", "hi", 1, lane="m0")


def test_hostile_text_is_kept_as_text_for_the_safe_renderer() -> None:
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>[x](javascript:alert(3))"
    document = small_export()
    conv(document)["title"] = hostile
    msg(document, 1)["content"] = hostile
    msg(document, 1)["metadata"]["model"] = hostile
    ((conversation, messages),) = read_export(json.dumps(document))
    assert conversation.title == hostile
    assert messages[1].content == hostile and messages[1].info.model == hostile


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    document = small_export()
    msg(document, 0)["content"] = "[" * 10_000 + '\\"{' * 100
    text = json.dumps(document)
    assert nesting_problem(text) is None
    assert read_export(text)[0][1][0].content == msg(document, 0)["content"]
