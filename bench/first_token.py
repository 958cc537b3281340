"""First token of the first message of a new chat: Parlance at a git ref against this tree.

The suite's ratio (bench/suite.py) compares Parlance with a plain transformers.js page; this
compares Parlance with itself before and after a change, alternating in one run on the same
machine, so that load from other work hits both (issue 12, target 3). Each round opens a new
chat on the benchmarked model in each page, waits for it to be loaded, and times the Send (a
form submit) to the first reply text on screen, as bench/suite.py does; the baseline page's
first token is taken in the same rounds.

Writes bench/results/first_token.json. Usage: .venv/bin/python bench/first_token.py
[--rounds 7] [--before main] [--model local-build/SmolLM2-135M-Instruct]
"""

from __future__ import annotations

import argparse
import os
import statistics
from contextlib import ExitStack
from typing import Any

from common import ARGS, CHROMIUM, write_results
from playwright.sync_api import sync_playwright
from render import git_tree
from suite import READY, REAL_MODEL, baseline_turn, bench_site, new_page, parlance_turn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", default="main")
    parser.add_argument("--model", default=REAL_MODEL)
    args = parser.parse_args()
    with ExitStack() as stack, sync_playwright() as p:
        sites = {
            "before": stack.enter_context(
                bench_site(args.model, stack.enter_context(git_tree(args.before)))
            ),
            "after": stack.enter_context(bench_site(args.model)),
        }
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = {}
        for name, (base, catalog) in sites.items():
            context = browser.new_context(base_url=base, service_workers="block")
            pages[name] = new_page(context)
            pages[name].goto(f"?device=wasm&catalog={catalog}#/chat")
            pages[name].wait_for_selector(READY)
        context = browser.new_context(base_url=sites["after"][0], service_workers="block")
        pages["baseline"] = new_page(context)
        pages["baseline"].goto(f"bench/baseline/index.html?model={args.model}&dtype=q8")
        pages["baseline"].wait_for_selector("body[data-ready=true]")
        load_before = os.getloadavg()[0]
        samples: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, page in pages.items():
                page.bring_to_front()
                if name == "baseline":
                    turn = baseline_turn(page)
                else:
                    turn = parlance_turn(page, args.model)
                samples[name].append(round(turn["first_token_ms"], 1))
            print({name: values[-1] for name, values in samples.items()}, flush=True)
        load_after = os.getloadavg()[0]
        browser.close()
    medians = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    result: dict[str, Any] = {
        "model": args.model,
        "rounds": args.rounds,
        "before_ref": args.before,
        "first_token_ms": medians,
        "ratio_after_vs_before": round(medians["after"] / medians["before"], 3),
        "ratio_before_vs_baseline": round(medians["before"] / medians["baseline"], 3),
        "ratio_after_vs_baseline": round(medians["after"] / medians["baseline"], 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "samples": samples,
    }
    write_results("first_token", result)


if __name__ == "__main__":
    main()
