"""Offline after the first visit: the service worker (sw.js), its updates, and the manifest.

These tests allow service workers (every other test blocks them, see conftest.guarded_page)
and serve a site of their own: a copy of the site made of links to the repository, whose
vendor/precache.json is a real file written for it, so a test can publish a "new deployment"
without touching the repository's file. The network guard, the CSP recorder and the check for
uncaught errors apply as everywhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tools.precache import PRECACHE_URL, write_precache
from tools.serve import make_server

from .chat_page import ChatPage
from .conftest import (
    MODEL_A,
    READY,
    ROOT,
    SUB_PATH,
    CatalogFor,
    NetworkGuard,
    canned,
    guarded_page,
)

CONTROLLED = "navigator.serviceWorker.controller !== null"
SHELL_CACHES = "(await caches.keys()).filter((name) => name.startsWith('parlance-shell:'))"


def shell_caches(page: Page) -> list[str]:
    names: list[str] = page.evaluate(f"async () => {SHELL_CACHES}")
    return sorted(names)


def wait_shell_caches(page: Page, expected: list[str]) -> None:
    """Poll the page's Cache Storage until it holds exactly these shell caches."""
    deadline = time.monotonic() + 30
    while shell_caches(page) != sorted(expected):
        assert time.monotonic() < deadline, f"shell caches {shell_caches(page)} != {expected}"
        page.wait_for_timeout(100)


@pytest.fixture
def offline_site(site_root: Path, tmp_path: Path) -> Path:
    """The site, with a vendor/ folder of its own (links, and a real precache.json), served
    also at /some/sub/path/, sharing the session site's test catalogs and models."""
    root = tmp_path / "offline-site"
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".git", "node_modules", ".venv", ".venv-models", "vendor"}:
            (root / entry.name).symlink_to(entry)
    (root / "vendor").mkdir()
    for entry in (ROOT / "vendor").iterdir():
        if entry.name != Path(PRECACHE_URL).name:
            (root / "vendor" / entry.name).symlink_to(entry)
    (root / "test-catalogs").symlink_to(site_root / "test-catalogs")
    (root / SUB_PATH).parent.mkdir(parents=True)
    (root / SUB_PATH).symlink_to(root)
    write_precache(root)
    return root


class Server:
    """The offline site's own server: stopping it is the network going down for everyone, the
    service worker included (Playwright's `set_offline` does not reach a service worker's own
    fetches, so with it alone a worker that only passed requests through would pass)."""

    def __init__(self, site: Path, *, isolation: bool = True) -> None:
        self._server = make_server(site, 0, quiet=True, isolation=isolation)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server(offline_site: Path) -> Iterator[Server]:
    running = Server(offline_site)
    yield running
    running.stop()


@pytest.fixture
def sw_page(browser: Browser, server: Server, network_guard: NetworkGuard) -> Iterator[Page]:
    """A guarded page that may register service workers."""
    yield from guarded_page(browser, server.url, network_guard, service_workers="allow")


def shell_version(site: Path) -> str:
    version: str = json.loads((site / PRECACHE_URL).read_text())["version"]
    return version


def expect_offline_ready(page: Page) -> None:
    """The worker has cached the whole shell: a reload would start with the network off."""
    expect(page.get_by_test_id("app")).to_have_attribute("data-offline", "ready")


def reload_controlled(page: Page) -> None:
    """Reload, so that the active worker controls the page (the first visit's never does)."""
    page.reload()
    page.wait_for_selector(READY)
    page.wait_for_function(CONTROLLED)


def controller_version(page: Page) -> str:
    url = page.evaluate("navigator.serviceWorker.controller.scriptURL")
    return str(url).split("?v=", 1)[1]


def chat_then_reload_offline(
    page: Page, server: Server, address: str, question: str
) -> tuple[str, str]:
    """Visit, let the shell be cached, chat once online, then reload with the network off.
    Returns the conversation id and the reply it got online."""
    chat = ChatPage(page).open(address)
    expect_offline_ready(page)
    reload_controlled(page)
    answer = chat.content(chat.ask(question))
    conversation_id = chat.conversation_id()

    server.stop()
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector(READY)
    assert page.evaluate("navigator.onLine") is False
    return conversation_id, answer


def test_after_one_visit_the_app_starts_offline_shows_its_chats_and_a_used_model_answers(
    sw_page: Page, server: Server, catalog_for: CatalogFor, offline_site: Path
) -> None:
    page = sw_page
    catalog = catalog_for()  # a catalog of its own (not precached): the runtime cache has it
    hi = canned("tiny-chat-a", "hi")
    conversation_id, answer = chat_then_reload_offline(
        page, server, f"?device=wasm&catalog={catalog}#/chat", "hi"
    )
    assert answer == hi["answer"]
    assert controller_version(page) == shell_version(offline_site)

    chat = ChatPage(page)
    expect(chat.item(conversation_id)).to_be_visible()
    expect(chat.messages).to_have_count(2)  # the stored chat, reopened from IndexedDB
    # The app knows the model is here without the network (the worker answers the app's HEAD
    # probes of its files from transformers.js's cache): the picker offers it.
    option = page.get_by_test_id("model-select").locator(f'option[value="{MODEL_A}"]')
    expect(option).to_have_js_property("hidden", False)
    # A new reply, offline: the model's files come from transformers.js's cache.
    assert chat.content(chat.ask("hi")) == hi["answer"]
    expect(chat.reply()).to_have_attribute("data-model", MODEL_A)

    expect(page.get_by_test_id("error")).to_be_hidden()
    expect(page.get_by_test_id("update-banner")).to_be_hidden()


