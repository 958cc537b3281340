"""Export and import: the file format, its checks, and the Transfer service on a memory store.

Conversations are made by a real Chat (so their lanes are the store's own), exported, and
imported into a store: what comes back is compared field by field. Broken and hostile files
are each refused with the first problem named, and leave the store as it was.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.core.catalog import parse_catalog
from app.core.conversations import ChatSettings, Conversation, Message, MessageStatus, ReplyInfo
from app.core.events import ConversationsImported, ConversationsListed, ErrorRaised
from app.core.memory import CountingIds, LocalBroadcast, ManualClock, MemoryStore
from app.core.ports import ConversationChange
from app.core.tabs import ListChanged, News
from app.core.transfer import (
    Entry,
    export_document,
    export_filename,
    export_json,
    read_export,
    with_fresh_ids,
)
from app.core.transfer_schema import schema_problem
from app.core.transferring import Transfer
from app.core.tree import placed

from .fakes import ChatHarness, Recorder

CATALOG = parse_catalog(
    {
        "default": "tiny/a",
        "models": [
            {"id": "tiny/a", "label": "Tiny A", "source": "local", "dtype": "q8"},
            {"id": "tiny/b", "label": "Tiny B", "source": "local", "dtype": "q8"},
        ],
    }
)
SETTINGS = ChatSettings(system_prompt="Be brief.", temperature=0.3, max_new_tokens=64)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class FakeDownloads:
    def __init__(self) -> None:
        self.saved: list[tuple[str, str, str]] = []

    def save(self, filename: str, media_type: str, text: str) -> None:
        self.saved.append((filename, media_type, text))


class FakeFile:
    """A picked file; remembers whether anything read it."""

    def __init__(self, text: str, name: str = "export.json", size: int | None = None) -> None:
        self.name = name
        self._text = text
        self.size = len(text.encode()) if size is None else size
        self.reads = 0

    async def read_text(self) -> str:
        self.reads += 1
        return self._text


class Tab:
    """A Transfer on a store, with what it emitted, saved and told other tabs."""

    def __init__(self, store: MemoryStore | None = None, ids: str = "new") -> None:
        self.store = store or MemoryStore()
        self.events = Recorder()
        self.downloads = FakeDownloads()
        self.news: list[News] = []
        hub = LocalBroadcast()
        hub.tab().listener = self.news.append
        self.transfer = Transfer(
            store=self.store,
            clock=ManualClock(start_ms=1_763_712_000_000),  # 2025-11-21
            ids=CountingIds(ids),
            emit=self.events,
            downloads=self.downloads,
            labels={m.id: m.label for m in CATALOG.models},
            refresh_list=self._refresh,
            broadcast=hub.tab(),
        )

    async def _refresh(self) -> None:
        self.events(ConversationsListed(tuple(await self.store.list_conversations()), None))

    def errors(self) -> list[str]:
        return [e.text for e in self.events.of(ErrorRaised)]

    async def snapshot(self) -> tuple[list[Conversation], list[Message]]:
        conversations = await self.store.list_conversations()
        messages = [m for c in conversations for m in await self.store.list_messages(c.id)]
        return conversations, messages


async def branched_chats() -> MemoryStore:
    """Two chats made by a Chat: the first with a regenerated reply and an edited question
    (three branches), settings, and a model of its own; the second one plain exchange."""
    h = ChatHarness(CATALOG, {"tiny/a": "Hello from A", "tiny/b": "Greetings from B"})
    first = await h.first_exchange("hi")
    await h.chat.send("tell me more")
    await h.chat.regenerate()
    await h.chat.set_model("tiny/b")
    question = h.chat.messages[2]
    await h.chat.edit(question.id, "tell me less")
    await h.store.update_conversation(first, ConversationChange(settings=SETTINGS))
    await h.first_exchange("```python\nprint('<b>')\n")
    return h.store


async def exported(store: MemoryStore) -> dict[str, Any]:
    tab = Tab(store)
    await tab.transfer.export_all()
    ((_name, _type, text),) = tab.downloads.saved
    document: dict[str, Any] = json.loads(text)
    return document


# -- the round trip ----------------------------------------------------------------------


def test_an_export_imports_back_identical_branches_settings_and_reply_metadata() -> None:
    async def scenario() -> None:
        source = await branched_chats()
        document = await exported(source)
        assert schema_problem(document) is None
        target = Tab()
        await target.transfer.import_file(FakeFile(json.dumps(document)))
        assert target.errors() == []
        before = await Tab(source).snapshot()
        after = await target.snapshot()
        assert after == before  # every field, lanes and the branch last shown included
        first = next(c for c in after[0] if c.settings == SETTINGS)
        assert first.model == "tiny/b"
        replies = [m for m in after[1] if m.role == "assistant"]
        assert {m.info.model for m in replies} == {"tiny/a", "tiny/b"}
        assert all(m.info.dtype == "q8" and m.info.tokens for m in replies)
        siblings = (await target.store.read_branch(first.id)).siblings
        assert siblings, "the edited question still has its sibling"

    run(scenario())


def test_the_schema_takes_an_export_of_every_shape_and_it_reads_back_the_same() -> None:
    full = ChatSettings("Be kind.", temperature=0.0, top_p=1.0, max_new_tokens=1,
                        repetition_penalty=1.2)  # fmt: skip
    info = ReplyInfo(model="a/b", dtype="q4", device="webgpu", tokens=0, tokens_per_second=0.0,
                     duration_ms=1.5, first_token_ms=0.25, left_out=3, error="boom",
                     settings=full)  # fmt: skip
    statuses: list[MessageStatus] = ["done", "stopped", "error", "streaming"]
    replies = [
        Message(s, "full", "assistant", s, 2 + i, s, info, parent_id="q")
        for i, s in enumerate(statuses)
    ]
    question, again = Message("q", "full", "user", "", 1), Message("s", "full", "user", "x", 9)
    shapes: list[Entry] = [
        (Conversation("empty", "", None, 0, 0), ()),
        (
            Conversation("full", "Every field ✓", "smart", 1, 2**53 - 1, full, lane="s"),
            tuple(placed([question, *replies, again])),  # two first messages, four replies
        ),
    ]
    document = json.loads(export_json(export_document(shapes, 2**41)))
    assert schema_problem(document) is None
    back = read_export(json.dumps(document))
    assert back[1] == shapes[1]
    assert back[0] == (Conversation("empty", "New chat", None, 0, 0), ())  # a blank title


def test_an_export_names_its_format_and_version_and_leaves_out_the_store_index() -> None:
    async def scenario() -> None:
        document = await exported(await branched_chats())
        assert (document["format"], document["version"]) == ("parlance", 1)
        assert document["exportedAt"] == "2025-11-21T08:00:00Z"
        message = document["conversations"][0]["messages"][0]
        assert set(message) == {
            "id", "parentId", "role", "content", "createdAt", "status", "metadata",
        }  # fmt: skip

    run(scenario())


def test_one_conversation_exports_as_json_with_every_branch_or_as_markdown() -> None:
    async def scenario() -> None:
        tab = Tab(await branched_chats())
        first = (await tab.store.list_conversations())[-1]
        await tab.transfer.export_conversation(first.id)
        await tab.transfer.export_conversation(first.id, markdown=True)
        (json_name, json_type, text), (md_name, md_type, markdown) = tab.downloads.saved
        assert (json_name, json_type) == ("parlance-hi-2025-11-21.json", "application/json")
        assert (md_name, md_type) == ("parlance-hi-2025-11-21.md", "text/markdown")
        (only,) = json.loads(text)["conversations"]
        assert len(only["messages"]) == len(await tab.store.list_messages(first.id)) == 7
        assert markdown.startswith("# hi\n")
        assert "(4 of 7 messages)" in markdown

    run(scenario())


def test_exporting_a_deleted_conversation_says_so() -> None:
    async def scenario() -> None:
        tab = Tab()
        await tab.transfer.export_conversation("gone")
        assert tab.downloads.saved == []
        assert tab.errors() == ["This conversation was deleted, so it was not exported."]

    run(scenario())


def test_an_export_text_is_readable_json_with_characters_as_typed() -> None:
    conversation = Conversation("c", "Ünïcode ✓", None, 1, 1)
    text = export_json(export_document([(conversation, ())], 0))
    assert "Ünïcode ✓" in text and text.endswith("}\n") and '\n  "version": 1' in text


def test_filenames_carry_the_title_and_the_date() -> None:
    day = 1_763_712_000_000
    assert export_filename("Café: a <b>plan</b>!", day, "json") == (
        "parlance-cafe-a-b-plan-b-2025-11-21.json"
    )
    assert export_filename("日本語", day, "md") == "parlance-chat-2025-11-21.md"
    assert export_filename(None, day, "json") == "parlance-all-2025-11-21.json"
    assert len(export_filename("x" * 300, day, "json")) < 70


# -- what an import tells the app --------------------------------------------------------


def test_an_import_refreshes_the_list_tells_other_tabs_and_says_what_came_in() -> None:
    async def scenario() -> None:
        document = await exported(await branched_chats())
        tab = Tab()
        await tab.transfer.import_file(FakeFile(json.dumps(document)))
        (imported,) = tab.events.of(ConversationsImported)
        assert {c.id for c in imported.conversations} == {
            c["id"] for c in document["conversations"]
        }
        listed = tab.events.of(ConversationsListed)
        assert len(listed[-1].conversations) == 2
        assert tab.events.events.index(listed[-1]) < tab.events.events.index(imported)
        await asyncio.sleep(0)
        assert tab.news == [ListChanged()]

    run(scenario())


# -- ids the store already holds ---------------------------------------------------------


def test_an_export_imported_twice_gets_new_ids_and_overwrites_nothing() -> None:
    async def scenario() -> None:
        source = await branched_chats()
        text = json.dumps(await exported(source))
        tab = Tab(source)
        before = await tab.snapshot()
        await tab.transfer.import_file(FakeFile(text))
        assert tab.errors() == []
        (imported,) = tab.events.of(ConversationsImported)
        assert all(c.id.startswith("new-") for c in imported.conversations)
        conversations, messages = await tab.snapshot()
        assert len(conversations) == 4 and len(messages) == 2 * len(before[1])
        for original in before[0]:  # the stored conversations are untouched
            assert await source.get_conversation(original.id) == original
            assert await source.list_messages(original.id) == [
                m for m in before[1] if m.conversation_id == original.id
            ]
        for copy_of in imported.conversations:
            twin = next(c for c in before[0] if c.title == copy_of.title)
            mine = await source.list_messages(copy_of.id)
            theirs = await source.list_messages(twin.id)
            assert [m.content for m in mine] == [m.content for m in theirs]
            assert all(m.id.startswith("new-") for m in mine)
            assert copy_of.lane in {m.id for m in mine}
            # The same tree, with every parent and lane renamed alike.
            rename = {t.id: m.id for t, m in zip(theirs, mine, strict=True)}
            for t, m in zip(theirs, mine, strict=True):
                assert m.parent_id == (rename[t.parent_id] if t.parent_id else None)
                assert m.lane == rename[t.lane]
            shown = await source.read_branch(copy_of.id)
            assert [m.id for m in shown.messages] == [
                rename[m.id] for m in (await source.read_branch(twin.id)).messages
            ]

    run(scenario())


def test_only_the_taken_ids_change_and_everything_that_names_them_follows() -> None:
    conversation = Conversation("c", "T", None, 1, 4, lane="x")
    messages = placed(
        [
            Message("a", "c", "user", "q", 1),
            Message("b", "c", "assistant", "r", 2, parent_id="a"),
            Message("x", "c", "assistant", "r2", 3, parent_id="a"),
        ]
    )
    fresh = iter(["a", "b", "n1", "n2"])  # an id the file uses is never handed out
    ((moved, items),) = with_fresh_ids([(conversation, tuple(messages))], {"b"}, fresh.__next__)
    assert moved == conversation
    assert [(m.id, m.parent_id, m.lane) for m in items] == [
        ("a", None, "a"),
        ("n1", "a", "a"),
        ("x", "a", "x"),
    ]
    fresh = iter(["n1", "n2", "n3"])
    ((moved, items),) = with_fresh_ids(
        [(conversation, tuple(messages))], {"c", "x"}, fresh.__next__
    )
    assert (moved.id, moved.lane) == ("n1", "n2")
    assert [(m.id, m.conversation_id, m.lane) for m in items] == [
        ("a", "n1", "a"),
        ("b", "n1", "a"),
        ("n2", "n1", "n2"),
    ]


# -- lanes come from the parents, never from the file ------------------------------------


def test_lanes_are_placed_from_the_parents_whatever_the_file_says() -> None:
    async def scenario() -> None:
        source = await branched_chats()
        document = await exported(source)
        first = document["conversations"][-1]
        for message in first["messages"]:
            message["lane"] = "bogus"
            message["forkParent"] = "bogus"
        tab = Tab()
        await tab.transfer.import_file(FakeFile(json.dumps(document)))
        assert tab.errors() == []
        assert await tab.store.list_messages(first["id"]) == await source.list_messages(first["id"])

    run(scenario())


def test_placing_lanes_follows_the_store_rule_first_child_continues() -> None:
    tree = [
        Message("r2", "c", "user", "", 5),  # a second first message (an edited question)
        Message("r", "c", "user", "", 1),
        Message("a", "c", "assistant", "", 2, parent_id="r"),
        Message("a2", "c", "assistant", "", 3, parent_id="r"),  # a regenerated reply
        Message("q", "c", "user", "", 4, parent_id="a"),
    ]
    assert [(m.id, m.lane) for m in placed(tree)] == [
        ("r2", "r2"), ("r", "r"), ("a", "r"), ("a2", "a2"), ("q", "r"),
    ]  # fmt: skip
