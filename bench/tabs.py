"""What a second tab costs: tabs do not share a loaded model, so each holds its own copy.

Measures the proportional set size (PSS) of every Chromium process, with one tab ready and no
model, one tab with the model loaded, then a second tab with the same model loaded, and how
long the second tab's load took. Writes bench/results/tabs.json.

Usage: .venv/bin/python bench/tabs.py [--model local-build/SmolLM2-135M-Instruct]
"""

from __future__ import annotations

import argparse
import time

from common import ARGS, CHROMIUM, serve, write_results
from playwright.sync_api import Page, sync_playwright
from suite import READY, REAL_MODEL, browser_pss_mb, profile_hint, wait_model


def open_with_model(page: Page, model: str) -> float:
    """Open a chat on `model` and return how long loading it took (ms)."""
    started = time.perf_counter()
    page.goto("?device=wasm#/chat")
    page.wait_for_selector(READY)
    page.get_by_test_id("model-select").select_option(model)
    wait_model(page, model)
    return round((time.perf_counter() - started) * 1000)


def settle_memory() -> None:
    time.sleep(2)  # let the allocator return freed pages before reading PSS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=REAL_MODEL)
    model = parser.parse_args().model
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        hint = profile_hint()
        context = browser.new_context(base_url=base, service_workers="block")
        first = context.new_page()
        first.goto("?device=wasm#/chat")
        first.wait_for_selector(READY)
        settle_memory()
        idle = browser_pss_mb(hint)
        first_load_ms = open_with_model(first, model)
        settle_memory()
        one = browser_pss_mb(hint)
        second = context.new_page()
        second_load_ms = open_with_model(second, model)
        settle_memory()
        two = browser_pss_mb(hint)
        browser.close()
    write_results(
        "tabs",
        {
            "model": model,
            "pss_mb_one_tab_no_model": idle,
            "pss_mb_one_tab_with_model": one,
            "pss_mb_two_tabs_with_model": two,
            "second_tab_cost_mb": round(two - one, 1),
            "first_tab_load_ms": first_load_ms,
            "second_tab_load_ms": second_load_ms,
        },
    )


if __name__ == "__main__":
    main()
