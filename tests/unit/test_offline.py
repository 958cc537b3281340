"""The offline shell: what the build lists (tools/precache.py), how the page reads it and
decides what to say (app/core/offline.py), and the update banner (app/ui/update_banner.py)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from app.core.offline import (
    PrecacheError,
    parse_precache,
    shell_status,
    update_notice,
    worker_url,
    worker_version,
)
from app.ui.update_banner import UpdateBanner
from tools.precache import build_precache, shell_files, write_precache

from .fake_dom import FakeDom
from .test_layout import later_wheels

ROOT = Path(__file__).resolve().parents[2]


def small_site(root: Path) -> Path:
    """A site with one of each kind of file, and some that are not part of the shell."""
    files = {
        "index.html": "<!doctype html>",
        "pyscript.toml": "name = 'x'",
        "manifest.webmanifest": "{}",
        "sw.js": "// worker",
        "app/main.py": "print()",
        "app/ui/app.css": "body {}",
        "app/__pycache__/main.cpython-311.pyc": "bytecode",
        "models/catalog.json": "{}",
        "models/tinylm/tiny-chat-a/onnx/model_quantized.onnx": "weights",
        "vendor/pyodide/pyodide.mjs": "export {}",
        "vendor/.stamp": "",
        "vendor/precache.json": "{}",
        "README.md": "# docs",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_shell_is_the_page_its_config_app_the_catalogs_and_vendor_never_models_or_docs(
    tmp_path: Path,
) -> None:
    assert shell_files(small_site(tmp_path)) == [
        "app/main.py",
        "app/ui/app.css",
        "index.html",
        "manifest.webmanifest",
        "models/catalog.json",
        "pyscript.toml",
        "vendor/pyodide/pyodide.mjs",
    ]


def test_the_version_changes_when_any_shell_file_or_the_worker_changes_and_not_otherwise(
    tmp_path: Path,
) -> None:
    site = small_site(tmp_path)
    first = build_precache(site)["version"]
    assert build_precache(site)["version"] == first  # the same files, the same version
    (site / "README.md").write_text("# other docs")
    (site / "models/tinylm/tiny-chat-a/onnx/model_quantized.onnx").write_text("new weights")
    assert build_precache(site)["version"] == first  # not shell files
    versions = {first}
    for name in ["app/main.py", "vendor/pyodide/pyodide.mjs", "models/catalog.json", "sw.js"]:
        (site / name).write_text((site / name).read_text() + " ")
        versions.add(build_precache(site)["version"])
    assert len(versions) == 5, "each change must make a new version"
    (site / "app/ui/new.py").write_text("")  # a new file is a change too
    assert build_precache(site)["version"] not in versions


def test_each_listed_file_carries_its_size_and_an_integrity_hash_of_its_bytes(
    tmp_path: Path,
) -> None:
    manifest = build_precache(small_site(tmp_path))
    entry = next(f for f in manifest["files"] if f["url"] == "index.html")
    # sha256 of "<!doctype html>" in base64 (`openssl dgst -sha256 -binary | base64`), as
    # `fetch(url, {integrity})` expects it
    assert entry == {
        "url": "index.html",
        "bytes": 15,
        "integrity": "sha256-/ibFnpGsjeaUslMdw73Bt/r0cdPX5OAIcK9g9fIol8s=",
    }
    assert manifest["bytes"] == sum(f["bytes"] for f in manifest["files"])


def test_writing_the_manifest_leaves_an_unchanged_file_alone(tmp_path: Path) -> None:
    site = small_site(tmp_path)
    out = site / "vendor/precache.json"
    out.unlink()
    written = write_precache(site)
    assert json.loads(out.read_text()) == written
    before = out.stat().st_mtime_ns
    write_precache(site)
    assert out.stat().st_mtime_ns == before


def test_the_real_shell_holds_every_file_the_page_names() -> None:
    """index.html's own URLs, pyscript.toml's interpreter and files, and what sw.js and the
    manifest need: a file missing from the list would not start offline."""
    listed = set(shell_files(ROOT))
    page = (ROOT / "index.html").read_text()
    named = {u.removeprefix("./") for u in re.findall(r'(?:href|src)="(\./[^"]+)"', page)}
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    named |= {u.removeprefix("./") for u in [config["interpreter"], *config["files"]]}
    named |= {f"vendor/wheels/{name}" for name in later_wheels()}  # unpacked after start-up
    named |= {"vendor/pyodide/pyodide.asm.wasm", "vendor/pyodide/python_stdlib.zip"}
    named |= {"vendor/transformers/transformers.min.js", "vendor/local-models.json"}
    named |= {"vendor/ort/ort-wasm-simd-threaded.asyncify.wasm", "models/catalog.json"}
    manifest = json.loads((ROOT / "manifest.webmanifest").read_text())
    named |= {icon["src"] for icon in manifest["icons"]}
    vendored = (ROOT / "vendor/pyodide").is_dir()
    missing = {n for n in named if n not in listed and (vendored or not n.startswith("vendor/"))}
    assert missing == set()


def test_the_page_reads_the_manifest_and_refuses_what_the_build_never_writes() -> None:
    good = {"version": "abc123", "bytes": 10, "files": [{"url": "index.html", "bytes": 10}]}
    precache = parse_precache(good)
    assert (precache.version, precache.files, precache.bytes) == ("abc123", ("index.html",), 10)
    bad: list[object] = [
        [],
        {"files": [{"url": "index.html"}]},
        {"version": "a/../b", "files": [{"url": "index.html"}]},
        {"version": "abc", "files": []},
        {"version": "abc", "files": [{"url": "https://evil.example/x.js"}]},
        {"version": "abc", "files": [{"url": "/index.html"}]},
        {"version": "abc", "files": ["index.html"]},
    ]
    for raw in bad:
        with pytest.raises(PrecacheError):
            parse_precache(raw)


def test_a_worker_url_carries_its_version_and_only_our_worker_has_one() -> None:
    assert worker_url("abc123") == "sw.js?v=abc123"
    assert worker_version("http://127.0.0.1:8000/some/sub/path/sw.js?v=abc123") == "abc123"
    assert worker_version("http://127.0.0.1:8000/other-worker.js?v=abc123") is None
    assert worker_version("http://127.0.0.1:8000/sw.js") is None
    assert worker_version(None) is None


def test_the_status_follows_the_workers_of_the_registration() -> None:
    assert shell_status(active=None, waiting=None, installing="v1") == "installing"
    assert shell_status(active="v1", waiting=None, installing=None) == "ready"
    assert shell_status(active="v1", waiting=None, installing="v2") == "updating"
    assert shell_status(active="v1", waiting="v2", installing=None) == "update-ready"
    assert shell_status(active=None, waiting=None, installing=None) == "unavailable"
    assert shell_status(active=None, waiting=None, installing=None, failed=True) == "failed"
    # A failed update leaves the old, whole shell: the page still starts offline.
    assert shell_status(active="v1", waiting=None, installing=None, failed=True) == "ready"


def test_only_a_waiting_version_or_an_update_in_another_tab_is_offered() -> None:
    offered = {s for s in ("installing", "ready", "updating", "failed") if update_notice(s)}
    assert offered == set()
    ready = update_notice("update-ready")
    assert ready is not None and ready.activate
    assert ready.text == "A new version of Parlance is ready."
    elsewhere = update_notice("updated-elsewhere")
    assert elsewhere is not None and not elsewhere.activate


def banner_page() -> tuple[FakeDom, UpdateBanner, list[bool]]:
    dom = FakeDom()
    dom.add("div", "app")
    root = dom.add("div", "update-banner", hidden="")
    root.appendChild(dom.create("span", **{"class": "update-text"}))
    root.appendChild(dom.create("button", testid="update-reload"))
    banner = UpdateBanner(dom)  # type: ignore[arg-type]
    reloads: list[bool] = []
    banner.bind(reloads.append)
    return dom, banner, reloads


def test_the_banner_shows_a_waiting_version_and_its_button_takes_it_once() -> None:
    dom, banner, reloads = banner_page()
    root, button = dom.by_testid("update-banner"), dom.by_testid("update-reload")
    banner.render("ready")
    assert root.hidden and dom.by_testid("app").getAttribute("data-offline") == "ready"
    banner.render("update-ready")
    assert not root.hidden
    assert root.querySelector(".update-text").textContent.startswith("A new version")
    dom.fire(button, "click")
    assert reloads == [True] and button.disabled
    banner.render("ready")
    assert root.hidden


def test_after_an_update_in_another_tab_the_button_only_reloads() -> None:
    dom, banner, reloads = banner_page()
    banner.render("updated-elsewhere")
    dom.fire(dom.by_testid("update-reload"), "click")
    assert reloads == [False]
