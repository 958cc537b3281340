"""Playwright fixtures: the real site on loopback, real Chromium, and a network guard.

Every page runs in a fresh browser context (fresh IndexedDB and cache, service workers blocked
but for the offline tests) whose requests are checked: anything that would leave 127.0.0.1 is
aborted and fails the test. Every page also records the Content-Security-Policy violations it
sees, and a test whose page saw one fails: the app must run under its policy with nothing
refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tools.chromium import CHROMIUM, QUIET_ARGS
from tools.serve import make_server

ROOT = Path(__file__).resolve().parents[2]
SUB_PATH = "some/sub/path"
CANNED = json.loads((ROOT / "tools/models/canned.json").read_text())
READY = '[data-testid=app][data-ready="true"]'
# Generous: a 2-core machine running WebGPU in software is slow; a hang still fails.
TIMEOUT_MS = float(os.environ.get("E2E_TIMEOUT_MS", "60000"))
expect.set_options(timeout=TIMEOUT_MS)

# Name resolution fails for every host but loopback: nothing can leave the machine.
CHROMIUM_ARGS = [
    *QUIET_ARGS,
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def canned(model: str, case_id: str) -> dict[str, Any]:
    """A trained conversation of a bundled model (tools/models/canned.json)."""
    return next(c for c in CANNED["models"][model] if c["id"] == case_id)


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, served at / and again at /some/sub/path/, plus room for test files."""
    root = tmp_path_factory.mktemp("site")
    for entry in ROOT.iterdir():
        if entry.name not in {".git", "node_modules", ".venv", ".venv-models"}:
            (root / entry.name).symlink_to(entry)
    (root / SUB_PATH).parent.mkdir(parents=True)
    (root / SUB_PATH).symlink_to(ROOT)
    (root / "test-catalogs").mkdir()
    return root


