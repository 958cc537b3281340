"""Export and import: Parlance's file format, written and read back, as pure functions.

An export is one JSON document, versioned (`format`, `version`; app/core/transfer_schema.py):

    {"format": "parlance", "version": 1, "exportedAt": "2026-11-21T09:30:00Z",
     "conversations": [{<conversation record>, "messages": [<message record>, ...]}, ...]}

The records are the store's own (app/core/records.py), so nothing is lost: title, model,
settings, the branch last shown, and every message of every branch with its parent, status and
reply metadata. Lanes (app/core/tree.py) are not written: they are the store's index, derived
from the parents and times, and are computed again on import.

Reading trusts nothing in the file. Each step refuses with the first problem it finds, naming
the field (`conversations[0].messages[3].role: 'wizard' is not one of user, assistant`):
1. nesting: brackets deeper than MAX_DEPTH are refused before parsing. Python's json parser
   recurses in C, and in Pyodide (314.0.7) ten thousand nested lists overflow the wasm stack:
   a fatal error that ends the app, not a RecursionError. An export nests seven levels.
2. JSON, strictly: no NaN or Infinity, no number too large to be finite.
3. format and version, then the JSON Schema (transfer_schema.py).
4. the tree: ids unique in the file, each parent a message of the same conversation, no cycle,
   each message later than its parent, the branch last shown one of the conversation's own.
Then lanes are placed from the parents (tree.placed), and `with_fresh_ids` gives new ids to
whatever the store already holds, so an import never overwrites anything.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .conversations import Conversation, Message
from .errors import ImportRefused
from .records import conversation_from, conversation_record, message_from, message_record
from .transfer_schema import FORMAT, VERSION, schema_problem, shown
from .tree import placed

# A conversation and every message of it (all branches), as exported and imported.
Entry = tuple[Conversation, tuple[Message, ...]]

# Lists and objects inside one another: an export needs 7 levels; fields a later version adds
# may nest a little more.
MAX_DEPTH = 32

# Fields of the store's message records that an export leaves out: the conversation is the one
# the message is listed in, and the lane fields are the store's index (recomputed on import).
_STORE_ONLY = ("conversationId", "lane", "forkParent")


# -- export ------------------------------------------------------------------------------


def export_document(entries: Iterable[Entry], exported_at_ms: int) -> dict[str, Any]:
    conversations = []
    for conversation, messages in entries:
        record = conversation_record(conversation)
        record["messages"] = [_exported(m) for m in messages]
        conversations.append(record)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": _iso(exported_at_ms),
        "conversations": conversations,
    }


def _exported(message: Message) -> dict[str, Any]:
    record = message_record(message)
    for key in _STORE_ONLY:
        record.pop(key, None)
    return record


def export_json(document: dict[str, Any]) -> str:
    """The file's text: indented for a person who opens it, characters kept as they are."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_filename(title: str | None, at_ms: int, extension: str) -> str:
    """`parlance-<title>-<date>.<extension>`; no title: every conversation (`parlance-all-...`)."""
    date = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d")
    return f"parlance-{_slug(title) if title is not None else 'all'}-{date}.{extension}"


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:40].rstrip("-") or "chat"


# -- import ------------------------------------------------------------------------------


def read_export(text: str) -> list[Entry]:
    """The conversations of an export file, checked whole; ImportRefused says the first
    problem. Ids are the file's own (see `with_fresh_ids`); lanes are placed anew."""
    document = _parse(text)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused('This is not a Parlance export: it has no "format": "parlance".')
    version = document.get("version")
    if type(version) is int and version > VERSION:
        raise ImportRefused(
            f"This export is format version {version}, made by a newer Parlance; "
            f"this one reads version {VERSION}."
        )
    problem = schema_problem(document)
    if problem is not None:
        raise ImportRefused(problem)
    records: list[dict[str, Any]] = document["conversations"]
    _check_ids(records)
    return [_entry(index, record) for index, record in enumerate(records)]


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOO_MANY_OPENERS = re.compile(rf"[\[{{]{{{MAX_DEPTH + 1}}}")


