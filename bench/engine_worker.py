"""What the engine worker costs: memory and the time to a first ready model, by engine design.

The engine worker is a second Pyodide (app/engine_worker.js): it costs memory and a start-up
that the page's own engine (`?engine=page`, onnxruntime-web's proxy worker on wasm, the first
round's design) does not. Each run launches a fresh browser, opens the app, picks the
benchmarked model and waits until it is ready; then takes the browser's memory (PSS of all its
processes). Designs alternate; medians. Writes bench/results/engine_worker.json.

Usage: .venv/bin/python bench/engine_worker.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from common import ARGS, CHROMIUM, write_results
from playwright.sync_api import sync_playwright
from suite import READY, REAL_MODEL, bench_site, browser_pss_mb, new_page, profile_hint, wait_model

DESIGNS = {
    "worker": "",  # as served: the engine worker, threads where the page is isolated
    "worker_1thread": "&isolation=off",
    "page_proxy": "&engine=page&isolation=off",  # the first round's engine
}


def once(base: str, catalog: str, model: str, query: str) -> dict[str, float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=base, service_workers="block")
        page = new_page(context)
        page.goto(f"?device=wasm&catalog={catalog}{query}#/chat")
        page.wait_for_selector(READY)
        hint = profile_hint()
        page.wait_for_timeout(500)
        idle = browser_pss_mb(hint)
        page.get_by_test_id("new-chat").click()
        started = time.perf_counter()
        page.get_by_test_id("model-select").select_option(model)
        wait_model(page, model)
        load_ms = (time.perf_counter() - started) * 1000
        page.wait_for_timeout(1000)
        loaded = browser_pss_mb(hint)
        browser.close()
    return {"load_ms": load_ms, "pss_mb_ready_no_model": idle, "pss_mb_model_loaded": loaded}


def run(runs: int, model: str = REAL_MODEL) -> dict[str, Any]:
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in DESIGNS}
    with bench_site(model) as (base, catalog):
        for _ in range(runs):
            for name, query in DESIGNS.items():
                samples[name].append(once(base, catalog, model, query))
    result: dict[str, Any] = {"runs": runs, "model": model}
    for name, rows in samples.items():
        result[name] = {k: round(statistics.median(r[k] for r in rows), 1) for k in rows[0]}
        result[f"{name}_samples"] = rows
    w, p = result["worker"], result["page_proxy"]
    result["extra_pss_mb"] = round(w["pss_mb_model_loaded"] - p["pss_mb_model_loaded"], 1)
    result["extra_load_ms"] = round(w["load_ms"] - p["load_ms"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    write_results("engine_worker", run(args.runs))


if __name__ == "__main__":
    main()
