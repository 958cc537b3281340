"""The offline shell's manifest, `vendor/precache.json`: what the service worker caches, and
the version that names its cache.

Why a build-time list: a service worker that cached whatever the page happened to request would
mix two deployments (an old page's lazily loaded file taken from a newer deploy), and one that
guessed the list at run time could not know a file it has not seen. So the build lists every
file the app needs to start, with its size and a Subresource Integrity hash, and the version is
a hash of all of them (and of sw.js): any change to any shell file is a new version, which
`sw.js` caches into a cache of its own (`parlance-shell:<scope>:<version>`), and nothing else
is. The worker fetches each file with its `integrity`, so a file that changed on the server
between the build and the install fails the install instead of entering the wrong version.

What the shell is (`shell_files`): the page and its config (index.html, pyscript.toml, the web
app manifest), every file under app/ (Python, JS, CSS, icons), the catalogs at the top of
models/, and everything vendored under vendor/ (Pyodide, PyScript, transformers.js,
onnxruntime's wasm, DOMPurify, the in-memory IndexedDB, the wheels, local-models.json). Model
weights are not: transformers.js keeps the model files it downloads in its own Cache Storage.

`make run` and `make test` rewrite it on every run (`tools/vendor.py --local-models`), because
app/ files change without re-vendoring. It is pure file work: tested in CPython.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PRECACHE_URL = "vendor/precache.json"
# Page-relative paths at the top of the site that belong to the shell.
TOP_FILES = ("index.html", "pyscript.toml", "manifest.webmanifest")
# Hashed into the version (a new worker is a new version) but never cached by itself.
WORKER = "sw.js"
# Never part of the shell: build bookkeeping, the manifest itself, Python's byte code.
_SKIPPED_NAMES = {PRECACHE_URL.rsplit("/", 1)[1], ".stamp", ".DS_Store"}
_SKIPPED_SUFFIXES = (".pyc",)


def _walk(root: Path, folder: str) -> Iterable[str]:
    """Page-relative paths of the files under `folder` (following links, as a server does)."""
    base = root / folder
    for dirpath, dirnames, names in os.walk(base, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            if name in _SKIPPED_NAMES or name.startswith(".") or name.endswith(_SKIPPED_SUFFIXES):
                continue
            yield (Path(dirpath) / name).relative_to(root).as_posix()


def shell_files(root: Path) -> list[str]:
    """Every file the app needs to start, as sorted page-relative paths."""
    files = [name for name in TOP_FILES if (root / name).is_file()]
    files += _walk(root, "app")
    files += sorted(p.relative_to(root).as_posix() for p in (root / "models").glob("*.json"))
    files += _walk(root, "vendor")
    return sorted(set(files))


def integrity(data: bytes) -> str:
    """A Subresource Integrity value (what `fetch(url, {integrity})` checks)."""
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build_precache(root: Path) -> dict[str, Any]:
    """The manifest of `root`'s shell: {"version", "bytes", "files": [{url, bytes, integrity}]}.

    The version is a short hash over every file's path and content, and over sw.js.
    """
    entries: list[dict[str, Any]] = []
    version = hashlib.sha256()
    for path in shell_files(root):
        data = (root / path).read_bytes()
        entry = {"url": path, "bytes": len(data), "integrity": integrity(data)}
        entries.append(entry)
        version.update(f"{path}\0{entry['integrity']}\n".encode())
    worker = root / WORKER
    if worker.is_file():
        version.update(f"{WORKER}\0{integrity(worker.read_bytes())}\n".encode())
    return {
        "version": version.hexdigest()[:16],
        "bytes": sum(e["bytes"] for e in entries),
        "files": entries,
    }


def write_precache(root: Path) -> dict[str, Any]:
    """Write `root`'s vendor/precache.json (only when it changed); returns the manifest."""
    manifest = build_precache(root)
    text = json.dumps(manifest, indent=1) + "\n"
    out = root / PRECACHE_URL
    if not out.is_file() or out.read_text() != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return manifest
