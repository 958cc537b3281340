"""The model manager's core (app/core/models.py), with fakes of the browser's cache, storage and
hub; and the pure parts it stands on (hub_models.py, downloads.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from app.core.catalog import Device, ModelEntry, parse_catalog
from app.core.conversations import Conversation
from app.core.downloads import DownloadProgress, FileProgress, RateMeter, seconds_left
from app.core.errors import LoadCanceled, ModelLoadError
from app.core.events import (
    CatalogChanged,
    DownloadEnded,
    DownloadProgressed,
    ErrorRaised,
    HubModelAdded,
    ModelsListed,
    ModelStatusChanged,
    StorageEstimated,
)
from app.core.hub_models import (
    HubModelError,
    HubModelInfo,
    pick_dtype,
    plan_entry,
    repo_id_from,
)
from app.core.memory import ManualClock, MemoryStore
from app.core.models import ModelManager, StorageEstimate
from app.core.ports import StopSignal
from app.core.targets import ModelChoice

from .fakes import Recorder

CATALOG = parse_catalog(
    {
        "default": "t/local",
        "models": [
            {"id": "t/local", "label": "Local", "source": "local"},
            {"id": "t/hub", "label": "Hub", "source": "hub", "bytes": 300},
        ],
    }
)
TINY_INFO = HubModelInfo("o/new", "qwen2", True, {"q8": 500, "fp32": 2000}, 4096)


class FakeFiles:
    def __init__(self) -> None:
        self.cached: set[str] = set()
        self.gate: asyncio.Event | None = None
        self.fail: str | None = None
        self.deleted: list[str] = []

    async def downloaded(self, entry: ModelEntry, device: Device, dtype: str | None) -> bool:
        return entry.id in self.cached

    async def download(
        self,
        entry: ModelEntry,
        device: Device,
        dtype: str | None,
        on_progress: Callable[[Sequence[FileProgress]], None],
        cancel: StopSignal,
    ) -> None:
        on_progress([FileProgress("config.json", 100, 100), FileProgress("onnx/m.onnx", 0, 200)])
        if self.gate is not None:
            stopped = asyncio.Event()
            unsubscribe = cancel.on_stop(stopped.set)
            await asyncio.wait(
                [asyncio.ensure_future(self.gate.wait()), asyncio.ensure_future(stopped.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            unsubscribe()
            if cancel.stopped:
                raise LoadCanceled(entry.id)
        if self.fail:
            raise ModelLoadError(entry.id, self.fail)
        on_progress([FileProgress("config.json", 100, 100), FileProgress("onnx/m.onnx", 200, 200)])
        self.cached.add(entry.id)

    async def delete(self, entry: ModelEntry, device: Device, dtype: str | None) -> None:
        self.deleted.append(entry.id)
        self.cached.discard(entry.id)


class FakeQuota:
    def __init__(self, grant: bool = True) -> None:
        self.persisted = False
        self.grant = grant
        self.asked = 0

    async def estimate(self) -> StorageEstimate | None:
        return StorageEstimate(1_000, 10_000, self.persisted)

    async def persist(self) -> bool:
        self.asked += 1
        self.persisted = self.grant
        return self.grant


class FakeHub:
    def __init__(self, info: HubModelInfo | None = None, error: str | None = None) -> None:
        self.info, self.error = info, error
        self.asked: list[str] = []

    async def inspect(self, repo_id: str) -> HubModelInfo:
        self.asked.append(repo_id)
        if self.error:
            raise HubModelError(repo_id, self.error)
        assert self.info is not None
        return self.info


class Harness:
    def __init__(self, hub: FakeHub | None = None, grant: bool = True) -> None:
        self.store = MemoryStore()
        self.files = FakeFiles()
        self.quota = FakeQuota(grant)
        self.hub = hub or FakeHub(TINY_INFO)
        self.events = Recorder()
        self.choice = ModelChoice(CATALOG)
        self.changed = 0

        async def models_changed() -> None:
            self.changed += 1

        self.manager = ModelManager(
            choice=self.choice,
            files=self.files,
            quota=self.quota,
            hub=self.hub,
            store=self.store,
            clock=ManualClock(step_ms=500),
            emit=self.events,
            placement=lambda entry: ("wasm", "q8"),
            device="wasm",
            on_models_changed=models_changed,
        )

    def rows(self) -> dict[str, Any]:
        return {r.entry.id: r for r in self.events.of(ModelsListed)[-1].rows}


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(scenario())


# -- pure parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "repo"),
    [
        ("onnx-community/Qwen2.5-0.5B-Instruct", "onnx-community/Qwen2.5-0.5B-Instruct"),
        ("  https://huggingface.co/a-b/c_d.e/tree/main ", "a-b/c_d.e"),
        ("hf.co/owner/name?x=1", "owner/name"),
    ],
)
def test_a_repo_id_is_read_from_what_people_paste(typed: str, repo: str) -> None:
    assert repo_id_from(typed) == repo


@pytest.mark.parametrize("typed", ["", "just-a-name", "a/b/c", "a b/c", "../x", "a--b/c", "-a/b"])
def test_what_is_not_a_repo_id_is_refused_with_what_one_looks_like(typed: str) -> None:
    with pytest.raises(HubModelError, match=r"owner/name|such as"):
        repo_id_from(typed)


def test_each_device_gets_the_dtype_it_runs_best() -> None:
    assert pick_dtype(["fp32", "q8", "q4f16"], "wasm", False) == "q8"
    assert pick_dtype(["fp32", "q8", "q4f16"], "webgpu", True) == "q4f16"
    assert pick_dtype(["fp32", "q8", "q4f16"], "webgpu", False) == "fp32"
    assert pick_dtype(["fp16"], "webgpu", False) is None


def test_a_checked_repo_becomes_a_user_entry_with_its_size_and_window() -> None:
    entry = plan_entry(TINY_INFO, "wasm", False)
    assert (entry.id, entry.label, entry.source, entry.user_added) == ("o/new", "new", "hub", True)
    assert entry.dtype == {"wasm": "q8", "webgpu": "fp32"}
    assert (entry.bytes, entry.context_tokens) == (500, 4096)


@pytest.mark.parametrize(
    ("info", "free", "reason"),
    [
        (HubModelInfo("o/x", "bert", False), None, "not a text-generation model"),
        (HubModelInfo("o/x", "qwen2", True, {}), None, "no ONNX weights"),
        (HubModelInfo("o/x", "qwen2", True, {"q8": 3_000_000_000}), None, "WebAssembly"),
        (HubModelInfo("o/x", "qwen2", True, {"q8": 5_000}), 1_000, "GB free"),
    ],
)
def test_a_repo_that_cannot_run_here_says_why(
    info: HubModelInfo, free: int | None, reason: str
) -> None:
    with pytest.raises(HubModelError, match=reason):
        plan_entry(info, "wasm", False, free_bytes=free)


def test_the_speed_is_measured_over_the_last_seconds_and_gives_the_time_left() -> None:
    meter = RateMeter(window_ms=3_000)
    meter.add(0, 0)
    assert meter.bytes_per_second() is None  # one reading says nothing
    meter.add(1_000, 1_000_000)
    assert meter.bytes_per_second() == pytest.approx(1_000_000)
    for second in range(2, 10):  # a stall: the speed falls to what the last seconds saw
        meter.add(second * 1_000, 1_000_000)
    assert meter.bytes_per_second() == 0
    assert seconds_left(500, 2_500, 100.0) == 20
    assert seconds_left(500, None, 100.0) is None
    assert seconds_left(500, 2_500, 0.0) is None
    progress = DownloadProgress("m", (FileProgress("a", 5, 10), FileProgress("b", 1, None)))
    assert (progress.loaded, progress.total) == (6, None)


def test_user_models_join_after_the_sites_and_never_shadow_them() -> None:
    mine = ModelEntry("t/hub", "Mine", "hub"), ModelEntry("o/new", "New", "hub")
    catalog = CATALOG.with_user_models(mine)
    assert [m.id for m in catalog.models] == ["t/local", "t/hub", "o/new"]
    assert catalog.get("t/hub") == CATALOG.get("t/hub")
    assert catalog.get("o/new") is not None and catalog.get("o/new").user_added  # type: ignore[union-attr]
    assert [m.id for m in catalog.with_user_models([]).models] == ["t/local", "t/hub"]


# -- the manager ----------------------------------------------------------------------------


def test_rows_say_what_is_downloaded_and_which_chats_use_it() -> None:
    async def scenario() -> None:
        h = Harness()
        h.files.cached.add("t/local")
        await h.store.create_conversation(Conversation("c1", "Soup", "t/hub", 1, 1))
        await h.store.create_conversation(Conversation("c2", "Tea", None, 2, 2))
        await h.manager.refresh()
        rows = h.rows()
        assert (rows["t/local"].downloaded, rows["t/hub"].downloaded) == (True, False)
        assert rows["t/hub"].used_by == ("Soup",)
        assert rows["t/local"].used_by == ("Tea",)  # the default resolves to it
        assert h.events.of(StorageEstimated)[-1] == StorageEstimated(1_000, 10_000, False)

    run(scenario)


def test_a_download_reports_files_speed_and_time_left_then_the_models_change() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.manager.download("t/hub")
        progress = [e.progress for e in h.events.of(DownloadProgressed)]
        assert progress[0].files[0] == FileProgress("config.json", 100, 100)
        assert progress[-1].loaded == progress[-1].total == 300
        assert progress[-1].bytes_per_second == pytest.approx(200 * 1000 / 500)
        assert progress[-1].seconds_left == 0
        assert h.events.of(DownloadEnded) == [DownloadEnded("t/hub", "done")]
        assert h.rows()["t/hub"].downloaded is True
        assert h.changed == 1  # the chat re-checks what is usable

    run(scenario)


def test_the_first_download_asks_to_keep_storage_and_says_when_it_is_refused() -> None:
    async def scenario() -> None:
        h = Harness(grant=False)
        await h.manager.download("t/hub")
        await h.manager.download("t/local")
        assert h.quota.asked == 1  # once per page
        assert h.events.of(StorageEstimated)[-1] == StorageEstimated(1_000, 10_000, False, True)

    run(scenario)


def test_a_chat_downloading_a_hub_model_also_asks_to_keep_storage() -> None:
    async def scenario() -> None:
        h = Harness()
        work = h.manager.observe(ModelStatusChanged("t/hub", "downloading"))
        assert work is not None
        await work
        assert h.quota.asked == 1
        assert h.manager.observe(ModelStatusChanged("t/local", "downloading")) is None

    run(scenario)


def test_a_canceled_download_ends_canceled_and_a_failed_one_says_why() -> None:
    async def scenario() -> None:
        h = Harness()
        h.files.gate = asyncio.Event()
        task = asyncio.ensure_future(h.manager.download("t/hub"))
        await asyncio.sleep(0)
        assert h.rows()["t/hub"].downloading
        await h.manager.download("t/hub")  # a second click while it runs does nothing
        h.manager.cancel("t/hub")
        await task
        assert h.events.of(DownloadEnded)[-1] == DownloadEnded("t/hub", "canceled")
        assert h.rows()["t/hub"].downloaded is False
        assert h.events.of(ErrorRaised) == []
        h.files.gate, h.files.fail = None, "the hub could not be reached"
        await h.manager.download("t/hub")
        assert h.events.of(DownloadEnded)[-1].outcome == "failed"
        assert "Could not download Hub: the hub could not be reached" in [
            e.text for e in h.events.of(ErrorRaised)
        ]

    run(scenario)


def test_deleting_files_leaves_the_choice_and_makes_the_model_need_a_download() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.choice.refresh()
        h.files.cached.add("t/hub")
        h.choice._usable = {"t/local", "t/hub"}
        await h.manager.delete("t/hub")
        assert h.files.deleted == ["t/hub"]
        assert "t/hub" not in h.choice.usable_ids
        assert h.rows()["t/hub"].downloaded is False
        assert h.changed == 1

    run(scenario)


def test_a_hub_model_added_by_id_is_stored_and_joins_the_catalog() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.manager.add_hub_model("https://huggingface.co/o/new")
        assert h.hub.asked == ["o/new"]
        added = h.events.of(HubModelAdded)[0].entry
        assert h.events.of(CatalogChanged)[-1].catalog.get("o/new") == added
        assert h.choice.resolve("o/new") == added
        assert [r["id"] for r in await h.store.get_user_models()] == ["o/new"]
        # Another page reads it back from the store.
        again = Harness()
        again.store = h.store
        again.manager._store = h.store
        await again.manager.load_user_models()
        assert again.choice.catalog.get("o/new") == added

    run(scenario)


@pytest.mark.parametrize(
    ("typed", "hub", "reason"),
    [
        ("nonsense", FakeHub(TINY_INFO), "owner/name"),
        ("t/hub", FakeHub(TINY_INFO), "already in the list"),
        ("o/gone", FakeHub(error="no such model"), "no such model"),
        ("o/x", FakeHub(HubModelInfo("o/x", "bert", False)), "not a text-generation"),
    ],
)
def test_a_refused_hub_model_adds_nothing_and_says_why(
    typed: str, hub: FakeHub, reason: str
) -> None:
    async def scenario() -> None:
        h = Harness(hub)
        await h.manager.add_hub_model(typed)
        assert reason in h.events.of(ErrorRaised)[-1].text
        assert h.events.of(CatalogChanged) == []
        assert await h.store.get_user_models() == []
        assert h.choice.catalog == CATALOG

    run(scenario)


def test_a_stored_user_model_that_no_longer_parses_is_skipped_saying_so() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.store.put_user_models(
            [{"id": "o/ok", "label": "OK", "source": "hub"}, {"id": "broken", "source": "hub"}]
        )
        await h.manager.load_user_models()
        assert [m.id for m in h.choice.catalog.models] == ["t/local", "t/hub", "o/ok"]
        assert "skipped" in h.events.of(ErrorRaised)[0].text

    run(scenario)


def test_removing_an_added_model_deletes_its_files_and_takes_it_off_the_list() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.manager.add_hub_model("o/new")
        await h.manager.remove_user_model("o/new")
        await h.manager.remove_user_model("t/hub")  # the site's own: not removable
        assert h.files.deleted == ["o/new"]
        assert h.choice.catalog.get("o/new") is None
        assert h.choice.catalog.get("t/hub") is not None
        assert await h.store.get_user_models() == []

    run(scenario)
