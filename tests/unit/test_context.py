"""Fitting a conversation into a model's context window."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pytest

from app.core.context import (
    PROMPT_OVERHEAD_TOKENS,
    TURN_OVERHEAD_TOKENS,
    DoesNotFit,
    fit_turns,
    surely_too_long,
)
from app.core.errors import ContextOverflow
from app.core.events import ErrorRaised
from app.core.ports import ChatTurn

from .test_chat import Harness

Role = Literal["system", "user", "assistant"]


def turns(*spec: tuple[Role, int]) -> tuple[list[ChatTurn], list[int]]:
    history = [ChatTurn(role, f"{role} {i}") for i, (role, _) in enumerate(spec)]
    return history, [n for _, n in spec]


def test_a_history_that_fits_is_sent_whole() -> None:
    history, counts = turns(("user", 10), ("assistant", 10), ("user", 10))
    fitted = fit_turns(history, counts, context_tokens=1000, max_new_tokens=100)
    assert fitted.turns == history and fitted.left_out == 0
    assert fitted.prompt_tokens == 30 + 3 * TURN_OVERHEAD_TOKENS + PROMPT_OVERHEAD_TOKENS


def test_the_oldest_exchanges_are_left_out_first_and_the_system_prompt_is_kept() -> None:
    history, counts = turns(
        ("system", 20), ("user", 300), ("assistant", 300), ("user", 100), ("assistant", 100),
        ("user", 50),
    )  # fmt: skip
    fitted = fit_turns(history, counts, context_tokens=1024, max_new_tokens=256)
    assert [t.role for t in fitted.turns] == ["system", "user", "assistant", "user"]
    assert fitted.turns[0] is history[0] and fitted.turns[-1] is history[-1]
    assert fitted.left_out == 2
    assert fitted.prompt_tokens + fitted.max_new_tokens <= 1024


def test_the_kept_history_starts_with_a_question_not_half_an_exchange() -> None:
    history, counts = turns(("user", 400), ("assistant", 200), ("user", 100))
    fitted = fit_turns(history, counts, context_tokens=1024, max_new_tokens=256)
    assert [t.role for t in fitted.turns] == ["user"]
    assert fitted.left_out == 2


def test_a_newest_message_that_cannot_fit_alone_is_refused() -> None:
    history, counts = turns(("user", 5), ("assistant", 5), ("user", 5000))
    with pytest.raises(DoesNotFit) as refused:
        fit_turns(history, counts, context_tokens=2048, max_new_tokens=256)
    assert refused.value.tokens > refused.value.limit


def test_the_reply_never_asks_for_more_than_the_window_has_left() -> None:
    history, counts = turns(("user", 800))
    fitted = fit_turns(history, counts, context_tokens=2048, max_new_tokens=2000)
    assert fitted.max_new_tokens == 2048 - fitted.prompt_tokens < 2000


def test_a_megabyte_is_known_too_long_without_tokenizing_it() -> None:
    assert surely_too_long("x" * 1_000_000, context_tokens=2048, max_new_tokens=256)
    assert not surely_too_long("x" * 10_000, context_tokens=2048, max_new_tokens=256)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_long_chat_is_trimmed_and_the_reply_says_how_many_messages_were_left_out() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.context_tokens = 600  # FakeEngine counts one token per word
        await h.chat.open_new()
        await h.chat.send(" ".join(["old"] * 150))
        await h.chat.send(" ".join(["newer"] * 100))
        await h.chat.send("and now?")
        _, sent = h.engine.generated[-1]
        assert [t.content.split()[0] for t in sent] == ["newer", "Hello", "and"]
        assert h.chat.messages[-1].info.left_out == 2
        assert h.engine.options[-1]["max_new_tokens"] >= 1
        # Each text was counted once, however many turns it took part in.
        assert len(h.engine.counted) == len(set(h.engine.counted)) + 1  # two "Hello from A"

    run(scenario())


def test_a_message_too_long_for_the_model_is_refused_before_generation() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.context_tokens = 2048
        await h.chat.open_new()
        await h.chat.send("x" * 1_000_000)
        assert h.engine.generated == []
        error = h.events.of(ErrorRaised)[-1].text
        assert "too long" in error and "2,048" in error
        assert h.chat.messages[-1].status == "error"
        assert h.chat.messages[0].content == "x" * 1_000_000  # what was typed is kept
        assert isinstance(ContextOverflow("m", "M", 1, 1), Exception)

    run(scenario())
