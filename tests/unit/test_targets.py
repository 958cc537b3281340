"""A conversation's model target: stored, switched, rolled back, resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.core.catalog import ModelEntry, parse_catalog
from app.core.events import ErrorRaised, ModelStatusChanged, ModelWanted, TargetChanged
from app.core.targets import ModelChoice

from .fakes import ChatHarness

CATALOG = parse_catalog(
    {
        "default": "smart",
        "presets": {"smart": ["hub/big", "tiny/a"], "quick": ["tiny/b"]},
        "models": [
            {"id": "hub/big", "label": "Big", "source": "hub", "dtype": "q4"},
            {"id": "tiny/a", "label": "A", "source": "local", "dtype": "q8"},
            {"id": "tiny/b", "label": "B", "source": "local", "dtype": "q8"},
        ],
    }
)


class OnlyLocal:
    """Availability as on a machine whose browser cache holds no hub model."""

    async def usable(self, entries: Sequence[ModelEntry]) -> set[str]:
        return {e.id for e in entries if e.source == "local"}


class Harness(ChatHarness):
    def __init__(self) -> None:
        replies = {"tiny/a": "Answer from A", "tiny/b": "Answer from B"}
        super().__init__(CATALOG, replies, ModelChoice(CATALOG, OnlyLocal()))

    async def start(self, first_message: str = "hello") -> str:
        await self.chat.refresh_availability()
        await self.chat.open_new()
        await self.chat.send(first_message)
        assert self.chat.conversation is not None
        return self.chat.conversation.id


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_presets_skip_models_that_are_not_usable_offline() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.start()
        assert h.chat.messages[-1].info.model == "tiny/a"
        assert "hub/big" not in h.engine.loads
        assert h.events.of(TargetChanged)[-1].default_label == "A"

    run(scenario())


def test_switching_mid_chat_stores_the_target_without_moving_the_conversation() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.start()
        before = await h.store.get_conversation(cid)
        await h.chat.set_model("tiny/b")
        after = await h.store.get_conversation(cid)
        assert before is not None and after is not None
        assert after.model == "tiny/b"
        assert after.updated_at == before.updated_at
        assert h.events.of(TargetChanged)[-1].target == "tiny/b"
        assert h.events.of(ModelWanted)[-1] == ModelWanted("tiny/b")

    run(scenario())


def test_the_next_reply_uses_the_new_model_with_the_whole_conversation() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.start("My name is Ada.")
        await h.chat.set_model("quick")
        await h.chat.send("What is my name?")
        model, turns = h.engine.generated[-1]
        assert model == "tiny/b"
        assert [t.content for t in turns] == [
            "My name is Ada.",
            "Answer from A",
            "What is my name?",
        ]
        models = [m.info.model for m in h.chat.messages if m.role == "assistant"]
        assert models == ["tiny/a", "tiny/b"]

    run(scenario())


def test_clearing_the_target_follows_the_default_again() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.start()
        await h.chat.set_model("tiny/b")
        await h.chat.set_model(None)
        stored = await h.store.get_conversation(cid)
        assert stored is not None and stored.model is None
        await h.chat.send("again")
        assert h.chat.messages[-1].info.model == "tiny/a"

    run(scenario())


def test_a_switch_whose_model_fails_rolls_back_and_the_chat_stays_usable() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.start()
        await h.chat.set_model("tiny/b")
        h.engine.fail_load["hub/big"] = "network unreachable"
        await h.chat.set_model("hub/big")
        stored = await h.store.get_conversation(cid)
        assert stored is not None and stored.model == "tiny/b"
        assert h.events.of(TargetChanged)[-1].target == "tiny/b"
        failed = [e for e in h.events.of(ModelStatusChanged) if e.state == "failed"]
        assert failed[-1].model == "hub/big" and "network unreachable" in failed[-1].reason
        error = h.events.of(ErrorRaised)[-1].text
        assert "network unreachable" in error and "B" in error
        await h.chat.send("still here?")
        assert h.chat.messages[-1].status == "done"
        assert h.chat.messages[-1].info.model == "tiny/b"

    run(scenario())


def test_a_model_given_for_one_turn_answers_it_and_becomes_the_target() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.start()
        await h.chat.send("use B now", model="tiny/b")
        assert h.chat.messages[-1].info.model == "tiny/b"
        stored = await h.store.get_conversation(cid)
        assert stored is not None and stored.model == "tiny/b"

    run(scenario())


def test_an_unknown_target_is_stored_and_the_next_reply_fails_clearly() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.start()
        await h.chat.set_model("gone/model")
        stored = await h.store.get_conversation(cid)
        assert stored is not None and stored.model == "gone/model"
        await h.chat.send("hello?")
        assert h.chat.messages[-1].content == "hello?", "the user's message is kept"
        error = h.events.of(ErrorRaised)[-1].text
        assert "gone/model" in error and "not in the catalog" in error

    run(scenario())


def test_a_new_chat_targets_the_default_even_after_another_chat_switched() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.start()
        await h.chat.set_model("tiny/b")
        await h.chat.open_new()
        assert h.chat.target is None
        assert h.events.of(TargetChanged)[-1].target is None

    run(scenario())


class Present:
    """Availability where exactly the given models can be loaded."""

    def __init__(self, *ids: str) -> None:
        self.ids = set(ids)

    async def usable(self, entries: Sequence[ModelEntry]) -> set[str]:
        return {e.id for e in entries if e.id in self.ids}


def test_the_shipped_quick_preset_prefers_the_local_smollm2_build_when_it_is_there() -> None:
    import json
    from pathlib import Path

    raw = json.loads((Path(__file__).resolve().parents[2] / "models/catalog.json").read_text())
    catalog = parse_catalog(raw)
    real, tiny_a, tiny_b = (
        "local-build/SmolLM2-135M-Instruct",
        "tinylm/tiny-chat-a",
        "tinylm/tiny-chat-b",
    )
    built = ModelChoice(catalog, Present(real, tiny_a, tiny_b))
    missing = ModelChoice(catalog, Present(tiny_a, tiny_b))
    asyncio.run(built.refresh())
    asyncio.run(missing.refresh())
    assert [c.resolve("quick") for c in (built, missing)] == [
        catalog.get(real),
        catalog.get(tiny_b),
    ]
    assert missing.resolve(None) == catalog.get(tiny_a)
