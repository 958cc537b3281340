"""Foundation figures: cold time to data-ready, first-token time and tokens per second of
tiny-chat-a on wasm and on WebGPU, and the size of vendor/.

Usage: .venv/bin/python bench/foundation.py [--runs 5]
Writes bench/results/foundation.json. Each figure is the median of `runs` fresh browser
contexts (cold: empty HTTP cache, empty Cache Storage).
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import Browser, sync_playwright

PROMPT = "Tell me a story"


def one_run(browser: Browser, url: str) -> dict[str, float]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('[data-testid=app][data-ready="true"]', timeout=120_000)
    ready_ms = page.evaluate("performance.getEntriesByName('parlance:ready')[0].startTime")
    paint_ms = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN"
    )
    page.wait_for_selector('[data-testid=model-status][data-state="ready"]', timeout=120_000)
    page.get_by_test_id("chat-input").fill(PROMPT)
    page.get_by_test_id("chat-input").press("Enter")
    page.wait_for_selector(
        '[data-testid=message][data-role=assistant][data-status="done"]', timeout=120_000
    )
    metrics = page.get_by_test_id("metrics")
    figures = {
        "first_paint_ms": float(paint_ms),
        "ready_ms": float(ready_ms),
        "first_token_ms": float(metrics.get_attribute("data-first-token-ms") or "nan"),
        "tokens_per_second": float(metrics.get_attribute("data-tokens-per-second") or "nan"),
        "response_ms": float(metrics.get_attribute("data-response-ms") or "nan"),
        "reply_words": float(len(page.get_by_test_id("message").last.inner_text().split())),
    }
    context.close()
    return figures


def median(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {"model": "tinylm/tiny-chat-a", "prompt": PROMPT, "runs": args.runs}
    with serve() as base, sync_playwright() as p:
        for device, extra in (("wasm", []), ("webgpu", ["--enable-unsafe-webgpu"])):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + extra)
            runs = [one_run(browser, f"{base}?device={device}#/chat") for _ in range(args.runs)]
            browser.close()
            results[device] = {k: median(runs, k) for k in runs[0]}
    vendor = ROOT / "vendor"
    results["vendor_bytes"] = sum(p.stat().st_size for p in vendor.rglob("*") if p.is_file())
    write_results("foundation", results)


if __name__ == "__main__":
    main()
