"""`vendor/app.zip`: the app's Python package in one file, with its byte code.

Why: PyScript fetched every module of app/ as a file of its own (about 90 requests at start),
and Python compiled each one on every page load and again in the engine worker. One zip,
unpacked by PyScript at start (pyscript.toml: `"./vendor/app.zip" = "./*"`), holds every
module's source and the byte code Pyodide's own Python compiled for it (tools/app_bundle.mjs,
run by Node): start-up makes one request and compiles nothing (BENCHMARKS.md, start-up).

The byte code is checked against its source's hash when imported, so a stale .pyc is ignored,
never run. The zip's comment is a digest of the sources: `make run`/`make test` rebuild it
when app/ changed, and `tools/serve.py --fresh` (make run) when the page asks for it, so an
edit shows on the next reload.
"""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_BUNDLE = "vendor/app.zip"


def sources_digest(root: Path = ROOT) -> str:
    """A digest of app/'s Python sources (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted((root / "app").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def bundled_digest(root: Path = ROOT) -> str | None:
    """The digest of the sources the zip was built from (None: there is no zip)."""
    try:
        with zipfile.ZipFile(root / APP_BUNDLE) as archive:
            return archive.comment.decode()
    except (OSError, zipfile.BadZipFile):
        return None


def write_app_bundle(root: Path = ROOT) -> bool:
    """Build `root`'s vendor/app.zip unless it holds the current sources. True if rebuilt."""
    digest = sources_digest(root)
    if bundled_digest(root) == digest:
        return False
    out = root / APP_BUNDLE
    out.parent.mkdir(parents=True, exist_ok=True)
    node = ["node", str(ROOT / "tools" / "app_bundle.mjs"), str(root), str(out), digest]
    subprocess.run(node, check=True)
    return True
