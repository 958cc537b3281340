"""First run: a welcome that recommends a real model, and no download without a yes.

The hub is played by Playwright: requests for the test hub model are answered from the bundled
tiny model's files, so the whole path (download, progress, cache, chat) runs with nothing
leaving the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from .chat_page import ChatPage
from .conftest import ROOT, canned

HUB_MODEL = "test-org/tiny-hub"
HUB_FILES = ROOT / "models/tinylm/tiny-chat-a"
HUB_PREFIX = f"https://huggingface.co/{HUB_MODEL}/resolve/main/"


@pytest.fixture
def hub_catalog(write_site_file: Callable[[str, Any], str]) -> str:
    """A catalog whose only model must be downloaded from the hub."""
    entry = {
        "id": HUB_MODEL,
        "label": "Tiny Hub",
        "source": "hub",
        "bytes": 1_600_000,
        "dtype": "q8",
        "generation": {"max_new_tokens": 64, "do_sample": False},
    }
    catalog = {"default": HUB_MODEL, "recommended": HUB_MODEL, "presets": {}, "models": [entry]}
    return write_site_file("hub-only.json", catalog)


class FakeHub:
    """Answers the hub's file URLs for HUB_MODEL from local files, and counts the requests."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        page.route(f"{HUB_PREFIX}**", self._serve)

    def _serve(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        path = HUB_FILES / url.removeprefix(HUB_PREFIX).split("?")[0]
        if not path.is_file():
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(
            status=200, body=path.read_bytes(), headers={"access-control-allow-origin": "*"}
        )


def test_a_first_visit_is_welcomed_and_downloads_only_when_asked(
    page: Page, hub_catalog: str
) -> None:
    hub = FakeHub(page)
    chat = ChatPage(page).open(f"?device=wasm&catalog={hub_catalog}#/chat")
    welcome = page.get_by_test_id("welcome")
    expect(welcome).to_be_visible()
    expect(welcome).to_contain_text("Nothing you type leaves it")
    expect(welcome).to_contain_text("Tiny Hub")
    expect(welcome).to_contain_text("about 1.6 MB, from Hugging Face")
    assert hub.requests == [], "nothing is downloaded before the user says so"
    page.get_by_test_id("welcome-download").click()
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-model", HUB_MODEL)
    expect(status).to_have_attribute("data-state", "ready")
    expect(welcome).to_be_hidden()
    assert any(url.endswith("model_quantized.onnx") for url in hub.requests)
    reply = chat.ask("hi")
    assert chat.content(reply) == canned("tiny-chat-a", "hi")["answer"]
    expect(reply).to_have_attribute("data-model", HUB_MODEL)
    # Once downloaded, it is usable without a download: a new visit is not welcomed again.
    page.reload()
    page.wait_for_selector('[data-testid=app][data-ready="true"]')
    expect(page.get_by_test_id("new-chat")).to_be_visible()
    page.get_by_test_id("new-chat").click()
    expect(welcome).to_be_hidden()


def test_picking_a_model_that_needs_a_download_asks_first_with_its_size(
    page: Page, write_site_file: Callable[[str, Any], str]
) -> None:
    hub = FakeHub(page)
    tiny = {"id": "tinylm/tiny-chat-a", "label": "Tiny A", "source": "local", "dtype": "q8"}
    remote = {"id": HUB_MODEL, "label": "Tiny Hub", "source": "hub", "bytes": 1_600_000,
              "dtype": "q8"}  # fmt: skip
    path = write_site_file(
        "local-and-hub.json",
        {"default": "tinylm/tiny-chat-a", "presets": {}, "models": [tiny, remote]},
    )
    chat = ChatPage(page).open(f"?device=wasm&catalog={path}#/chat")
    expect(page.get_by_test_id("welcome")).to_be_hidden()  # a usable model: no welcome
    select = page.get_by_test_id("model-select")
    # Browsing with the keyboard: arriving on the hub model asks, and Escape says no.
    select.focus()
    select.press("End")
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Download Tiny Hub?")
    expect(dialog).to_contain_text("about 1.6 MB, from Hugging Face")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(select).to_have_value("")
    assert hub.requests == []
    # Yes downloads it, and the chat uses it.
    select.select_option(HUB_MODEL)
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-state", "ready")
    reply = chat.ask("hi")
    expect(reply).to_have_attribute("data-model", HUB_MODEL)
