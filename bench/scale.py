"""Scale of stored data (issue 12, target 6), in the real page on IndexedDB.

Seeds the app's database with 10,000 conversations and one more of 10,000 messages (one line,
the newest activity), reloads, then measures with the app's performance marks:
- the sidebar: from the conversation list reaching the sidebar (`parlance:sidebar-listed`) to
  the frame that shows it (`parlance:sidebar-painted`), and from a route change (to `#/chat`,
  which re-reads the list from IndexedDB) to that frame;
- scrolling the sidebar: 60 steps of one screen each, each timed to the second frame after it,
  with the main thread's long tasks;
- opening the 10,000-message chat: from the hash change to the frame that shows its last screen
  (`parlance:messages-painted`), alternating with a chat of 10 messages;
- loading an older page: from scrolling to the top to the frame that shows the page above
  (`parlance:older-painted`), and how far the message at the top moved (it should not).

Writes bench/results/scale.json. Usage: .venv/bin/python bench/scale.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

from common import ARGS, CHROMIUM, serve, write_results
from playwright.sync_api import Page, sync_playwright

READY = '[data-testid=app][data-ready="true"]'
PAGE = "?device=wasm&catalog=models/test-catalog.json"
MESSAGE = "[data-testid=message]"
CONVERSATIONS = 10_000
MESSAGES = 10_000

SEED = """async ({conversations, messages}) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("parlance");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction(["conversations", "messages"], "readwrite");
  const base = 1_700_000_000_000;
  const chats = tx.objectStore("conversations");
  const store = tx.objectStore("messages");
  for (let c = 0; c < conversations; c++) {
    chats.put({ id: `c${c}`, title: `Conversation number ${c} about the sea`, model: null,
      createdAt: base + c, updatedAt: base + c, settings: {} });
  }
  const line = (id, count, at) => {
    chats.put({ id, title: `${count} messages`, model: null, createdAt: at,
      updatedAt: at + count, settings: {}, lane: `${id}-0` });
    for (let m = 0; m < count; m++) {
      const record = { id: `${id}-${m}`, conversationId: id, role: m % 2 ? "assistant" : "user",
        content: `Message ${m} of the long chat. It has a **bold** word, a list:\\n\\n`
          + "- one\\n- two\\n\\nand a closing sentence about the harbour at dawn.",
        createdAt: at + m, status: "done", metadata: {},
        parentId: m ? `${id}-${m - 1}` : null, lane: `${id}-0` };
      if (m === 0) record.forkParent = "";
      store.put(record);
    }
  };
  line("long", messages, base + 20_000_000);
  line("short", 10, base + 10_000_000);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}"""

WATCH_LONG_TASKS = """() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
  }).observe({type: "longtask"});
}"""

# Runs `action` (JS source of a function) and waits for a new `mark`; returns ms from the start
# of the action to the mark, and, for the sidebar, the listed-to-painted time of that render.
TIMED = """async ({action, mark}) => {
  const count = (name) => performance.getEntriesByName(name).length;
  const before = count(mark);
  const t0 = performance.now();
  const extra = (0, eval)(action)();
  while (count(mark) === before) await new Promise((r) => setTimeout(r, 1));
  const end = performance.getEntriesByName(mark).at(-1).startTime;
  const listed = performance.getEntriesByName("parlance:sidebar-listed").at(-1);
  return { ms: end - t0, listedToPainted: listed ? end - listed.startTime : null, extra };
}"""

SIDEBAR_RENDER = """async () => {
  const count = (name) => performance.getEntriesByName(name).length;
  const painted = count("parlance:sidebar-painted");
  while (count("parlance:sidebar-painted") === painted) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const end = performance.getEntriesByName("parlance:sidebar-painted").at(-1).startTime;
  const start = performance.getEntriesByName("parlance:sidebar-listed").at(-1).startTime;
  return end - start;
}"""

SCROLL_STEPS = """async (steps) => {
  const nav = document.querySelector(".sidebar nav");
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const times = [];
  nav.scrollTop = 0;
  await frame();
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    nav.scrollTop += nav.clientHeight;
    await frame();
    await frame();
    times.push(performance.now() - t0);
  }
  const rows = document.querySelectorAll("[data-testid=conversation-item]").length;
  return { times, rows, top: nav.scrollTop };
}"""

OLDER = """async () => {
  const list = document.querySelector("[data-testid=message-list]");
  const count = (name) => performance.getEntriesByName(name).length;
  const before = count("parlance:older-painted");
  const shown = list.querySelectorAll("[data-testid=message]").length;
  const first = list.querySelector("[data-testid=message]");
  const t0 = performance.now();
  list.scrollTop = 0;
  const top = first.getBoundingClientRect().top;
  while (count("parlance:older-painted") === before) await new Promise((r) => setTimeout(r, 1));
  const end = performance.getEntriesByName("parlance:older-painted").at(-1).startTime;
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30)));
  return { ms: end - t0, moved: first.getBoundingClientRect().top - top,
           added: list.querySelectorAll("[data-testid=message]").length - shown };
}"""


def timed(page: Page, action: str, mark: str) -> dict[str, Any]:
    return dict(page.evaluate(TIMED, {"action": action, "mark": mark}))


def go(hash_: str) -> str:
    return f"() => {{ location.hash = {hash_!r}; }}"


def long_tasks(page: Page) -> list[float]:
    return [round(t, 1) for t in page.evaluate("window.__longTasks.splice(0)")]


def med(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{PAGE}#/chat")
        page.wait_for_selector(READY)
        page.evaluate(SEED, {"conversations": CONVERSATIONS, "messages": MESSAGES})
        page.reload()
        page.wait_for_selector(READY)
        page.wait_for_function(
            "document.querySelector('[data-testid=conversation-list]')"
            f".dataset.total === '{CONVERSATIONS + 2}'"
        )
        page.evaluate(WATCH_LONG_TASKS)
        load_before = os.getloadavg()[0]

        # The sidebar, from a route change that re-reads the list (to a new chat and back).
        route_ms, render_ms = [], []
        for _ in range(rounds):
            page.evaluate("() => { location.hash = '#/chat/short'; }")
            page.wait_for_selector('[data-testid=message][data-message-id="short-9"]')
            page.wait_for_timeout(200)
            run = timed(page, go("#/chat"), "parlance:sidebar-painted")
            route_ms.append(run["ms"])
            render_ms.append(run["listedToPainted"])
        sidebar_tasks = long_tasks(page)
        rows = page.locator("[data-testid=conversation-item]").count()
        scroll = page.evaluate(SCROLL_STEPS, 60)
        scroll_tasks = long_tasks(page)

        # Opening the long chat (A) and a short one (B), alternating, from a new chat.
        opens: dict[str, list[float]] = {"long": [], "short": []}
        for _ in range(rounds):
            for cid in ("long", "short"):
                page.evaluate("() => { location.hash = '#/chat'; }")
                page.wait_for_function(f"!document.querySelector('{MESSAGE}')")
                page.wait_for_timeout(200)
                run = timed(page, go(f"#/chat/{cid}"), "parlance:messages-painted")
                opens[cid].append(run["ms"])
                last = page.locator("[data-testid=message]").last
                newest = 9 if cid == "short" else MESSAGES - 1
                assert last.get_attribute("data-message-id") == f"{cid}-{newest}"
                if cid == "long":
                    shown_on_open = page.locator(MESSAGE).count()
        open_tasks = long_tasks(page)

        # Older pages of the long chat, one after the other.
        page.evaluate("() => { location.hash = '#/chat'; }")
        page.wait_for_timeout(200)
        timed(page, go("#/chat/long"), "parlance:messages-painted")
        page.wait_for_timeout(300)
        long_tasks(page)
        older = []
        for _ in range(rounds * 2):
            older.append(page.evaluate(OLDER))
            page.wait_for_timeout(100)
        older_tasks = long_tasks(page)
        load_after = os.getloadavg()[0]
        browser.close()

    write_results(
        "scale",
        {
            "conversations": CONVERSATIONS + 2,
            "messages_in_long_chat": MESSAGES,
            "rounds": rounds,
            "sidebar_listed_to_painted_ms": med(render_ms),
            "sidebar_listed_to_painted_ms_runs": [round(v, 1) for v in render_ms],
            "sidebar_route_to_painted_ms": med(route_ms),
            "sidebar_route_to_painted_ms_runs": [round(v, 1) for v in route_ms],
            "sidebar_rows_rendered": rows,
            "sidebar_long_tasks_ms": sidebar_tasks,
            "sidebar_scroll_step_to_second_frame_ms_median": med(scroll["times"]),
            "sidebar_scroll_step_to_second_frame_ms_max": round(max(scroll["times"]), 1),
            "sidebar_scroll_rows_rendered": scroll["rows"],
            "sidebar_scroll_long_tasks_ms": scroll_tasks,
            "open_long_chat_to_painted_ms": med(opens["long"]),
            "open_long_chat_to_painted_ms_runs": [round(v, 1) for v in opens["long"]],
            "open_short_chat_to_painted_ms": med(opens["short"]),
            "open_short_chat_to_painted_ms_runs": [round(v, 1) for v in opens["short"]],
            "messages_rendered_on_open": shown_on_open,
            "open_long_tasks_ms": open_tasks,
            "older_page_to_painted_ms": med([o["ms"] for o in older]),
            "older_page_to_painted_ms_max": round(max(o["ms"] for o in older), 1),
            "older_page_messages": [o["added"] for o in older],
            "older_page_top_moved_px_max": max(abs(o["moved"]) for o in older),
            "older_long_tasks_ms": older_tasks,
            "load_average": [round(load_before, 2), round(load_after, 2)],
        },
    )


if __name__ == "__main__":
    main()
