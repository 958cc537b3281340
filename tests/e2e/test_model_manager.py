"""The model manager (#/models), end to end: a hub model downloaded through the real
transformers.js cache from a hub answered by files on this machine, chatted with, deleted; a
download canceled mid-way; hub models added by id, and bad ids refused."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .chat_page import ChatPage, expect_route
from .conftest import ROOT, canned
from .fake_hub import FakeHub

LOCAL = "tinylm/tiny-chat-a"
HUB_MODEL = "test-org/tiny-hub"
TINY = ROOT / "models" / LOCAL
Q8_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "onnx/model_quantized.onnx"]  # fmt: skip


def q8_bytes(folder: Path = TINY) -> int:
    return sum((folder / name).stat().st_size for name in Q8_FILES)


@pytest.fixture
def hub(page: Page) -> Iterator[FakeHub]:
    fake = FakeHub()
    fake.serve(HUB_MODEL, TINY)
    fake.install(page.context)
    yield fake
    fake.release()
    assert fake.unexpected == [], f"unexpected hub requests: {fake.unexpected}"


@pytest.fixture
def catalog(write_site_file: Callable[[str, Any], str], copy_model: Any) -> str:
    copy_model(LOCAL, LOCAL, [])
    return write_site_file(
        "with-hub.json",
        {
            "default": LOCAL,
            "presets": {},
            "models": [
                {"id": LOCAL, "label": "Tiny Local", "source": "local", "dtype": "q8"},
                {
                    "id": HUB_MODEL,
                    "label": "Tiny Hub",
                    "source": "hub",
                    "dtype": "q8",
                    "bytes": q8_bytes(),
                    "generation": {"max_new_tokens": 64, "do_sample": False},
                },
            ],
        },
    )


def row(page: Page, model: str) -> Locator:
    return page.locator(f'[data-testid=model-row][data-model="{model}"]')


def cached_urls(page: Page) -> list[str]:
    return list(
        page.evaluate(
            """async () => {
              const cache = await caches.open('transformers-cache');
              return (await cache.keys()).map((r) => r.url);
            }"""
        )
    )


def open_models(page: Page, catalog: str) -> ChatPage:
    return ChatPage(page).open(f"?device=wasm&catalog={catalog}#/models")


def test_a_hub_model_downloads_chats_and_its_files_can_be_deleted(
    page: Page, hub: FakeHub, catalog: str
) -> None:
    chat = open_models(page, catalog)
    model = row(page, HUB_MODEL)
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(model).to_have_attribute("data-source", "hub")
    expect(model).to_have_attribute("data-downloaded", "false")
    expect(model).to_have_attribute("data-bytes", str(q8_bytes()))
    usage = page.get_by_test_id("storage-usage")
    expect(usage).to_have_attribute("data-quota", re.compile(r"^[1-9]\d*$"))
    used_before = int(usage.get_attribute("data-used") or "0")

    model.get_by_test_id("model-download").click()
    expect(model).to_have_attribute("data-downloaded", "true")
    hub_files = sorted(u for u in cached_urls(page) if HUB_MODEL in u)
    assert hub_files == sorted(f"https://huggingface.co/{HUB_MODEL}/resolve/main/{f}"
                               for f in Q8_FILES)  # fmt: skip
    expect(usage).to_have_attribute("data-persisted", re.compile("^(true|false)$"))
    page.wait_for_function(
        "(before) => Number(document.querySelector('[data-testid=storage-usage]')"
        ".dataset.used) > before",
        arg=used_before,
    )

    # Downloaded: picking it asks nothing, and it answers (the tiny model's canned reply).
    page.get_by_test_id("new-chat").click()
    expect_route(page, r"#/chat$")
    page.get_by_test_id("model-select").select_option(HUB_MODEL)
    reply = chat.ask("hi")
    expect(reply).to_have_attribute("data-model", HUB_MODEL)
    assert chat.content(reply) == canned("tiny-chat-a", "hi")["answer"]
    conversation = chat.conversation_id()
    hub.requests.clear()

    page.get_by_test_id("models-link").click()
    expect(model).to_contain_text("Used by 1 chat")
    model.get_by_test_id("model-delete").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text("Tiny Hub")
    page.get_by_test_id("confirm").click()
    expect(model).to_have_attribute("data-downloaded", "false")
    assert [u for u in cached_urls(page) if HUB_MODEL in u] == []
    assert hub.requests == []  # deleting asks the hub nothing

    # The chat keeps its model, and offers the download again.
    chat.item(conversation).click()
    expect(page.get_by_test_id("model-select")).to_have_value(HUB_MODEL)
    offer = page.get_by_test_id("model-offer")
    expect(offer).to_be_visible()
    offer.click()
    expect(offer).to_be_hidden()
    page.get_by_test_id("models-link").click()
    expect(model).to_have_attribute("data-downloaded", "true")


def test_a_download_can_be_canceled_mid_way_and_keeps_nothing_of_it(
    page: Page, hub: FakeHub, catalog: str
) -> None:
    open_models(page, catalog)
    model = row(page, HUB_MODEL)
    hub.hold.add("onnx/model_quantized.onnx")
    model.get_by_test_id("model-download").click()
    progress = model.get_by_test_id("model-download-progress")
    expect(progress).to_be_visible()
    expect(model).to_contain_text("config.json: ")
    expect(model).to_contain_text("onnx/model_quantized.onnx: waiting")
    expect(model.get_by_test_id("model-download")).to_be_hidden()
    model.get_by_test_id("model-cancel").click()
    expect(progress).to_be_hidden()
    expect(model).to_have_attribute("data-downloaded", "false")
    expect(model.get_by_test_id("model-download")).to_be_visible()
    hub.release()
    stored = [u for u in cached_urls(page) if HUB_MODEL in u and "/onnx/" in u]
    assert stored == []
    # Nothing is left half-done: the download starts over and completes.
    model.get_by_test_id("model-download").click()
    expect(model).to_have_attribute("data-downloaded", "true")


def test_a_hub_model_added_by_id_joins_the_catalog_and_stays(
    page: Page, hub: FakeHub, catalog: str
) -> None:
    hub.serve("test-org/added", TINY)
    open_models(page, catalog)
    page.get_by_test_id("hub-model-id").fill("https://huggingface.co/test-org/added/tree/main")
    page.get_by_test_id("hub-model-add").click()
    added = row(page, "test-org/added")
    expect(added).to_have_attribute("data-source", "hub")
    expect(added).to_have_attribute("data-bytes", str(q8_bytes()))
    expect(added).to_have_attribute("data-downloaded", "false")
    expect(page.get_by_test_id("hub-model-status")).to_contain_text("Added")
    assert hub.requests, "the hub was asked"
    assert not [u for u in cached_urls(page) if "/onnx/" in u], "adding downloads no weights"
    option = page.locator('[data-testid=model-select] option[value="test-org/added"]')
    expect(option).to_have_count(1)
    page.reload()
    expect(row(page, "test-org/added")).to_have_count(1)
    expect(option).to_have_count(1)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("not a model id", "looks like owner/name"),
        ("nobody/nothing", "no such model"),
        ("test-org/no-onnx", "no ONNX weights"),
        ("test-org/encoder", "not a text-generation model"),
        ("test-org/tiny-hub", "already in the list"),
    ],
)
def test_a_hub_model_that_cannot_run_is_refused_and_adds_nothing(
    page: Page, hub: FakeHub, catalog: str, tmp_path: Path, typed: str, reason: str
) -> None:
    config = (TINY / "config.json").read_text()
    only_config = tmp_path / "no-onnx"
    only_config.mkdir()
    (only_config / "config.json").write_text(config)
    hub.serve("test-org/no-onnx", only_config)
    hub.serve(
        "test-org/encoder",
        TINY,
        {"config.json": {"model_type": "bert", "architectures": ["BertModel"]}},
    )
    open_models(page, catalog)
    page.get_by_test_id("hub-model-id").fill(typed)
    page.get_by_test_id("hub-model-add").click()
    expect(page.get_by_test_id("error")).to_contain_text(reason)
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_test_id("hub-model-add")).to_be_enabled()
    stored = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open('parlance');
          open.onsuccess = () => {
            const get = open.result.transaction('prefs').objectStore('prefs').get('userModels');
            get.onsuccess = () => { resolve(get.result ?? null); open.result.close(); };
          };
        })"""
    )
    assert stored in (None, [])
