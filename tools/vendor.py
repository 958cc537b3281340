"""Copy exactly the files the page needs into the served, git-ignored `vendor/` folder.

Why: the app must run offline and from any static host, so nothing may come from a CDN.
JS and wasm come from the npm registry through package-lock.json (`npm ci --ignore-scripts`
puts them in node_modules/); Python wheels come from PyPI, pinned and hash-checked in
requirements-browser.txt. This tool copies the few files the page really requests and checks
that the onnxruntime-web it copies is the exact version transformers.js pins.

It also lists the models the site's models/ folder holds into vendor/local-models.json (see
app/core/local_models.py), so the app knows at start which local models are built without
asking the server for files that may not exist. That listing is cheap: `make run` and
`make test` refresh it every time (`--local-models`), so a model built later is picked up.
The same run rewrites vendor/precache.json (tools/precache.py), the offline shell's file list
and version, since app/ files change without re-vendoring.

Usage: python3 tools/vendor.py [--local-models]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the app's pure core importable
from app.core.local_models import MANIFEST_URL, MODELS_FOLDER, manifest_from_paths  # noqa: E402
from tools.app_bundle import write_app_bundle  # noqa: E402
from tools.precache import PRECACHE_URL, write_precache  # noqa: E402

NODE = ROOT / "node_modules"
VENDOR = ROOT / "vendor"

# (source folder under node_modules, file names, destination folder under vendor/)
PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]
# onnxruntime-web's asyncify build serves wasm, webgpu and the proxy worker alike.
ORT_FILES = ["ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm"]


def _ort_dir() -> Path:
    """The onnxruntime-web that transformers.js resolves (nested copy first, as Node does)."""
    nested = NODE / "@huggingface/transformers/node_modules/onnxruntime-web"
    return nested if nested.is_dir() else NODE / "onnxruntime-web"


def _check_ort_version(ort_dir: Path) -> None:
    tjs = json.loads((NODE / "@huggingface/transformers/package.json").read_text())
    wanted = tjs["dependencies"]["onnxruntime-web"]
    have = json.loads((ort_dir / "package.json").read_text())["version"]
    if have != wanted:
        sys.exit(f"vendor: onnxruntime-web {have} installed, transformers.js pins {wanted}")


def _copy(src: Path, dst: Path) -> int:
    if not src.is_file():
        sys.exit(f"vendor: missing {src.relative_to(ROOT)}: run `npm ci --ignore-scripts` first")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if (
        not dst.exists()
        or dst.stat().st_size != src.stat().st_size
        or (dst.stat().st_mtime < src.stat().st_mtime)
    ):
        shutil.copy2(src, dst)
    return src.stat().st_size


def _wheels(dest: Path) -> int:
    """Download the pinned wheels (pip checks every hash) unless they are already there."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", "--require-hashes",
        "-r", str(ROOT / "requirements-browser.txt"), "-d", str(dest),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    return sum(p.stat().st_size for p in dest.glob("*.whl"))


def write_local_models(root: Path = ROOT) -> dict[str, list[str]]:
    """Write the local-models manifest of `root`'s models folder (only when it changed)."""
    models = root / MODELS_FOLDER
    paths = [  # following symbolic links, as the server does
        (Path(folder) / name).relative_to(models).as_posix()
        for folder, _dirs, names in os.walk(models, followlinks=True)
        for name in names
    ]
    manifest = manifest_from_paths(paths)
    text = json.dumps(manifest, indent=2) + "\n"
    out = root / MANIFEST_URL
    if not out.is_file() or out.read_text() != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    listed: dict[str, list[str]] = manifest["models"]
    return listed


def vendor() -> dict[str, int]:
    sizes: dict[str, int] = {}
    ort_dir = _ort_dir()
    _check_ort_version(ort_dir)
    plan: list[tuple[Path, Path]] = []
    plan += [(NODE / "pyodide" / f, VENDOR / "pyodide" / f) for f in PYODIDE_FILES]
    core_dist = NODE / "@pyscript/core/dist"
    plan += [
        (p, VENDOR / "pyscript" / p.name)
        for p in sorted(core_dist.iterdir())
        if p.suffix in {".js", ".css"} and p.name != "service-worker.js"
    ]
    tjs = NODE / "@huggingface/transformers/dist/transformers.min.js"
    plan.append((tjs, VENDOR / "transformers" / "transformers.min.js"))
    plan += [(ort_dir / "dist" / f, VENDOR / "ort" / f) for f in ORT_FILES]
    purify = NODE / "dompurify/dist/purify.min.js"
    plan.append((purify, VENDOR / "dompurify" / "purify.min.js"))
    # The server-sent events parser of remote models' replies (app/browser/openai_engine.py):
    # one ES module with no imports.
    sse = NODE / "eventsource-parser/dist/index.js"
    plan.append((sse, VENDOR / "eventsource-parser" / "index.js"))
    # An in-memory IndexedDB for browsers that offer none (app/boot.js loads it only then):
    # PyScript cannot start without one. Plain ES modules with relative imports.
    fake_idb = NODE / "fake-indexeddb/build/esm"
    plan += [
        (p, VENDOR / "fake-indexeddb" / p.relative_to(fake_idb))
        for p in sorted(fake_idb.rglob("*.js"))
    ]
    for src, dst in plan:
        group = dst.relative_to(VENDOR).parts[0]
        sizes[group] = sizes.get(group, 0) + _copy(src, dst)
    sizes["wheels"] = _wheels(VENDOR / "wheels")
    write_app_bundle()
    write_local_models()
    write_precache(ROOT)  # last: it lists (and hashes) everything written above
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--local-models",
        action="store_true",
        help=f"only rewrite {MANIFEST_URL} and {PRECACHE_URL} if they changed",
    )
    if parser.parse_args().local_models:
        write_app_bundle()
        listed = write_local_models()
        print(f"{MANIFEST_URL}: {', '.join(listed) or 'no local models'}")
        shell = write_precache(ROOT)
        print(f"{PRECACHE_URL}: version {shell['version']}, {len(shell['files'])} files")
        return
    sizes = vendor()
    total = sum(sizes.values())
    parts = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items())
    print(f"vendor/: {total / 1e6:.1f} MB ({parts})")


if __name__ == "__main__":
    main()
