"""The offline shell as data: the build's precache manifest, worker versions, and what the
page should say about them.

Why here: the service worker's lifecycle (installing, waiting, active, replaced in another tab)
is a handful of states that decide one thing the user sees, the "new version" banner. Deciding
it from plain values keeps that logic testable in CPython; app/browser/offline.py only reads
the values off the browser's ServiceWorkerRegistration, and app/ui/update_banner.py shows the
result. The manifest itself is written by tools/precache.py (see there for what is in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PRECACHE_URL = "vendor/precache.json"
WORKER_URL = "sw.js"

# What the page's offline shell is doing:
# - unsupported: no service worker here (an insecure origin, a browser or test that blocks it)
# - unavailable: the site has no usable precache manifest (deployed without vendor/), or the
#   network is off on a first visit: the app runs, but will not start offline
# - installing: the first visit's worker is caching the shell
# - ready: a worker holds a whole shell: a reload starts with the network off
# - updating: a worker holds a shell and a newer version is being cached beside it
# - update-ready: a newer version is cached and waits for the user to take it
# - updated-elsewhere: another tab took a newer version; this page still runs the old one
# - failed: no worker could cache the shell (a file missing or changed since the build)
ShellStatus = Literal[
    "unsupported",
    "unavailable",
    "installing",
    "ready",
    "updating",
    "update-ready",
    "updated-elsewhere",
    "failed",
]


class PrecacheError(ValueError):
    """The precache manifest is not one tools/precache.py writes."""


@dataclass(frozen=True)
class Precache:
    version: str
    files: tuple[str, ...]
    bytes: int


def parse_precache(raw: object) -> Precache:
    """Read vendor/precache.json, refusing anything that is not the build's manifest."""
    if not isinstance(raw, dict):
        raise PrecacheError("it is not a JSON object")
    version = raw.get("version")
    if not isinstance(version, str) or not version or not version.isalnum():
        raise PrecacheError("its version is missing or not alphanumeric")
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        raise PrecacheError("it lists no files")
    urls: list[str] = []
    for entry in files:
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url or url.startswith("/") or "://" in url:
            raise PrecacheError(f"{entry!r} is not a page-relative file")
        urls.append(url)
    size = raw.get("bytes", 0)
    return Precache(version, tuple(urls), size if isinstance(size, int) else 0)


def worker_url(version: str) -> str:
    """The page-relative URL the page registers: a new version is a new worker."""
    return f"{WORKER_URL}?v={version}"


def worker_version(script_url: str | None) -> str | None:
    """The version a registered worker was started for (its `v` parameter), if it is ours."""
    if not script_url:
        return None
    from urllib.parse import parse_qs, urlsplit  # imported when needed: see app/core/routes.py

    parts = urlsplit(script_url)
    if not parts.path.endswith("/" + WORKER_URL) and parts.path != WORKER_URL:
        return None
    values = parse_qs(parts.query).get("v")
    return values[0] if values else None


def shell_status(
    *, active: str | None, waiting: str | None, installing: str | None, failed: bool = False
) -> ShellStatus:
    """The status of a registration from the versions of its three workers (None: no worker).

    A waiting worker is a newer version ready to take over; an active one holds a whole shell
    (a worker only activates after caching all of it), so the page starts offline whatever
    else is under way.
    """
    if waiting is not None:
        return "update-ready"
    if active is not None:
        return "updating" if installing is not None and installing != active else "ready"
    if installing is not None:
        return "installing"
    return "failed" if failed else "unavailable"


@dataclass(frozen=True)
class UpdateNotice:
    """What the update banner says, and whether its button must first switch workers."""

    text: str
    activate: bool


def update_notice(status: ShellStatus) -> UpdateNotice | None:
    """The banner for a status, or None when there is nothing to offer."""
    if status == "update-ready":
        return UpdateNotice("A new version of Parlance is ready.", activate=True)
    if status == "updated-elsewhere":
        return UpdateNotice(
            "Parlance was updated in another tab. Reload to use the new version.", activate=False
        )
    return None
