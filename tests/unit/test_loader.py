from __future__ import annotations

import asyncio

import pytest

from app.core.catalog import ModelEntry
from app.core.errors import LoadCanceled, ModelLoadError
from app.core.events import EngineChanged, ModelStatusChanged
from app.core.loader import ModelLoader
from app.core.ports import LoadProgress

from .fakes import FakeEngine, Recorder

A = ModelEntry("tiny/a", "A", "local", "q8")
B = ModelEntry("tiny/b", "B", "local", "q8")


def states(recorder: Recorder, model: str) -> list[str]:
    return [e.state for e in recorder.of(ModelStatusChanged) if e.model == model]


def make(engine: FakeEngine) -> tuple[ModelLoader, Recorder]:
    recorder = Recorder()
    return ModelLoader(engine, recorder, preferred_device="wasm"), recorder


def test_a_load_goes_through_queued_downloading_compiling_ready() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        loader, recorder = make(engine)
        loaded = await loader.request(A)
        assert loaded.id == "tiny/a"
        assert states(recorder, "tiny/a") == [
            "queued",
            "downloading",
            "downloading",
            "downloading",
            "compiling",
            "ready",
        ]
        engine_events = recorder.of(EngineChanged)
        assert engine_events[-1] == EngineChanged("tiny/a", 1, "wasm", "worker", 2)

    asyncio.run(scenario())


def test_a_second_request_for_a_loading_model_shares_the_in_flight_load() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        gate = engine.gate("tiny/a")
        loader, _ = make(engine)
        first = asyncio.ensure_future(loader.request(A))
        second = asyncio.ensure_future(loader.request(A))
        await asyncio.sleep(0.01)
        gate.set()
        assert (await first) is (await second)
        assert engine.loads == ["tiny/a"]

    asyncio.run(scenario())


def test_the_resident_model_is_not_loaded_again() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        loader, _ = make(engine)
        await loader.request(A)
        await loader.request(A)
        assert engine.loads == ["tiny/a"]
        assert loader.loads_started == 1

    asyncio.run(scenario())


def test_the_previous_model_is_disposed_once_the_next_one_is_ready() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        loader, _ = make(engine)
        await loader.request(A)
        gate = engine.gate("tiny/b")
        loading_b = asyncio.ensure_future(loader.request(B))
        await asyncio.sleep(0.01)
        assert engine.disposed == [], "A stays usable while B loads"
        gate.set()
        assert (await loading_b).id == "tiny/b"
        assert engine.loads == ["tiny/a", "tiny/b"]
        assert engine.disposed == ["tiny/a"]
        assert loader.resident is not None and loader.resident.id == "tiny/b"

    asyncio.run(scenario())


def test_a_second_model_waits_for_the_load_ahead_of_it() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        gate = engine.gate("tiny/a")
        loader, _ = make(engine)
        first = asyncio.ensure_future(loader.request(A))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(loader.request(B))
        await asyncio.sleep(0.01)
        assert engine.loads == ["tiny/a"], "B waits for A"
        gate.set()
        # A was still loading when B superseded it: it finishes, is dropped, and B loads.
        with pytest.raises(LoadCanceled):
            await first
        assert (await second).id == "tiny/b"
        assert engine.loads == ["tiny/a", "tiny/b"]
        assert engine.disposed == ["tiny/a"]

    asyncio.run(scenario())


def test_a_newer_request_cancels_older_queued_ones() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        gate = engine.gate("tiny/a")
        c = ModelEntry("tiny/c", "C", "local")
        loader, recorder = make(engine)
        running = asyncio.ensure_future(loader.request(A))
        await asyncio.sleep(0.01)
        queued = asyncio.ensure_future(loader.request(B))
        latest = asyncio.ensure_future(loader.request(c))
        await asyncio.sleep(0.01)
        gate.set()
        for superseded in (running, queued):
            with pytest.raises(LoadCanceled):
                await superseded
        assert (await latest).id == "tiny/c"
        assert engine.loads == ["tiny/a", "tiny/c"], "B never touched the network"
        assert states(recorder, "tiny/b") == ["queued", "canceled"]
        assert states(recorder, "tiny/a")[-1] == "canceled"

    asyncio.run(scenario())


@pytest.mark.parametrize("final", ["tiny/a", "tiny/b"])
def test_switching_back_and_forth_loads_at_most_one_model_beyond_the_final_one(final: str) -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        gate = engine.gate("tiny/a")
        loader, _ = make(engine)
        flurry = [A, B, A, B, A, B] + ([A] if final == "tiny/a" else [])
        waits = []
        for entry in flurry:
            waits.append(asyncio.ensure_future(loader.request(entry)))
            await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*waits, return_exceptions=True)
        assert loader.resident is not None and loader.resident.id == final
        assert len(engine.loads) <= 2
        assert engine.loads[-1] == final

    asyncio.run(scenario())


def test_asking_for_the_resident_model_cancels_a_queued_switch() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        loader, _ = make(engine)
        await loader.request(A)
        gate = engine.gate("tiny/b")
        c = ModelEntry("tiny/c", "C", "local")
        to_b = asyncio.ensure_future(loader.request(B))
        await asyncio.sleep(0.01)
        to_c = asyncio.ensure_future(loader.request(c))
        await asyncio.sleep(0)  # C is queued behind B
        back = await loader.request(A)
        assert back.id == "tiny/a"
        gate.set()
        for superseded in (to_b, to_c):
            with pytest.raises(LoadCanceled):
                await superseded
        assert engine.loads == ["tiny/a", "tiny/b"]
        assert loader.resident is not None and loader.resident.id == "tiny/a"

    asyncio.run(scenario())


def test_a_failed_load_reports_its_reason_and_keeps_the_resident_model() -> None:
    async def scenario() -> None:
        engine = FakeEngine()
        engine.fail_load["tiny/b"] = "file not found"
        loader, recorder = make(engine)
        await loader.request(A)
        with pytest.raises(ModelLoadError, match="file not found"):
            await loader.request(B)
        failed = [e for e in recorder.of(ModelStatusChanged) if e.state == "failed"]
        assert failed == [ModelStatusChanged("tiny/b", "failed", reason="file not found")]
        assert loader.resident is not None and loader.resident.id == "tiny/a"
        assert engine.disposed == []

    asyncio.run(scenario())


class LateFileEngine(FakeEngine):
    """Downloads a small file after the weights are done, as transformers.js does with
    generation_config.json."""

    async def load(self, entry, dtype, device, on_progress):  # type: ignore[no-untyped-def]
        on_progress(LoadProgress("downloading", 10, 100))
        on_progress(LoadProgress("compiling"))
        on_progress(LoadProgress("downloading", 100, 100))
        return await super().load(entry, dtype, device, lambda _: None)


def test_a_load_never_goes_back_from_preparing_to_downloading() -> None:
    async def scenario() -> None:
        loader, recorder = make(LateFileEngine())
        await loader.request(A)
        said = states(recorder, "tiny/a")
        assert said.index("compiling") > max(i for i, s in enumerate(said) if s == "downloading")
        assert said[-1] == "ready"

    asyncio.run(scenario())
