"""Cold start-up of Parlance at a git ref against this tree, and of the bare PyScript page.

bench/suite.py gives this tree's ratio to the bare PyScript page (issue 12, target 7); this
runs the commit before a change too, alternating in one run, so that the machine's load hits
every page alike. Each load is a new browser context (nothing cached) with service workers
blocked; the figure is the time to the page's ready mark.

Writes bench/results/startup_ab.json. Usage: .venv/bin/python bench/startup_ab.py
[--rounds 7] [--before main]
"""

from __future__ import annotations

import argparse
import os
import statistics
from contextlib import ExitStack
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import sync_playwright
from render import git_tree
from suite import startup_once


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", default="main")
    args = parser.parse_args()
    with ExitStack() as stack, sync_playwright() as p:
        before = stack.enter_context(git_tree(args.before))
        (before / "vendor").symlink_to(ROOT / "vendor")
        bases = {
            "before": stack.enter_context(serve(before)),
            "after": stack.enter_context(serve()),
        }
        pages = {
            "before": (bases["before"] + "?device=wasm#/chat", "parlance:ready"),
            "after": (bases["after"] + "?device=wasm#/chat", "parlance:ready"),
            "floor": (bases["after"] + "bench/floor/index.html", "floor:ready"),
        }
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        load_before = os.getloadavg()[0]
        samples: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, (url, mark) in pages.items():
                context = browser.new_context(service_workers="block")
                page = context.new_page()
                samples[name].append(round(startup_once(page, url, mark)["ready_ms"], 1))
                context.close()
            print({name: values[-1] for name, values in samples.items()}, flush=True)
        load_after = os.getloadavg()[0]
        browser.close()
    ready = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    result: dict[str, Any] = {
        "rounds": args.rounds,
        "before_ref": args.before,
        "ready_ms": ready,
        "ratio_before": round(ready["before"] / ready["floor"], 3),
        "ratio_after": round(ready["after"] / ready["floor"], 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "samples": samples,
    }
    write_results("startup_ab", result)


if __name__ == "__main__":
    main()
