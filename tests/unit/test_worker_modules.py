"""The engine worker is sent the modules it runs (worker_engine.WORKER_MODULES): every module
of app/browser that engine_host imports, directly or not, must be among them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_modules() -> set[str]:
    tree = ast.parse((ROOT / "app/browser/worker_engine.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "WORKER_MODULES" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError("worker_engine.py has no WORKER_MODULES")


def browser_imports(path: str) -> set[str]:
    """The app/browser modules `path` imports (relative or absolute)."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(f"app/browser/{node.module}.py")
            elif node.module and node.module.startswith("app.browser."):
                found.add(node.module.replace(".", "/") + ".py")
    return found


def test_every_browser_module_the_engine_host_needs_is_sent_to_the_worker() -> None:
    needed, todo = set(), ["app/browser/engine_host.py"]
    while todo:
        module = todo.pop()
        if module not in needed:
            needed.add(module)
            todo += browser_imports(module)
    missing = needed - worker_modules()
    assert not missing, f"add to WORKER_MODULES: {sorted(missing)}"


def test_the_worker_is_not_sent_page_only_modules() -> None:
    assert "app/browser/dom.py" not in worker_modules()
    assert "app/browser/idb.py" not in worker_modules()