def test_from_a_sub_path_the_app_starts_offline_too(sw_page: Page, server: Server) -> None:
    page = sw_page
    hi = canned("tiny-chat-a", "hi")
    address = f"{SUB_PATH}/?device=wasm&catalog=models/test-catalog.json#/chat"
    conversation_id, answer = chat_then_reload_offline(page, server, address, "hi")
    assert answer == hi["answer"]
    scope = page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.scope)")
    assert scope.endswith(f"/{SUB_PATH}/"), scope

    chat = ChatPage(page)
    expect(chat.item(conversation_id)).to_be_visible()
    assert chat.content(chat.ask("hi")) == hi["answer"]
    caches = shell_caches(page)
    assert caches and all(f"/{SUB_PATH}/:" in name for name in caches), caches


def test_on_a_host_without_isolation_headers_the_worker_isolates_the_next_visit(
    browser: Browser, offline_site: Path, network_guard: NetworkGuard
) -> None:
    """A static host (GitHub Pages) sends no COOP/COEP: the first visit runs the engine on one
    thread; once sw.js controls the page it adds the headers, and the engine gets threads."""
    plain = Server(offline_site, isolation=False)
    try:
        for page in guarded_page(browser, plain.url, network_guard, service_workers="allow"):
            chat = ChatPage(page).open(
                "?device=wasm&catalog=models/test-catalog.json&threads=2#/chat"
            )
            assert page.evaluate("crossOriginIsolated") is False
            expect_offline_ready(page)
            reload_controlled(page)
            assert page.evaluate("crossOriginIsolated") is True
            case = canned("tiny-chat-a", "capital")
            assert chat.content(chat.ask(case["messages"][-1]["content"])) == case["answer"]
            expect(chat.app).to_have_attribute("data-threads", "2")
    finally:
        plain.stop()


def test_a_new_deployment_is_offered_and_replaces_the_old_version_only_when_taken(
    sw_page: Page, offline_site: Path
) -> None:
    page = sw_page
    old = shell_version(offline_site)
    ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    expect_offline_ready(page)
    reload_controlled(page)
    assert controller_version(page) == old

    # A new deployment: same files, another version (as a build that changed any file).
    manifest: dict[str, Any] = json.loads((offline_site / PRECACHE_URL).read_text())
    new = manifest["version"] = "0" * 16 if old != "0" * 16 else "1" * 16
    (offline_site / PRECACHE_URL).write_text(json.dumps(manifest))

    page.reload()
    page.wait_for_selector(READY)
    banner = page.get_by_test_id("update-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("A new version of Parlance is ready")
    # Until the user takes it, the page runs on the old version, from the old cache.
    assert controller_version(page) == old
    assert shell_caches(page) == sorted([f"parlance-shell:/:{old}", f"parlance-shell:/:{new}"])

    with page.expect_navigation():  # the button reloads once the new worker controls
        page.get_by_test_id("update-reload").click()
    page.wait_for_selector(READY)
    assert controller_version(page) == new
    expect(page.get_by_test_id("app")).to_have_attribute("data-offline", "ready")
    expect(page.get_by_test_id("update-banner")).to_be_hidden()
    # The old version's cache is gone once the new one is active.
    wait_shell_caches(page, [f"parlance-shell:/:{new}"])


def test_a_file_that_differs_from_the_build_fails_the_install_and_caches_nothing(
    sw_page: Page, offline_site: Path
) -> None:
    page = sw_page
    manifest: dict[str, Any] = json.loads((offline_site / PRECACHE_URL).read_text())
    catalog = next(f for f in manifest["files"] if f["url"] == "models/catalog.json")
    catalog["integrity"] = "sha256-" + "A" * 43 + "="  # as if the file changed after the build
    (offline_site / PRECACHE_URL).write_text(json.dumps(manifest))
    ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    expect(page.get_by_test_id("app")).to_have_attribute("data-offline", "failed")
    assert shell_caches(page) == []
    expect(page.get_by_test_id("error")).to_be_hidden()  # the app works, only not offline


def test_with_service_workers_blocked_the_app_runs_and_says_nothing(page: Page) -> None:
    ChatPage(page).open("?device=wasm&catalog=models/test-catalog.json#/chat")
    expect(page.get_by_test_id("app")).to_have_attribute("data-offline", "unsupported")
    expect(page.get_by_test_id("error")).to_be_hidden()
    expect(page.get_by_test_id("update-banner")).to_be_hidden()


def test_the_manifest_is_linked_parses_and_its_icons_load(page: Page) -> None:
    ChatPage(page).open(f"{SUB_PATH}/?device=wasm&catalog=models/test-catalog.json#/chat")
    href = page.locator('link[rel="manifest"]').evaluate("(link) => link.href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Parlance"
    assert manifest["start_url"] == "./" and manifest["scope"] == "./"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        # Resolved against the manifest's URL, as the browser does: inside the sub-path.
        url = page.evaluate("([src, base]) => new URL(src, base).href", [icon["src"], href])
        assert f"/{SUB_PATH}/" in url
        loaded = page.evaluate(
            """async (url) => {
              const image = new Image();
              image.src = url;
              await image.decode();
              return [image.naturalWidth, image.naturalHeight];
            }""",
            url,
        )
        if icon["sizes"] != "any":
            assert f"{loaded[0]}x{loaded[1]}" == icon["sizes"], (url, loaded)
