"""Rendering a streaming reply: does a frame's work grow with the reply? (issue 12, target 5)

Drives bench/render.html (the app's real message list in Pyodide, DOMPurify and the app's CSS;
see bench/render_page.py) in headless Chromium: a synthetic 2,000-token reply of ten identical
200-token sections (prose, list, Python code, table) streamed a token every 8 ms. Reports, as
medians over rounds:

- main-thread work per frame: the time of the message list's per-frame render call, median over
  the frames of the first section (tokens 1-200, "at token 100") and of the last (1,801-2,000,
  "at token 2,000"), and their ratio (target <= 1.5);
- the longest gap between two animation frames while streaming (target <= 50 ms), and the
  longest main-thread task (PerformanceObserver, over 50 ms);
- the frame that shows the finished reply;
- from a Chrome trace of the same run, the main thread's longest task while streaming in CPU
  time (the thread's own time, `tdur`) beside its wall time: on a machine whose cores other
  work holds, a task can take 10 ms of CPU and 150 ms of wall time, so a frame gap longer than
  any task's CPU time is time the page waited for a core, not work it did.

With `--before <git ref>` the same page runs against that commit's app/ too (its tree from `git
archive`), alternating before and after in one run: the figures before and after the change.

Writes bench/results/render.json. Usage: .venv/bin/python bench/render.py [--rounds 3]
[--before main]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import statistics
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import Browser, sync_playwright
from reply_sample import TOKENS_PER_SECTION

BENCH_FILES = ("__init__.py", "render.html", "render_page.py", "reply_sample.py")


def _toml(tree: Path) -> str:
    """The page's PyScript config: every vendored wheel (those the app unpacks after start-up,
    app/browser/wheels.py, too: this page has no idle time to load them in), every module of
    `tree`'s app/, and this benchmark's files."""
    wheels = [
        f'"../vendor/wheels/{wheel.name}" = "./*"'
        for wheel in sorted((ROOT / "vendor/wheels").glob("*.whl"))
    ]
    modules = sorted(p.relative_to(tree).as_posix() for p in (tree / "app").rglob("*.py"))
    lines = ['interpreter = "../vendor/pyodide/pyodide.mjs"', "", "[files]", *wheels]
    lines += [f'"../{module}" = "./{module}"' for module in modules]
    lines += [f'"./{name}" = "./bench/{name}"' for name in BENCH_FILES if name.endswith(".py")]
    return "\n".join(lines) + "\n"


@contextmanager
def site(tree: Path) -> Iterator[str]:
    """`tree`'s app served with this benchmark page (the same page for every tree)."""
    with tempfile.TemporaryDirectory(prefix="parlance-render-") as tmp:
        root = Path(tmp)
        (root / "app").symlink_to(tree / "app")
        (root / "vendor").symlink_to(ROOT / "vendor")
        (root / "bench").mkdir()
        for name in BENCH_FILES:
            (root / "bench" / name).symlink_to(ROOT / "bench" / name)
        (root / "bench" / "render.toml").write_text(_toml(tree))
        with serve(root) as base:
            yield base


