"""A small static file server for development and tests.

Why not `python -m http.server`: it guesses MIME types from the host's tables, and a `.mjs`
served as `text/plain` or a `.wasm` served without `application/wasm` breaks module imports
and streaming compilation. This server pins the types the app needs, binds to loopback only,
and asks the browser to revalidate so an edited file is seen on reload.

It also sends the app's Content-Security-Policy as a header, on the app's page only (index.html,
at / or at any sub-path that serves the same file): the benchmark and contract pages under
bench/ and tests/ have inline scripts of their own and no policy. The policy is not written
here: it is read from index.html's `<meta http-equiv="Content-Security-Policy">` on each request
for the page, so the header and the meta tag (which is what a plain static host delivers) cannot
drift. The header adds `frame-ancestors 'none'`, which a meta tag cannot carry.

Every response says `Cache-Control: no-cache`, so sw.js and vendor/precache.json (the offline
shell's worker and version) are always revalidated. With `--fresh-precache` (what `make run`
uses) precache.json is rebuilt from the files on disk when it is asked for, so an app file
edited while the server runs is a new version, which the page then offers as an update, instead
of the service worker serving the version cached before the edit. The same option rebuilds
vendor/app.zip (the app's Python package, tools/app_bundle.py) when the page asks for it and an
app/ module changed since it was built, so an edit shows on the next reload.

It makes the site cross-origin isolated (COOP `same-origin`, COEP `require-corp` on every
response), as a static host does through the app's service worker (sw.js): the page then has
SharedArrayBuffer, and onnxruntime-web runs wasm on several threads. A page asked for with
`?isolation=off` gets no such headers, to see the one-thread fallback; so does every page of a
server made with `isolation=False` (the service worker's own isolation is tested that way).

Usage: python3 tools/serve.py [--port 8000] [--root DIR] [--fresh-precache]
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import os
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tools/ is importable
from tools.app_bundle import APP_BUNDLE, write_app_bundle  # noqa: E402
from tools.precache import PRECACHE_URL, write_precache  # noqa: E402

_REBUILDING = threading.Lock()

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".toml": "application/toml",
    ".py": "text/x-python; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


FRAME_ANCESTORS = "frame-ancestors 'none'"


class _PolicyMeta(html.parser.HTMLParser):
    """Finds the first `<meta http-equiv="Content-Security-Policy">` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        equiv = (fields.get("http-equiv") or "").lower()
        if tag == "meta" and equiv == "content-security-policy" and self.policy is None:
            self.policy = fields.get("content") or None


def meta_policy(page: Path) -> str | None:
    """The Content-Security-Policy that `page` declares in a meta tag, if any."""
    parser = _PolicyMeta()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.policy


def header_policy(page: Path) -> str | None:
    """The header for `page`: its meta tag's policy plus what only a header can say."""
    policy = meta_policy(page)
    if policy is None:
        return None
    return f"{policy.strip().rstrip(';')}; {FRAME_ANCESTORS}"


class Handler(http.server.SimpleHTTPRequestHandler):
    app_page: Path = ROOT / "index.html"
    fresh_precache = False
    isolation = True

    def send_head(self) -> Any:
        path = self.path.split("?", 1)[0]
        if self.fresh_precache and path.endswith(("/" + PRECACHE_URL, "/" + APP_BUNDLE)):
            site = Path(self.translate_path(self.path)).parent.parent
            if (site / "index.html").is_file():
                with _REBUILDING:  # one rebuild at a time, whichever thread asks
                    write_app_bundle(site)
                    if path.endswith(PRECACHE_URL):
                        write_precache(site)
        return super().send_head()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return MIME_TYPES.get(Path(path).suffix.lower()) or super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        if self.isolation and "isolation=off" not in self.path.partition("?")[2]:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        if self._serves_app_page():
            policy = header_policy(self.app_page)
            if policy:
                self.send_header("Content-Security-Policy", policy)
        super().end_headers()

    def _serves_app_page(self) -> bool:
        target = Path(self.translate_path(self.path))
        if target.is_dir():
            target = target / "index.html"
        try:
            return target.resolve() == self.app_page.resolve()
        except OSError:
            return False

    def log_message(self, format: str, *args: object) -> None:
        if self.server_quiet:  # type: ignore[attr-defined]
            return
        super().log_message(format, *args)


def make_server(
    root: Path,
    port: int,
    quiet: bool = False,
    fresh_precache: bool = False,
    isolation: bool = True,
) -> http.server.ThreadingHTTPServer:
    # A subclass per server, so two servers with different roots never share an app page.
    fields = {
        "app_page": root / "index.html",
        "fresh_precache": fresh_precache,
        "isolation": isolation,
    }
    serving = type("AppHandler", (Handler,), fields)
    handler = functools.partial(serving, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    Handler.server_quiet = quiet  # type: ignore[attr-defined]
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Parlance on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--fresh-precache", action="store_true", help=f"rebuild {PRECACHE_URL} when asked for it"
    )
    args = parser.parse_args()
    server = make_server(args.root, args.port, args.quiet, args.fresh_precache)
    print(f"Parlance is at http://127.0.0.1:{server.server_address[1]}/  (Ctrl+C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
