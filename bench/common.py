"""Shared pieces of the benchmarks: the site on loopback and Chromium as the tests launch it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import chromium  # noqa: E402
from tools.serve import make_server  # noqa: E402

CHROMIUM = str(chromium.CHROMIUM)
ARGS = chromium.QUIET_ARGS


@contextmanager
def serve(root: Path = ROOT) -> Iterator[str]:
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()}, {chromium.strip()}"


def write_results(name: str, results: dict[str, Any]) -> None:
    out = ROOT / "bench/results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    print(json.dumps(results, indent=2))