@contextmanager
def git_tree(ref: str) -> Iterator[Path]:
    """The files of commit `ref`, in a temporary directory."""
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True)
    with tempfile.TemporaryDirectory(prefix="parlance-before-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


TRACE_CATEGORIES = ["disabled-by-default-devtools.timeline", "blink.user_timing"]


def stream_tasks_cpu(trace: bytes) -> dict[str, float]:
    """The renderer main thread's tasks between the page's stream marks, from a Chrome trace:
    the longest in CPU time and the longest in wall time (each with the other's figure)."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"
    }
    marks = {e["name"]: e["ts"] for e in events if e.get("name", "").startswith("render:stream-")}
    start, end = marks["render:stream-start"], marks["render:stream-end"]
    tasks = [
        e
        for e in events
        if e.get("name") == "RunTask"
        and e.get("ph") == "X"
        and (e["pid"], e["tid"]) in mains
        and start <= e["ts"] <= end
    ]
    by_cpu = max(tasks, key=lambda e: e.get("tdur", 0))
    by_wall = max(tasks, key=lambda e: e["dur"])
    return {
        "longest_task_cpu_ms": by_cpu.get("tdur", 0) / 1000,
        "longest_task_cpu_ms_wall": by_cpu["dur"] / 1000,
        "longest_task_wall_ms": by_wall["dur"] / 1000,
        "longest_task_wall_ms_cpu": by_wall.get("tdur", 0) / 1000,
    }


def one_run(browser: Browser, base: str) -> dict[str, Any]:
    page = browser.new_page()
    page.set_default_timeout(300_000)
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.goto(f"{base}bench/render.html")
    page.wait_for_selector("body[data-results]", state="attached")
    cpu = stream_tasks_cpu(browser.stop_tracing())
    page_results: dict[str, Any] = page.evaluate("JSON.parse(document.body.dataset.results)")
    frames = page.evaluate("window.__frames")
    longtasks = page.evaluate("window.__longtasks")
    page.close()
    start, end = page_results["stream_start_ms"], page_results["stream_end_ms"]
    streamed = [t for t in frames if start <= t <= end]
    gaps = [b - a for a, b in itertools.pairwise(streamed)]
    renders = [(count, ms) for count, ms in page_results["frames"] if count > 0]
    total = page_results["tokens"]
    first = [ms for count, ms in renders if count <= TOKENS_PER_SECTION]
    last = [ms for count, ms in renders if count > total - TOKENS_PER_SECTION]
    finished = [ms for count, ms in page_results["frames"] if count == -1]
    # When token 200 was shown: the first section includes Pygments' first import.
    after_200 = page_results["token_200_ms"]
    return {
        "render_ms_at_100": statistics.median(first),
        "render_ms_at_2000": statistics.median(last),
        "render_ratio_2000_vs_100": statistics.median(last) / statistics.median(first),
        "render_ms_max": max(ms for _, ms in renders),
        "render_ms_max_at_token": float(max(renders, key=lambda r: r[1])[0]),
        "render_ms_max_after_token_200": max(ms for count, ms in renders if count > 200),
        "finished_render_ms": finished[0] if finished else float("nan"),
        "longest_frame_gap_ms": max(gaps),
        "longest_frame_gap_ms_after_token_200": max(
            (b - a for a, b in itertools.pairwise(streamed) if a >= after_200), default=0.0
        ),
        "longest_task_ms": max((d for s, d in longtasks if start <= s <= end), default=0.0),
        **cpu,
        "frames_rendered": float(len(renders)),
        "code_blocks": float(page_results["code_blocks"]),
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", help="a git ref whose app/ to measure too, alternating")
    args = parser.parse_args()
    with ExitStack() as stack, sync_playwright() as p:
        bases = {"after": stack.enter_context(site(ROOT))}
        if args.before:
            bases["before"] = stack.enter_context(site(stack.enter_context(git_tree(args.before))))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in bases}
        for _ in range(args.rounds):
            for name, base in reversed(bases.items()):  # before, then after, alternating
                runs[name].append(one_run(browser, base))
                print(name, {k: round(v, 2) for k, v in runs[name][-1].items()}, flush=True)
        browser.close()
    load_after = os.getloadavg()[0]
    results: dict[str, Any] = {
        "tokens": 2000,
        "token_ms": 8,
        "rounds": args.rounds,
        # Other work on the machine stretches frames: the 1-minute load average, before and
        # after (2 cores: a load over 2 means waiting for a core).
        "load_average": [round(load_before, 2), round(load_after, 2)],
        **{name: medians(rs) for name, rs in runs.items()},
        "runs": runs,
    }
    if args.before:
        results["before_ref"] = args.before
    write_results("render", results)


if __name__ == "__main__":
    main()
