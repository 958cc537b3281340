"""How the tests and the benchmarks start Chromium: Debian's build, headless, quiet offline.

Without the background-networking flags Chromium keeps trying to reach the internet
(../shared/STACK-NOTES.md); /dev/shm in containers is small, hence --disable-dev-shm-usage.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
QUIET_ARGS = [
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
