"""BENCHMARKS.md's rows and section on the scale of stored data (bench/scale.py)."""

from __future__ import annotations

from typing import Any


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def scale_targets(s: dict[str, Any]) -> list[tuple[str, float, float, str]]:
    return [
        ("sidebar of 10,000 chats, list to painted (ms)", s["sidebar_listed_to_painted_ms"], 100,
         "max"),
        ("open a 10,000-message chat, to its last screen (ms)", s["open_long_chat_to_painted_ms"],
         300, "max"),
    ]  # fmt: skip


def scale_section(s: dict[str, Any]) -> list[str]:
    total, long = f"{s['conversations']:,}", f"{s['messages_in_long_chat']:,}"
    listed, routed = _ms(s["sidebar_listed_to_painted_ms"]), _ms(s["sidebar_route_to_painted_ms"])
    step = _ms(s["sidebar_scroll_step_to_second_frame_ms_median"])
    slowest_step = _ms(s["sidebar_scroll_step_to_second_frame_ms_max"])
    scroll_tasks = len(s["sidebar_scroll_long_tasks_ms"])
    opened, short = _ms(s["open_long_chat_to_painted_ms"]), _ms(s["open_short_chat_to_painted_ms"])
    older = _ms(s["older_page_to_painted_ms"])
    slowest_older = _ms(s["older_page_to_painted_ms_max"])
    load = s["load_average"]
    return [
        "## Scale of stored data (bench/scale.py)",
        "",
        f"{total} conversations in IndexedDB, one of them {long} messages long, in the real page;"
        f' {s["rounds"]} rounds, medians. "Painted" is the animation frame that shows the change.',
        "",
        f"- sidebar: from the list reaching the sidebar to painted {listed}"
        f" ({s['sidebar_rows_rendered']} rows rendered of {total}); from the route change,"
        f" reading the list from IndexedDB first, {routed}",
        f"- scrolling the sidebar a screen at a time: {step} to the second frame after each step"
        f" (slowest {slowest_step}), {scroll_tasks} main-thread task(s) over 50 ms in 60 steps",
        f"- opening the {long}-message chat, from the hash change to its last screen painted:"
        f" {opened} ({s['messages_rendered_on_open']} messages rendered, the newest page),"
        f" against {short} for a chat of 10 messages, alternating",
        f"- an older page of 50 messages, from scrolling to the top to painted: {older} (slowest"
        f" {slowest_older}); the message at the top of the screen moved at most"
        f" {s['older_page_top_moved_px_max']} px",
        f"- 1-minute load average of the machine {load[0]} before and {load[1]} after (2 cores,"
        " shared with other work)",
        "",
        "The route-change figure is not the render: every route change re-reads the whole list"
        " from IndexedDB and builds a Python object per conversation (one JSON string crosses"
        " into Python); that read is most of it, and it runs after the chat itself is painted."
        " Keeping the list across route changes (re-reading only after a change) would remove it.",
        "",
    ]