@pytest.fixture(scope="session")
def base_url(site_root: Path) -> Iterator[str]:
    server = make_server(site_root, 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def write_site_file(site_root: Path) -> Callable[[str, Any], str]:
    """Put a JSON file (a test catalog) on the site; returns its page-relative URL."""

    def write(name: str, data: Any) -> str:
        path = site_root / "test-catalogs" / name
        path.write_text(json.dumps(data))
        return f"test-catalogs/{name}"

    return write


@pytest.fixture(scope="session")
def copy_model(site_root: Path) -> Callable[[str, str, list[str]], None]:
    """Copy a bundled model under test-catalogs/ (optionally without some files)."""

    def copy(source_id: str, target_id: str, drop: list[str]) -> None:
        target = site_root / "test-catalogs" / target_id
        if not target.exists():
            shutil.copytree(ROOT / "models" / source_id, target)
        for name in drop:
            (target / name).unlink(missing_ok=True)

    return copy


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if CHROMIUM.exists():
        args["executable_path"] = str(CHROMIUM)
    return args


@pytest.fixture(scope="session")
def webgpu_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """Chromium with a WebGPU adapter (SwiftShader's software adapter when there is no GPU)."""
    args = {**browser_type_launch_args}
    args["args"] = [*CHROMIUM_ARGS, "--enable-unsafe-webgpu"]
    browser = browser_type.launch(**args)
    yield browser
    browser.close()


# The requests the guard sees: http(s) and ws(s) to any host but this machine. Only these are
# intercepted (the browser matches the pattern), so the site's own requests are not slowed by
# a round trip to the test process each.
OUTSIDE = re.compile(r"^(?:https?|wss?)://(?!(?:127\.0\.0\.1|localhost)(?::\d+)?/)")


class NetworkGuard:
    """Aborts every request that would leave the machine, and remembers it.

    A test that simulates being offline while the user picks a hub model declares the hub
    host with `expect_offline`: requests to it are still aborted (nothing leaves), and only
    requests to any other outside host fail the test.
    """

    def __init__(self) -> None:
        self.blocked: list[str] = []
        self.offline_hosts: set[str] = set()

    def expect_offline(self, host: str) -> None:
        self.offline_hosts.add(host)

    def unexpected(self) -> list[str]:
        return [u for u in self.blocked if urlsplit(u).hostname not in self.offline_hosts]

    def __call__(self, route: Route) -> None:
        url = route.request.url
        if OUTSIDE.match(url):
            self.blocked.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()


@pytest.fixture
def network_guard() -> NetworkGuard:
    return NetworkGuard()


# Runs in every document before its own scripts: remembers what the CSP refused, in the page
# (window.__cspViolations, for tests to read) and in the test (the binding below), so that a
# violation in a document the test has since reloaded or left is not lost.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
window.addEventListener("securitypolicyviolation", (e) => {
  const violation = {
    directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile,
    line: e.lineNumber, sample: e.sample, page: location.href,
  };
  window.__cspViolations.push(violation);
  window.__reportCspViolation?.(violation);
});
"""


def csp_violations(page: Page) -> list[dict[str, Any]]:
    """What the CSP of the page's current document has refused (none for a closed page)."""
    if page.is_closed():
        return []
    try:
        return list(page.evaluate("window.__cspViolations ?? []"))
    except PlaywrightError:  # a document mid-navigation; the binding has its violations
        return []


def guarded_page(
    browser: Browser,
    base_url: str,
    guard: NetworkGuard,
    service_workers: Literal["allow", "block"] = "block",
) -> Iterator[Page]:
    """A page in a fresh context, checked for requests leaving the machine, CSP violations and
    uncaught errors.

    Service workers are blocked unless a test asks for them (`service_workers="allow"`, the
    offline tests): a page's requests that a worker answers bypass `page.route`, and caching the
    app's ~45 MB shell in every context would slow every test. Blocked, the app's registration
    resolves with nothing and the app says "unsupported", which every other test then covers.
    """
    context: BrowserContext = browser.new_context(
        base_url=base_url,
        service_workers=service_workers,
    )
    context.route(OUTSIDE, guard)
    reported: list[Any] = []
    context.expose_function("__reportCspViolation", lambda v: reported.append(v))
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    current = csp_violations(page)
    context.close()
    assert guard.unexpected() == [], f"requests tried to leave the machine: {guard.blocked}"
    assert current == [] and reported == [], f"the CSP refused: {current or reported}"
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser, base_url: str, network_guard: NetworkGuard) -> Iterator[Page]:
    yield from guarded_page(browser, base_url, network_guard)


@pytest.fixture
def webgpu_page(
    webgpu_browser: Browser, base_url: str, network_guard: NetworkGuard
) -> Iterator[Page]:
    yield from guarded_page(webgpu_browser, base_url, network_guard)


MODEL_A = "tinylm/tiny-chat-a"
CatalogFor = Callable[..., str]


@pytest.fixture
def catalog_for(write_site_file: Callable[[str, Any], str], copy_model: Any) -> CatalogFor:
    """`catalog_for(min_new_tokens=300)`: a catalog of tiny-chat-a with these generation
    settings (a reply that must run on for a while can be stopped, or outlived, mid-way)."""

    def make(**generation: Any) -> str:
        copy_model(MODEL_A, MODEL_A, [])
        settings = {"max_new_tokens": 256, "do_sample": False, **generation}
        if settings.get("min_new_tokens", 0) > settings["max_new_tokens"]:
            settings["max_new_tokens"] = settings["min_new_tokens"]
        name = "tiny-" + "-".join(f"{k}{v}" for k, v in sorted(generation.items())) + ".json"
        catalog = {
            "default": MODEL_A,
            "presets": {},
            "models": [
                {
                    "id": MODEL_A,
                    "label": "Tiny Chat A",
                    "source": "local",
                    "dtype": "q8",
                    "generation": settings,
                }
            ],
        }
        return write_site_file(name, catalog)

    return make
