"""Storage benchmark, run in the page by bench/storage.html (driven by bench/storage.py).

Measures, with the app's real IndexedDbStore and sidebar renderer:
- append latency into a conversation of 10 messages and one of 10,000 (alternating A and B);
- opening a branch: reading the 12-message branch of a conversation whose tree holds 10,000
  messages (one long line and that branch off its 10th message), against reading a 12-message
  conversation alone: the same cost if only the branch is read;
- time to list 1,000 conversations from IndexedDB and render the sidebar, to the next frame.
Results go to `<body data-results>` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import uuid

import js
from pyodide.ffi import create_once_callable, to_js

from app.browser.idb import IndexedDbStore, conversation_record, message_record
from app.core.conversations import Conversation, Message
from app.core.tree import thread
from app.ui.sidebar import sidebar_markup

APPENDS = 200


def _records(items: list[dict[str, object]]) -> object:
    return to_js(items, dict_converter=js.Object.fromEntries)


async def _bulk(store: IndexedDbStore, name: str, records: list[dict[str, object]]) -> None:
    """Seed fast: one transaction (seeding is not what is measured)."""
    await js.bench_bulk_put(store._db, name, _records(records))


def _message(cid: str, i: int) -> Message:
    return Message(f"{cid}-{i}", cid, "user" if i % 2 else "assistant", f"message {i} " * 8, i)


async def _next_frame() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    js.requestAnimationFrame(create_once_callable(lambda _t: future.set_result(None)))
    await future


async def _line(store: IndexedDbStore, cid: str, n: int) -> list[Message]:
    """A conversation of `n` messages in one line, seeded in one transaction."""
    await _bulk(store, "conversations", [conversation_record(Conversation(cid, cid, None, 0, 0))])
    messages = thread([_message(cid, i) for i in range(n)])
    await _bulk(store, "messages", [message_record(m) for m in messages])
    return messages


async def _branch_reads(store: IndexedDbStore) -> dict[str, object]:
    alone = await _line(store, "alone", 12)
    tree = await _line(store, "tree", 10_000)
    parent = tree[9]
    for i in range(2):
        reply = Message(f"fork-{i}", "tree", "user", "a branch", 20_000 + i, parent_id=parent.id)
        parent = await store.append_message(reply, branch=i == 0)
    lane = parent.lane
    timings: dict[str, list[float]] = {"alone": [], "tree": []}
    for _ in range(21):
        for cid, wanted in (("alone", alone[0].lane), ("tree", lane)):
            start = js.performance.now()
            branch = await store.read_branch(cid, wanted)
            timings[cid].append(js.performance.now() - start)
            assert len(branch.messages) == 12, len(branch.messages)
    return {
        "branch_read_ms_median_12_alone": statistics.median(timings["alone"]),
        "branch_read_ms_median_12_in_10000": statistics.median(timings["tree"]),
    }


async def run() -> None:
    store = await IndexedDbStore.open(f"bench-{uuid.uuid4().hex}")
    small, large = "small", "large"
    last = {
        small: (await _line(store, small, 10))[-1],
        large: (await _line(store, large, 10_000))[-1],
    }
    timings: dict[str, list[float]] = {small: [], large: []}
    for n in range(APPENDS):
        for cid, base in ((small, 10), (large, 10_000)):
            message = Message(
                f"{cid}-{base + n}",
                cid,
                "user",
                f"message {n} " * 8,
                base + n,
                parent_id=last[cid].id,
            )
            start = js.performance.now()
            last[cid] = await store.append_message(message)
            timings[cid].append(js.performance.now() - start)
    counts = {cid: len(await store.list_messages(cid)) for cid in (small, large)}
    branch_reads = await _branch_reads(store)

    conversations = [
        Conversation(f"c{i:04d}", f"Conversation number {i}", None, i, i) for i in range(1000)
    ]
    store = await IndexedDbStore.open(f"bench-{uuid.uuid4().hex}")  # the 1,000 alone
    await _bulk(store, "conversations", [conversation_record(c) for c in conversations])
    container = js.document.getElementById("sidebar")
    sidebar_ms: list[float] = []
    for _ in range(7):
        container.innerHTML = ""
        await _next_frame()
        start = js.performance.now()
        listed = await store.list_conversations()
        container.innerHTML = sidebar_markup(listed, listed[0].id)
        await _next_frame()
        sidebar_ms.append(js.performance.now() - start)
    items = int(container.querySelectorAll('[data-testid="conversation-item"]').length)

    results = {
        "append_ms_median_at_10": statistics.median(timings[small]),
        "append_ms_median_at_10000": statistics.median(timings[large]),
        "append_ms_p95_at_10": sorted(timings[small])[int(APPENDS * 0.95)],
        "append_ms_p95_at_10000": sorted(timings[large])[int(APPENDS * 0.95)],
        "appends_each": APPENDS,
        "messages_after": counts,
        "sidebar_1000_ms_median": statistics.median(sidebar_ms),
        "sidebar_1000_ms_runs": sidebar_ms,
        "sidebar_items": items,
        **branch_reads,
    }
    js.document.body.dataset.results = json.dumps(results)


_RUNNING: set[asyncio.Future[None]] = {asyncio.ensure_future(run())}
