"""The model manager page and the model bar's download offer, against the fake page."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.catalog import ModelEntry, parse_catalog
from app.core.downloads import DownloadProgress, FileProgress
from app.core.events import (
    DownloadEnded,
    DownloadProgressed,
    EndpointAdded,
    EndpointRefused,
    ErrorRaised,
    HubModelAdded,
    ModelRow,
    ModelsListed,
    ModelStatusChanged,
    ModelsUsable,
    StorageEstimated,
    TargetChanged,
)
from app.ui.dialogs import ConfirmDialog
from app.ui.model_bar import ModelBar
from app.ui.models_page import ModelsPage, progress_words, used_by_words

from .fake_dom import FakeDom, FakeElement
from .test_widgets import Asked, model_bar_page

HUB = ModelEntry("o/hub", "Hub Model", "hub", bytes=510_000_000)
LOCAL = ModelEntry("t/local", "Local", "local")
MINE = ModelEntry("o/mine", "Mine", "hub", user_added=True)


def page() -> tuple[FakeDom, ModelsPage, Asked]:
    dom = FakeDom()
    root = dom.add("section", "models-page")
    usage = dom.create("div", testid="storage-usage")
    for cls in ("storage-figures", "storage-persistence"):
        usage.appendChild(dom.create("p", **{"class": cls}))
    usage.appendChild(dom.create("progress", **{"class": "storage-meter"}))
    root.appendChild(usage)
    root.appendChild(dom.create("ul", testid="model-list"))
    form = dom.create("form", testid="hub-model-form")
    for tag, testid in (
        ("input", "hub-model-id"),
        ("button", "hub-model-add"),
        ("p", "hub-model-status"),
    ):
        form.appendChild(dom.create(tag, testid=testid))
    root.appendChild(form)
    servers = dom.create("form", testid="endpoint-form")
    for tag, testid in (
        ("input", "endpoint-url"),
        ("input", "endpoint-key"),
        ("button", "endpoint-add"),
        ("p", "endpoint-status"),
    ):
        servers.appendChild(dom.create(tag, testid=testid))
    root.appendChild(servers)
    for testid in ("confirm-dialog", "confirm"):
        dom.add("div", testid)
    dialog = _dialog(dom)
    dialog.bind(Asked().intents())
    widget = ModelsPage(dom, dialog)  # type: ignore[arg-type]
    asked = Asked()
    widget.bind(asked.intents())
    return dom, widget, asked


def _dialog(dom: FakeDom) -> ConfirmDialog:
    dialog = dom.by_testid("confirm-dialog")
    for cls in ("confirm-title", "confirm-text"):
        dialog.appendChild(dom.create("p", **{"class": cls}))
    dialog.appendChild(dom.create("button", **{"class": "cancel"}))
    dialog.appendChild(dom.by_testid("confirm"))
    return ConfirmDialog(dom)  # type: ignore[arg-type]


def row_of(dom: FakeDom, model: str) -> FakeElement:
    found = [e for e in dom.body.walk() if e.getAttribute("data-model") == model
             and e.getAttribute("data-testid") == "model-row"]  # fmt: skip
    assert len(found) == 1
    return found[0]


def button(row: FakeElement, testid: str) -> FakeElement:
    found = dom_find(row, testid)
    assert found is not None
    return found


def click(dom: FakeDom, target: FakeElement) -> None:
    """A click that bubbles to the list's one delegated listener."""
    rows = dom.by_testid("model-list")
    dom.listeners[(id(rows), "click")](SimpleNamespace(target=target))


def dom_find(root: FakeElement, testid: str) -> FakeElement | None:
    return root.querySelector(f'[data-testid="{testid}"]')


def test_each_model_gets_a_row_with_its_source_size_state_and_users() -> None:
    dom, widget, _ = page()
    widget.handle(ModelsListed((
        ModelRow(HUB, downloaded=False, used_by=("Soup", "Tea")),
        ModelRow(LOCAL, downloaded=True),
    )))  # fmt: skip
    hub = row_of(dom, "o/hub")
    assert (hub.getAttribute("data-source"), hub.getAttribute("data-downloaded")) == (
        "hub",
        "false",
    )
    assert hub.getAttribute("data-bytes") == "510000000"
    assert "Used by 2 chats: “Soup”, “Tea”" in "".join(e.textContent for e in hub.walk())
    assert not button(hub, "model-download").hidden
    assert button(hub, "model-delete").disabled
    assert button(hub, "model-remove").hidden  # the site's own model
    local = row_of(dom, "t/local")
    assert local.getAttribute("data-downloaded") == "true"
    assert local.getAttribute("data-bytes") is None
    assert button(local, "model-download").hidden and not button(local, "model-delete").disabled


