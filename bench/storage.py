"""Storage benchmark: append latency at 10 vs 10,000 messages, sidebar of 1,000 conversations.

Usage: .venv/bin/python bench/storage.py   (writes bench/results/storage.json)
"""

from __future__ import annotations

import json

from common import ARGS, CHROMIUM, serve, write_results
from playwright.sync_api import sync_playwright


def run() -> dict[str, object]:
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(f"{base}bench/storage.html")
        page.wait_for_selector("body[data-results]", state="attached", timeout=300_000)
        results = json.loads(page.locator("body").get_attribute("data-results") or "{}")
        browser.close()
    results["append_ratio_10000_vs_10"] = round(
        results["append_ms_median_at_10000"] / results["append_ms_median_at_10"], 3
    )
    write_results("storage", results)
    return results


if __name__ == "__main__":
    run()
