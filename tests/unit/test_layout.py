"""The project's standing rules, checked on its files."""

from __future__ import annotations

import ast
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROWSER_MODULES = {"js", "pyodide", "pyscript"}
CDN = re.compile(r"cdn\.jsdelivr|unpkg\.com|esm\.sh|cdnjs|pyscript\.net|skypack")


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_nothing_from_the_browser() -> None:
    for path in (ROOT / "app/core").rglob("*.py"):
        assert not imported_roots(path) & BROWSER_MODULES, f"{path} imports the browser"


def test_only_app_browser_imports_js_pyodide_or_pyscript() -> None:
    for path in (ROOT / "app").rglob("*.py"):
        if "browser" in path.relative_to(ROOT / "app").parts:
            continue
        if path.name == "main.py":
            assert not imported_roots(path) & BROWSER_MODULES
            continue
        assert not imported_roots(path) & BROWSER_MODULES, f"{path} imports the browser"


@pytest.mark.parametrize(
    ("config_file", "bundle"),
    [("pyscript.toml", "./vendor/app.zip"), ("bench/storage.toml", "../vendor/app.zip")],
)
def test_every_page_that_runs_the_app_ships_the_app_package(config_file: str, bundle: str) -> None:
    config = tomllib.loads((ROOT / config_file).read_text())
    assert config["files"].get(bundle) == "./*", f"{config_file} does not unpack vendor/app.zip"


def test_pyscript_toml_points_only_inside_the_site() -> None:
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    urls = [config["interpreter"], *config["files"]]
    for url in urls:
        assert url.startswith("./"), f"{url} is not relative to the page"
        assert (ROOT / url).exists() or url.startswith("./vendor/"), f"{url} does not exist"


def test_the_page_catalog_and_app_name_no_cdn() -> None:
    files = [ROOT / "index.html", ROOT / "pyscript.toml", ROOT / "models/catalog.json"]
    files += list((ROOT / "app").rglob("*.py")) + list((ROOT / "app").rglob("*.css"))
    for path in files:
        match = CDN.search(path.read_text())
        assert match is None, f"{path} names {match.group(0) if match else ''}"


def later_wheels() -> tuple[str, ...]:
    """app/browser/wheels.py's LATER_WHEELS, read from its source (it imports pyodide)."""
    tree = ast.parse((ROOT / "app/browser/wheels.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "LATER_WHEELS":
            value: tuple[str, ...] = ast.literal_eval(node.value)
            return value
    raise AssertionError("app/browser/wheels.py has no LATER_WHEELS")


def test_every_pinned_browser_wheel_is_unpacked_at_start_or_later_but_not_both() -> None:
    """A wheel is in pyscript.toml [files] (unpacked before the app's first line) or, when only
    needed after start-up, in app/browser/wheels.py's LATER_WHEELS (unpacked when idle): start-up
    pays for every file of [files] (BENCHMARKS.md), and a pinned wheel in neither is never
    loaded."""
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    at_start = {url.rsplit("/", 1)[1] for url in config["files"] if url.endswith(".whl")}
    later = set(later_wheels())
    assert not at_start & later
    pins = [
        line.split(" ", 1)[0]
        for line in (ROOT / "requirements-browser.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for pin in pins:
        name, version = pin.split("==")
        wheel = f"{name.replace('-', '_').lower()}-{version}-"
        found = [w for w in at_start | later if w.lower().startswith(wheel)]
        assert len(found) == 1, f"{pin} is neither in pyscript.toml [files] nor LATER_WHEELS"


def test_browser_wheels_are_pinned_with_hashes() -> None:
    lines = [
        line
        for line in (ROOT / "requirements-browser.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    for line in lines:
        assert re.search(r"==[\w.]+ --hash=sha256:[0-9a-f]{64}$", line), line


def test_the_app_zip_holds_every_module_as_it_is_with_checked_hash_byte_code() -> None:
    """vendor/app.zip (tools/app_bundle.py, rebuilt by make run/test when app/ changes) holds
    every module of app/ as it is now, and a checked-hash .pyc for each."""
    from tools.app_bundle import APP_BUNDLE, sources_digest

    with zipfile.ZipFile(ROOT / APP_BUNDLE) as archive:
        assert archive.comment.decode() == sources_digest(), "stale: run tools/vendor.py"
        names = set(archive.namelist())
        for path in (ROOT / "app").rglob("*.py"):
            relative = path.relative_to(ROOT)
            assert archive.read(relative.as_posix()) == path.read_bytes(), relative
            cached = f"{relative.parent.as_posix()}/__pycache__/{path.stem}.cpython-"
            assert any(n.startswith(cached) for n in names), f"no byte code for {relative}"
        for name in names:
            if name.endswith(".pyc"):
                flags = int.from_bytes(archive.read(name)[4:8], "little")
                assert flags == 0b11, f"{name} is not a checked-hash .pyc (flags {flags})"
