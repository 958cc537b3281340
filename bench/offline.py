"""Start-up with the service worker: first visit, second visit (worker warm), network off.

Each run, in turn (alternating, medians reported):
- `first_visit`: a fresh profile (no HTTP cache, no worker), service workers allowed: time to
  `data-ready`, then how long the worker takes to cache the shell in the background
  (`data-offline="ready"`), which must not slow the start;
- `second_visit_sw`: a new tab of that profile, now controlled by the worker (shell from its
  cache);
- `offline`: a new tab of that profile with the network off: Playwright's `set_offline`, and
  every request aborted at the context (which also sees the worker's own fetches, unlike
  `set_offline`);
- `first_visit_no_sw` and `second_visit_http_cache`: the same two visits with service workers
  blocked (what the app did before: the second start relies on the HTTP cache, revalidating
  every file, as tools/serve.py asks with `no-cache`).

Time to ready is the `parlance:ready` performance mark (from navigation start). Writes
bench/results/offline.json.

Usage: .venv/bin/python bench/offline.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from suite import median

from tools.precache import write_precache

URL = "?device=wasm#/chat"
MARK = "parlance:ready"
CONTROLLED = "navigator.serviceWorker.controller !== null"


def ready_ms(page: Page) -> float:
    page.goto(URL)
    page.wait_for_function(f"performance.getEntriesByName('{MARK}').length > 0")
    return float(page.evaluate(f"performance.getEntriesByName('{MARK}')[0].startTime"))


def new_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(300_000)
    return page


def with_worker(browser: Browser, base: str) -> dict[str, float]:
    context = browser.new_context(base_url=base, service_workers="allow")
    first = new_page(context)
    figures = {"first_visit": ready_ms(first)}
    started = time.perf_counter()
    first.wait_for_selector('[data-testid=app][data-offline="ready"]')
    figures["shell_cached_after_ready_ms"] = (time.perf_counter() - started) * 1000
    first.close()

    second = new_page(context)
    figures["second_visit_sw"] = ready_ms(second)
    assert second.evaluate(CONTROLLED), "the second visit was not served by the worker"
    second.close()

    aborted: list[str] = []

    def no_network(route: Route) -> None:
        aborted.append(route.request.url)
        route.abort("internetdisconnected")

    context.route("**/*", no_network)
    context.set_offline(True)
    offline = new_page(context)
    figures["offline"] = ready_ms(offline)
    assert offline.evaluate(CONTROLLED) and not offline.evaluate("navigator.onLine")
    figures["offline_requests_refused"] = float(len(aborted))
    context.close()
    return figures


def without_worker(browser: Browser, base: str) -> dict[str, float]:
    context = browser.new_context(base_url=base, service_workers="block")
    first = new_page(context)
    figures = {"first_visit_no_sw": ready_ms(first)}
    first.close()
    figures["second_visit_http_cache"] = ready_ms(new_page(context))
    context.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    shell = write_precache(ROOT)  # as `make` does: the version of the files as they are now
    samples: list[dict[str, float]] = []
    load_before = os.getloadavg()[0]
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(runs):  # alternate: with and without the worker, in the same run
            samples.append({**with_worker(browser, base), **without_worker(browser, base)})
        browser.close()
    result: dict[str, Any] = {
        "runs": runs,
        # The machine is shared: absolute times move with its load, the ratios much less.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "shell_files": len(shell["files"]),
        "shell_mb": round(shell["bytes"] / 1e6, 1),
    }
    result.update({key: median([s[key] for s in samples]) for key in samples[0]})
    result["ratio_second_visit_sw_vs_first"] = round(
        result["second_visit_sw"] / result["first_visit"], 3
    )
    result["ratio_second_visit_sw_vs_http_cache"] = round(
        result["second_visit_sw"] / result["second_visit_http_cache"], 3
    )
    result["ratio_offline_vs_first"] = round(result["offline"] / result["first_visit"], 3)
    write_results("offline", result)


if __name__ == "__main__":
    main()
