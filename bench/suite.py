"""`make bench`: Parlance measured against plain transformers.js and the platform's floor.

Every comparison alternates A and B in the same run and reports medians. Writes
bench/results/<name>.json for each benchmark, then BENCHMARKS.md and bench/results/chart.png
(bench/report.py).

Usage: .venv/bin/python bench/suite.py [--runs 5] [--model local-build/SmolLM2-135M-Instruct]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

REAL_MODEL = "local-build/SmolLM2-135M-Instruct"
OTHER_MODEL = "tinylm/tiny-chat-b"
PROMPT = "Tell me about the sea."
NEW_TOKENS = 128
READY = '[data-testid=app][data-ready="true"]'

# In-page instruments, installed before any script of the page runs.
INSTRUMENTS = """
(() => {
  window.__longtasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  // Frames actually produced: a gap between two is time the main thread could not paint.
  window.__frames = [];
  const frame = (t) => { window.__frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  window.__watch = (selector) => {
    const w = { first: null, last: null, length: 0 };
    window.__watched = w;
    const obs = new MutationObserver(() => {
      const nodes = document.querySelectorAll(selector);
      const node = nodes[nodes.length - 1];
      if (!node) return;
      const len = node.textContent.trim().length;
      if (len > 0 && w.first === null) w.first = performance.now();
      if (len !== w.length) { w.length = len; w.last = performance.now(); }
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true });
  };
})();
"""


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


@contextmanager
def bench_site(model: str, tree: Path = ROOT) -> Iterator[tuple[str, str]]:
    """The repository (or `tree`, another commit's files, with this tree's vendor/ and models)
    served with a benchmark catalog: `model` forced to NEW_TOKENS greedy."""
    with tempfile.TemporaryDirectory(prefix="parlance-bench-") as tmp:
        root = Path(tmp)
        for entry in tree.iterdir():
            if entry.name not in {".git", "node_modules", ".venv", ".venv-models", "vendor"}:
                (root / entry.name).symlink_to(entry)
        (root / "vendor").symlink_to(ROOT / "vendor")
        catalog_dir = root / "bench-models"
        catalog_dir.mkdir()
        for org in {model.split("/")[0], OTHER_MODEL.split("/")[0]}:
            (catalog_dir / org).symlink_to(ROOT / "models" / org)
        generation = {
            "max_new_tokens": NEW_TOKENS,
            "min_new_tokens": NEW_TOKENS,
            "do_sample": False,
        }
        catalog = {
            # The default is the small model: the benchmarked one loads only when asked for.
            "default": OTHER_MODEL,
            "presets": {},
            "models": [
                {"id": model, "label": "Benchmarked", "source": "local", "dtype": "q8",
                 "generation": generation},
                {"id": OTHER_MODEL, "label": "Other", "source": "local", "dtype": "q8"},
            ],
        }  # fmt: skip
        (catalog_dir / "catalog.json").write_text(json.dumps(catalog))
        with serve(root) as base:
            yield base, "bench-models/catalog.json"


def new_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.add_init_script(INSTRUMENTS)
    page.set_default_timeout(600_000)
    return page


# -- throughput and responsiveness ---------------------------------------------------------


def stream_figures(page: Page, t0: float, tokens: int, keys: list[float]) -> dict[str, float]:
    watched = page.evaluate("window.__watched")
    first, last = watched["first"], watched["last"]
    longtasks = [d for start, d in page.evaluate("window.__longtasks") if start >= first]
    frames = [t for t in page.evaluate("window.__frames") if first <= t <= last]
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    return {
        "first_token_ms": first - t0,
        "tokens_per_second": (tokens - 1) * 1000.0 / (last - first) if last > first else 0.0,
        "longtasks_after_first_token": float(len(longtasks)),
        "longest_task_ms": max(longtasks, default=0.0),
        "longest_frame_gap_ms": max(gaps, default=last - first),
        "key_delay_ms_max": max(keys, default=float("nan")),
        "key_delay_ms_median": statistics.median(keys) if keys else float("nan"),
    }


def type_while_streaming(page: Page, target: str) -> list[float]:
    """Press keys into `target` while the reply streams; how long each took to be handled.

    Playwright's key press returns once the page has handled the key event, so the time a
    press takes is the delay a person would feel (plus about a millisecond of CDP)."""
    page.wait_for_function("window.__watched && window.__watched.first !== null")
    page.focus(target)
    delays = []
    for key in "typing":
        started = time.perf_counter()
        page.keyboard.press(key)
        delays.append((time.perf_counter() - started) * 1000)
        page.wait_for_timeout(80)
    return delays


def parlance_turn(page: Page, model: str) -> dict[str, float]:
    page.get_by_test_id("new-chat").click()
    page.wait_for_function("location.hash === '#/chat'")
    page.get_by_test_id("model-select").select_option(model)
    page.wait_for_selector(f'[data-testid=model-status][data-model="{model}"][data-state="ready"]')
    page.evaluate("window.__longtasks = [];")
    page.evaluate(
        "window.__watch('[data-testid=message][data-role=assistant] [data-testid=message-content]')"
    )
    t0 = page.evaluate(
        """(prompt) => {
          const input = document.querySelector('[data-testid=chat-input]');
          input.value = prompt;
          const t0 = performance.now();
          input.form.requestSubmit();
          return t0;
        }""",
        PROMPT,
    )
    keys = type_while_streaming(page, "[data-testid=chat-input]")
    page.wait_for_selector('[data-testid=message][data-role=assistant][data-status="done"]')
    page.wait_for_timeout(100)
    figures = stream_figures(page, t0, NEW_TOKENS, keys)
    page.fill("[data-testid=chat-input]", "")
    return figures


def baseline_turn(page: Page) -> dict[str, float]:
    page.evaluate("window.__longtasks = [];")
    page.evaluate("window.__watch('#reply')")
    done = int(page.evaluate("Number(document.body.dataset.done ?? 0)"))
    t0 = page.evaluate(
        "([p, n]) => { const t0 = performance.now(); window.generate(p, n); return t0; }",
        [PROMPT, NEW_TOKENS],
    )
    keys = type_while_streaming(page, "#typing")
    page.wait_for_function(f"Number(document.body.dataset.done ?? 0) > {done}")
    page.wait_for_timeout(100)
    return stream_figures(page, t0, NEW_TOKENS, keys)


def throughput(browser: Browser, base: str, catalog: str, model: str, runs: int) -> dict[str, Any]:
    context = browser.new_context(base_url=base, service_workers="block")
    # Parlance as served (cross-origin isolated: the engine worker with one wasm thread per
    # core), and the same page not isolated (`isolation=off`: the engine worker on one thread).
    parlances = {}
    for name, query in (("parlance", ""), ("parlance_2threads", "&threads=2")):
        parlances[name] = new_page(context)
        parlances[name].goto(f"?device=wasm&catalog={catalog}{query}#/chat")
        parlances[name].wait_for_selector(READY)
        print(f"   {name} ready", flush=True)
    # The baseline with transformers.js's defaults (inference on the main thread) on one
    # thread; the same page with onnxruntime's proxy worker; and on two threads.
    baselines = {}
    for name, query in (
        ("baseline", ""),
        ("baseline_proxy", "&proxy=1"),
        ("baseline_2threads", "&threads=2"),
    ):
        baselines[name] = new_page(context)
        baselines[name].goto(f"bench/baseline/index.html?model={model}&dtype=q8{query}")
        baselines[name].wait_for_selector("body[data-ready=true]")
        print(f"   {name} ready", flush=True)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in [*parlances, *baselines]}
    for _ in range(runs):  # alternate A and B in the same run
        for name, page in parlances.items():
            page.bring_to_front()
            samples[name].append(parlance_turn(page, model))
            print(f"   {name}: {samples[name][-1]['tokens_per_second']:.2f} tok/s", flush=True)
        for name, page in baselines.items():
            page.bring_to_front()
            samples[name].append(baseline_turn(page))
            print(f"   {name}: {samples[name][-1]['tokens_per_second']:.2f} tok/s", flush=True)
    context.close()
    result: dict[str, Any] = {"runs": runs, "prompt": PROMPT, "new_tokens": NEW_TOKENS}
    for side, rows in samples.items():
        result[side] = {k: median([r[k] for r in rows]) for k in rows[0]}
        result[f"{side}_samples"] = rows
    p, b = result["parlance"], result["baseline"]
    result["ratio_tokens_per_second"] = round(p["tokens_per_second"] / b["tokens_per_second"], 3)
    result["ratio_first_token"] = round(p["first_token_ms"] / b["first_token_ms"], 3)
    bp = result["baseline_proxy"]
    result["ratio_tokens_per_second_vs_proxy"] = round(
        p["tokens_per_second"] / bp["tokens_per_second"], 3
    )
    result["ratio_first_token_vs_proxy"] = round(p["first_token_ms"] / bp["first_token_ms"], 3)
    # Threads: Parlance on two wasm threads against the one-thread baseline and against
    # Parlance as served (one per core but one), and the baseline's own two-thread speed-up.
    p2, b2 = result["parlance_2threads"], result["baseline_2threads"]
    result["ratio_tokens_per_second_2threads"] = round(
        p2["tokens_per_second"] / b["tokens_per_second"], 3
    )
    result["threads_speedup"] = round(p2["tokens_per_second"] / p["tokens_per_second"], 3)
    result["baseline_threads_speedup"] = round(b2["tokens_per_second"] / b["tokens_per_second"], 3)
    result["ratio_tokens_per_second_vs_2threads"] = round(
        p2["tokens_per_second"] / b2["tokens_per_second"], 3
    )
    return result


# -- start-up ---------------------------------------------------------------------------------


# Parlance's marks on the way to ready (index.html): Python running, the app imported.
STARTUP_PARTS = {"python_ms": "parlance:python", "imported_ms": "parlance:imported"}


def startup_once(page: Page, url: str, mark: str) -> dict[str, float]:
    page.goto(url)
    page.wait_for_function(f"performance.getEntriesByName('{mark}').length > 0")
    marks = {"first_paint_ms": "first-contentful-paint", "ready_ms": mark}
    if mark == "parlance:ready":
        marks |= STARTUP_PARTS
    return dict(
        page.evaluate(
            """(marks) => Object.fromEntries(Object.entries(marks).map(([key, name]) =>
                 [key, performance.getEntriesByName(name)[0]?.startTime ?? NaN]))""",
            marks,
        )
    )


def startup(browser: Browser, base: str, runs: int) -> dict[str, Any]:
    pages = {
        "parlance": ("?device=wasm#/chat", "parlance:ready"),
        "floor": ("bench/floor/index.html", "floor:ready"),
    }
    samples: dict[str, list[dict[str, float]]] = {
        f"{k}_{c}": [] for k in pages for c in ("cold", "warm")
    }
    for _ in range(runs):
        for name, (url, mark) in pages.items():
            context = browser.new_context(base_url=base, service_workers="block")
            page = context.new_page()
            samples[f"{name}_cold"].append(startup_once(page, url, mark))
            page.close()
            warm = context.new_page()
            samples[f"{name}_warm"].append(startup_once(warm, url, mark))
            context.close()
    result: dict[str, Any] = {"runs": runs}
    for key, rows in samples.items():
        result[key] = {k: median([r[k] for r in rows]) for k in rows[0]}
    for cache in ("cold", "warm"):
        ratio = result[f"parlance_{cache}"]["ready_ms"] / result[f"floor_{cache}"]["ready_ms"]
        result[f"ratio_ready_{cache}"] = round(ratio, 3)
    return result


# -- switching and memory ---------------------------------------------------------------------


def browser_pss_mb(browser_pid_hint: str) -> float:
    """Proportional set size of every process of this Chromium (found by its profile dir)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            if browser_pid_hint not in cmdline:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def profile_hint() -> str:
    """The temporary profile directory of the newest Playwright Chromium."""
    newest = max(Path(tempfile.gettempdir()).glob("playwright_chromiumdev_profile-*"),
                 key=lambda p: p.stat().st_mtime)  # fmt: skip
    return newest.name


def wait_model(page: Page, model: str) -> None:
    page.wait_for_selector(f'[data-testid=model-status][data-model="{model}"][data-state="ready"]')
    page.wait_for_function(
        f"document.querySelector('[data-testid=app]').dataset.loadedModel === '{model}'"
    )


def loads(page: Page) -> int:
    return int(page.evaluate("document.querySelector('[data-testid=app]').dataset.modelLoads"))


def start_chat(page: Page, model: str) -> tuple[str, float]:
    """A new chat on `model` with one exchange: its id, and how long the model took to load."""
    page.get_by_test_id("new-chat").click()
    page.wait_for_function("location.hash === '#/chat'")
    started = time.perf_counter()
    page.get_by_test_id("model-select").select_option(model)
    wait_model(page, model)
    elapsed = (time.perf_counter() - started) * 1000
    page.get_by_test_id("chat-input").fill("hi")
    page.get_by_test_id("chat-input").press("Enter")
    page.wait_for_function("/^#\\/chat\\/\\w+$/.test(location.hash)")
    page.wait_for_selector('[data-testid=message][data-role=assistant][data-status="done"]')
    return str(page.evaluate("location.hash.split('/').pop()")), elapsed


def go(page: Page, ids: list[str], gap_ms: int) -> None:
    page.evaluate(
        """async ([ids, gap]) => {
          for (const id of ids) {
            location.hash = `#/chat/${id}`;
            await new Promise((r) => setTimeout(r, gap));
          }
        }""",
        [ids, gap_ms],
    )


def switching(browser: Browser, base: str, catalog: str, model: str) -> dict[str, Any]:
    context = browser.new_context(base_url=base, service_workers="block")
    page = new_page(context)
    # Open on the small model, so the benchmarked one's first load is measured from the selector.
    page.goto(f"?device=wasm&catalog={catalog}#/chat")
    page.wait_for_selector(READY)
    wait_model(page, OTHER_MODEL)
    big, big_first_ms = start_chat(page, model)
    small, small_first_ms = start_chat(page, OTHER_MODEL)
    hint = profile_hint()
    sequences = {
        "to the other chat": [big],
        "back and forth, 1 s apart": [small, big, small],
        "flurry of 6, 60 ms apart": [big, small, big, small, big, small],
    }
    result: dict[str, Any] = {"sequences": {}}
    gaps = {"back and forth, 1 s apart": 1000, "flurry of 6, 60 ms apart": 60}
    for name, ids in sequences.items():
        before = loads(page)
        started = time.perf_counter()
        go(page, ids, gaps.get(name, 0))
        final_model = model if ids[-1] == big else OTHER_MODEL
        wait_model(page, final_model)
        result["sequences"][name] = {
            "route_changes": len(ids),
            "loads": loads(page) - before,
            "ms_until_final_model_ready": round((time.perf_counter() - started) * 1000, 1),
        }
    # A model already in the browser cache vs a first load (measured above, from the selector).
    go(page, [small], 0)
    wait_model(page, OTHER_MODEL)
    started = time.perf_counter()
    go(page, [big], 0)
    wait_model(page, model)
    result["load_ms_first"] = round(big_first_ms, 1)
    result["load_ms_cached"] = round((time.perf_counter() - started) * 1000, 1)
    result["small_model_load_ms_first"] = round(small_first_ms, 1)
    # Memory: after the first switch, then after ten.
    go(page, [small], 0)
    wait_model(page, OTHER_MODEL)
    page.wait_for_timeout(1000)
    after_first = browser_pss_mb(hint)
    for i in range(9):
        target, target_model = (big, model) if i % 2 == 0 else (small, OTHER_MODEL)
        go(page, [target], 0)
        wait_model(page, target_model)
    go(page, [small], 0)
    wait_model(page, OTHER_MODEL)
    page.wait_for_timeout(1000)
    after_ten = browser_pss_mb(hint)
    result["memory_mb_after_first_switch"] = after_first
    result["memory_mb_after_ten_switches"] = after_ten
    result["memory_ratio"] = round(after_ten / after_first, 3) if after_first else None
    context.close()
    return result


# -- main -------------------------------------------------------------------------------------


def run_all(args: argparse.Namespace) -> None:
    from storage import run as storage_run

    benches: dict[str, Callable[..., dict[str, Any]]] = {}
    with bench_site(args.model) as (base, catalog), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        benches["throughput"] = lambda: throughput(browser, base, catalog, args.model, args.runs)
        benches["startup"] = lambda: startup(browser, base, args.runs)
        benches["switching"] = lambda: switching(browser, base, catalog, args.model)
        for name, bench in benches.items():
            if args.only and name not in args.only:
                continue
            print(f"== {name}", flush=True)
            write_results(name, {"model": args.model, **bench()})
        browser.close()
    if not args.only or "storage" in args.only:
        print("== storage", flush=True)
        storage_run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=REAL_MODEL)
    parser.add_argument("--only", action="append", help="throughput, startup, switching, storage")
    args = parser.parse_args()
    if not (ROOT / "models" / args.model / "config.json").exists():
        raise SystemExit(f"{args.model} is not built: run `make real-model` first")
    run_all(args)
    from report import write_report

    write_report()


if __name__ == "__main__":
    main()