def nesting_problem(text: str) -> str | None:
    """Whether `text` nests lists or objects too deeply to hand to json.loads (see the module
    docstring), found with a few passes of C-speed string operations, never recursion.

    Strings are taken out, then innermost bracket pairs are removed, one level per pass. What
    is left after MAX_DEPTH passes is too deep; a pass that removes nothing leaves brackets that
    do not match, which json.loads may report itself when they are few (it then nests at most
    2 * MAX_DEPTH levels)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        if not brackets or _TOO_MANY_OPENERS.search(brackets):
            break
        fewer = brackets.replace("[]", "").replace("{}", "")
        if fewer == brackets:
            if len(brackets) <= MAX_DEPTH:
                return None
            return "This file is not JSON: its brackets do not match."
        brackets = fewer
    if not brackets:
        return None
    return (
        f"This file nests lists or objects more than {MAX_DEPTH} levels deep; an export never does."
    )


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _whole(text: str) -> int:
    if len(text) > 20:  # past any number an export holds, long before Python's digit limit
        raise ValueError(f"the number {text[:20]}… is too large")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse(text: str) -> Any:
    problem = nesting_problem(text)
    if problem is not None:
        raise ImportRefused(problem)
    try:
        return json.loads(text, parse_float=_finite, parse_int=_whole, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            f"This file is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ImportRefused(f"This file is not JSON: {exc}.") from exc


def _check_ids(records: Sequence[dict[str, Any]]) -> None:
    """Ids are unique in the file: conversations among conversations, messages among every
    message of the file (the store keeps all messages in one keyspace)."""
    conversations: dict[str, int] = {}
    messages: dict[str, str] = {}
    for ci, record in enumerate(records):
        first = conversations.setdefault(record["id"], ci)
        if first != ci:
            raise ImportRefused(
                f"conversations[{ci}].id: {shown(record['id'])} is also the id of "
                f"conversations[{first}]"
            )
        for mi, message in enumerate(record["messages"]):
            at = f"conversations[{ci}].messages[{mi}]"
            seen = messages.setdefault(message["id"], at)
            if seen != at:
                raise ImportRefused(f"{at}.id: {shown(message['id'])} is also the id of {seen}")


def _entry(ci: int, record: dict[str, Any]) -> Entry:
    """One conversation of a schema-valid file, its tree checked, its lanes placed."""
    items: list[dict[str, Any]] = record["messages"]
    at = {m["id"]: f"conversations[{ci}].messages[{mi}]" for mi, m in enumerate(items)}
    by_id = {m["id"]: m for m in items}
    for m in items:
        parent = m["parentId"]
        if parent is not None and parent not in by_id:
            raise ImportRefused(
                f"{at[m['id']]}.parentId: {shown(parent)} is not a message of this conversation"
            )
    _check_no_cycle(items, at)
    for m in items:
        parent = by_id.get(m["parentId"])
        if parent is not None and m["createdAt"] <= parent["createdAt"]:
            raise ImportRefused(
                f"{at[m['id']]}.createdAt: {m['createdAt']} is not later than its parent's "
                f"({parent['createdAt']})"
            )
    lane = record.get("lane")
    if lane is not None and lane not in by_id:
        raise ImportRefused(
            f"conversations[{ci}].lane: {shown(lane)} is not a message of this conversation"
        )
    conversation = conversation_from({k: v for k, v in record.items() if k != "messages"})
    assert conversation is not None  # the schema requires a usable id
    messages = []
    for m in items:
        message = message_from({**m, "conversationId": conversation.id, "lane": None})
        assert message is not None  # the schema requires an id and a known role
        messages.append(message)
    in_lanes = placed(messages)
    lane_of = {m.id: m.lane for m in in_lanes}
    return replace(conversation, lane=lane_of[lane] if lane else None), tuple(in_lanes)


def _check_no_cycle(items: Sequence[dict[str, Any]], at: dict[str, str]) -> None:
    """Following parents from any message reaches a first message (each message has one
    parent, so a walk either ends or comes back onto itself). Iterative: a file may hold a
    chain of thousands of messages."""
    parent_of = {m["id"]: m["parentId"] for m in items}
    leads_to_root: set[str] = set()
    for start in parent_of:
        walk: list[str] = []
        on_walk: set[str] = set()
        node: str | None = start
        while node is not None and node not in leads_to_root:
            if node in on_walk:
                raise ImportRefused(
                    f"{at[node]}.parentId: {shown(parent_of[node])} leads back to this message "
                    "(a cycle)"
                )
            walk.append(node)
            on_walk.add(node)
            node = parent_of[node]
        leads_to_root.update(walk)


def ids_of(entries: Sequence[Entry]) -> tuple[list[str], list[str]]:
    """The conversation ids and the message ids of `entries`."""
    return [c.id for c, _ in entries], [m.id for _, ms in entries for m in ms]


def with_fresh_ids(
    entries: Sequence[Entry], taken: set[str], new_id: Callable[[], str]
) -> list[Entry]:
    """`entries` with a new id for every conversation and message id in `taken` (ids the store
    already holds), changed everywhere it is named: parents, lanes, the branch last shown."""
    conversation_ids, message_ids = ids_of(entries)
    in_use = {*conversation_ids, *message_ids, *taken}

    def fresh() -> str:
        candidate = new_id()
        while candidate in in_use:
            candidate = new_id()
        in_use.add(candidate)
        return candidate

    conversations = {old: fresh() for old in conversation_ids if old in taken}
    messages = {old: fresh() for old in message_ids if old in taken}
    if not conversations and not messages:
        return list(entries)

    def renamed(message_id: str) -> str:
        return messages.get(message_id, message_id)

    result: list[Entry] = []
    for conversation, items in entries:
        cid = conversations.get(conversation.id, conversation.id)
        lane = renamed(conversation.lane) if conversation.lane else None
        moved = tuple(
            replace(
                m,
                id=renamed(m.id),
                conversation_id=cid,
                parent_id=renamed(m.parent_id) if m.parent_id else None,
                lane=renamed(m.lane),
            )
            for m in items
        )
        result.append((replace(conversation, id=cid, lane=lane), moved))
    return result