def test_a_row_is_updated_in_place_and_a_gone_model_leaves() -> None:
    dom, widget, _ = page()
    widget.handle(ModelsListed((ModelRow(HUB, False), ModelRow(MINE, False))))
    first = row_of(dom, "o/hub")
    widget.handle(ModelsListed((ModelRow(HUB, True),)))
    assert row_of(dom, "o/hub") is first
    assert first.getAttribute("data-downloaded") == "true"
    assert [e for e in dom.body.walk() if e.getAttribute("data-model") == "o/mine"] == []


def test_download_progress_shows_overall_per_file_speed_and_time_left() -> None:
    dom, widget, asked = page()
    widget.handle(ModelsListed((ModelRow(HUB, False),)))
    hub = row_of(dom, "o/hub")
    click(dom, button(hub, "model-download"))
    assert asked.calls == [("download_model", ("o/hub",))]
    widget.handle(ModelsListed((ModelRow(HUB, False, downloading=True),)))
    assert button(hub, "model-download").hidden and not button(hub, "model-cancel").hidden
    files = (FileProgress("config.json", 700, 700), FileProgress("onnx/m.onnx", 300, 2_000_000))
    widget.handle(DownloadProgressed(DownloadProgress("o/hub", files, 1_500_000.0, 90.0)))
    bar = button(hub, "model-download-progress")
    assert (bar.max, bar.value) == (2_000_700, 1_000)  # type: ignore[attr-defined, comparison-overlap]
    text = "".join(e.textContent for e in hub.walk())
    assert "0% · 1 kB of 2.0 MB · 1.5 MB/s · 2 min left" in text
    assert "config.json: 700 B, done" in text and "onnx/m.onnx: 2.0 MB, 0%" in text
    click(dom, button(hub, "model-cancel"))
    assert asked.calls[-1] == ("cancel_download", ("o/hub",))
    widget.handle(DownloadEnded("o/hub", "canceled"))
    assert hub.querySelector(".model-row-progress").hidden  # type: ignore[union-attr]


def test_deleting_a_model_chats_use_asks_first_naming_them() -> None:
    dom, widget, asked = page()
    widget.handle(ModelsListed((ModelRow(HUB, True, used_by=("Soup",)), ModelRow(LOCAL, True))))
    click(dom, button(row_of(dom, "t/local"), "model-delete"))
    assert asked.calls == [("delete_model", ("t/local",))]  # no chat uses it: at once
    click(dom, button(row_of(dom, "o/hub"), "model-delete"))
    assert len(asked.calls) == 1
    assert "Hub Model" in dom.by_testid("confirm-dialog").walk()[0].textContent
    dialog = dom.by_testid("confirm-dialog")
    dialog.returnValue = "confirm"  # type: ignore[attr-defined]  # the dialog's form closes it with the confirm button's value
    dom.fire(dialog, "close")
    assert asked.calls[-1] == ("delete_model", ("o/hub",))


def test_the_add_form_checks_then_clears_or_gives_the_button_back() -> None:
    dom, widget, asked = page()
    field, add = dom.by_testid("hub-model-id"), dom.by_testid("hub-model-add")
    field.value = "  o/new "
    dom.fire(dom.by_testid("hub-model-form"), "submit")
    assert asked.calls == [("add_hub_model", ("o/new",))]
    assert add.disabled and "Checking o/new" in dom.by_testid("hub-model-status").textContent
    widget.handle(ErrorRaised("Could not add o/new: no such model"))
    assert not add.disabled
    dom.fire(dom.by_testid("hub-model-form"), "submit")
    widget.handle(HubModelAdded(MINE))
    assert field.value == "" and not add.disabled
    assert "Added Mine" in dom.by_testid("hub-model-status").textContent


def test_storage_says_used_quota_and_what_a_refusal_to_keep_it_means() -> None:
    dom, widget, _ = page()
    widget.handle(StorageEstimated(168_000_000, 10_900_000_000, False, asked=True))
    usage = dom.by_testid("storage-usage")
    assert usage.getAttribute("data-used") == "168000000"
    assert usage.getAttribute("data-quota") == "10900000000"
    assert usage.getAttribute("data-persisted") == "false"
    words = "".join(e.textContent for e in usage.walk())
    assert "168 MB of the 10.9 GB" in words and "did not promise to keep them" in words
    widget.handle(StorageEstimated(1, 2, True))
    assert "will not clear them" in "".join(e.textContent for e in usage.walk())


def test_words_for_progress_and_users() -> None:
    assert progress_words(DownloadProgress("m", (FileProgress("a", 5, None),))) == "5 B"
    assert used_by_words(()) == "No chat uses it"
    assert used_by_words(("a", "b", "c", "d")).endswith("“c” and 1 more")


