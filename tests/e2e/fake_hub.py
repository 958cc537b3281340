"""The Hugging Face hub, answered from model folders on this machine (Playwright routing).

`https://huggingface.co/<repo>/resolve/main/<file>` is served from the folder the test maps the
repo to, the way the hub serves it: a ranged request (`bytes=0-0`, which transformers.js sends to
learn a file's size) gets 206 with `content-range`, a missing file 404, an unknown repo 401 (the
hub's answer for a repo that does not exist or is private). Nothing leaves the machine: every
other hub URL is aborted and recorded. A file can be held (not answered) until the test
releases it, so a download can be caught mid-way.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Route

HUB = "https://huggingface.co/"
_RESOLVE = re.compile(r"^https://huggingface\.co/([^/]+/[^/]+)/resolve/main/(.+)$")


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, Path] = {}
        self.extra: dict[tuple[str, str], bytes] = {}
        self.requests: list[str] = []
        self.unexpected: list[str] = []
        self.hold: set[str] = set()  # file names whose full download waits for release()
        self.held: list[Route] = []

    def serve(self, repo: str, folder: Path, overrides: dict[str, Any] | None = None) -> None:
        """Serve `folder` as `repo`; `overrides` replace JSON files (name -> data)."""
        self.repos[repo] = folder
        for name, data in (overrides or {}).items():
            self.extra[(repo, name)] = json.dumps(data).encode()

    def install(self, context: BrowserContext) -> None:
        context.route(f"{HUB}**", self._handle)

    def release(self) -> None:
        held, self.held = self.held, []
        self.hold.clear()
        for route in held:
            with contextlib.suppress(Exception):  # the page gave up on it (a canceled download)
                self._answer(route)

    def _handle(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        match = _RESOLVE.match(url)
        if match is None:
            self.unexpected.append(url)
            route.abort("internetdisconnected")
            return
        ranged = route.request.headers.get("range")
        if match.group(2) in self.hold and not ranged:
            self.held.append(route)
            return
        self._answer(route)

    def _answer(self, route: Route) -> None:
        match = _RESOLVE.match(route.request.url)
        assert match is not None
        repo, name = match.group(1), match.group(2)
        cors = {"access-control-allow-origin": "*", "access-control-expose-headers": "*"}
        if repo not in self.repos:
            route.fulfill(status=401, headers=cors, body="Repository not found")
            return
        body = self.extra.get((repo, name))
        if body is None:
            path = self.repos[repo] / name
            if not path.is_file():
                route.fulfill(status=404, headers=cors, body="Entry not found")
                return
            body = path.read_bytes()
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        ranged = route.request.headers.get("range")
        if ranged == "bytes=0-0":
            headers = {**cors, "content-range": f"bytes 0-0/{len(body)}", "content-type": kind}
            route.fulfill(status=206, headers=headers, body=body[:1])
            return
        route.fulfill(status=200, headers={**cors, "content-type": kind}, body=body)