def test_the_model_bar_offers_the_download_of_a_chats_missing_hub_model() -> None:
    dom = model_bar_page()
    offer = dom.by_testid("model-offer")
    catalog = parse_catalog({"default": "t/local", "models": [
        {"id": "t/local", "label": "Local", "source": "local"},
        {"id": "o/hub", "label": "Hub Model", "source": "hub", "bytes": 510_000_000},
    ]})  # fmt: skip
    bar = ModelBar(dom, catalog)  # type: ignore[arg-type]
    asked = Asked()
    bar.bind(asked.intents())
    bar.handle(ModelsUsable(frozenset({"t/local"})))
    bar.handle(TargetChanged("t/local", "Local"))
    assert offer.hidden
    bar.handle(TargetChanged("o/hub", "Local"))
    assert not offer.hidden and offer.textContent == "Download Hub Model (510 MB)"
    dom.fire(offer, "click")
    assert asked.calls == [("download_model", ("o/hub",))]
    files = (FileProgress("a", 255_000_000, 510_000_000),)
    bar.handle(DownloadProgressed(DownloadProgress("o/hub", files)))
    assert offer.disabled and offer.textContent == "Downloading Hub Model… 50%"
    bar.handle(ModelsUsable(frozenset({"t/local", "o/hub"})))
    bar.handle(DownloadEnded("o/hub", "done"))
    assert offer.hidden


def test_the_model_status_says_speed_and_time_left_and_goes_indeterminate_while_preparing() -> None:
    dom = model_bar_page()
    status, progress = dom.by_testid("model-status"), dom.by_testid("model-progress")
    catalog = parse_catalog(
        {"default": "o/hub", "models": [{"id": "o/hub", "label": "Hub", "source": "hub"}]}
    )
    bar = ModelBar(dom, catalog)  # type: ignore[arg-type]
    text = status.querySelector(".model-status-text")
    assert text is not None
    # The fake clock reads half a second later each time: 1 MB per reading is 2 MB/s.
    bar.handle(ModelStatusChanged("o/hub", "downloading", loaded_bytes=0, total_bytes=10_000_000))
    bar.handle(ModelStatusChanged("o/hub", "downloading", loaded_bytes=1_000_000,
                                  total_bytes=10_000_000))  # fmt: skip
    assert text.textContent == "Downloading · Hub 1.0 MB / 10.0 MB · 2.0 MB/s · 5 s left"
    bar.handle(ModelStatusChanged("o/hub", "compiling"))
    assert progress.getAttribute("value") is None and not progress.hidden


def test_until_the_server_gives_sizes_progress_is_against_the_catalogs_size() -> None:
    waiting = DownloadProgress("m", (FileProgress("c", 723, 723), FileProgress("w", 0, None)))
    assert progress_words(waiting, 380_000_000) == "0% · 723 B of about 380 MB"
    half = DownloadProgress("m", (FileProgress("w", 190_000_000, None),))
    assert progress_words(half, 380_000_000) == "50% · 190 MB of about 380 MB"


SERVER = ModelEntry(
    "127.0.0.1:8080/big", "Big", "openai", base_url="http://127.0.0.1:8080/v1",
    model="org/Big", user_added=True,
)  # fmt: skip


def test_the_server_form_asks_then_says_what_was_added_or_why_not() -> None:
    dom, widget, asked = page()
    url, key = dom.by_testid("endpoint-url"), dom.by_testid("endpoint-key")
    add, status = dom.by_testid("endpoint-add"), dom.by_testid("endpoint-status")
    url.value, key.value = " http://127.0.0.1:8080/v1 ", "sk-1"
    dom.fire(dom.by_testid("endpoint-form"), "submit")
    assert asked.calls == [("add_endpoint", ("http://127.0.0.1:8080/v1", "sk-1"))]
    assert add.disabled and "Asking http://127.0.0.1:8080/v1" in status.textContent
    widget.handle(EndpointRefused("the server refused the key (HTTP 401): check the key"))
    assert not add.disabled and status.textContent.startswith("Not added: the server refused")
    assert key.value == "sk-1"  # kept to be corrected
    dom.fire(dom.by_testid("endpoint-form"), "submit")
    widget.handle(EndpointAdded("http://127.0.0.1:8080/v1", (SERVER,)))
    assert url.value == "" and key.value == "" and not add.disabled
    assert status.textContent.startswith("Added 1 model from 127.0.0.1:8080: Big.")


def test_a_server_s_model_row_says_where_it_runs_and_offers_no_download() -> None:
    dom, widget, _ = page()
    widget.handle(ModelsListed((ModelRow(SERVER, downloaded=None, used_by=("Soup",)),)))
    remote = row_of(dom, SERVER.id)
    assert remote.getAttribute("data-source") == "openai"
    assert remote.getAttribute("data-host") == "127.0.0.1:8080"
    text = "".join(e.textContent for e in remote.walk())
    assert "Runs on 127.0.0.1:8080" in text and "sent to 127.0.0.1:8080" in text
    assert "http://127.0.0.1:8080/v1 · org/Big" in text
    assert button(remote, "model-download").hidden and button(remote, "model-delete").hidden
    click(dom, button(remote, "model-remove"))
    assert "runs on 127.0.0.1:8080" in dom.by_testid("confirm-dialog").walk()[0].textContent
