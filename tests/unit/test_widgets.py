"""Widgets of app/ui against a small fake page: what they show and what they ask core for."""

from __future__ import annotations

from typing import Any

from app.core.catalog import parse_catalog
from app.core.conversations import Conversation, Message, ReplyInfo
from app.core.events import (
    AnsweringElsewhere,
    ConversationOpened,
    ErrorRaised,
    ReplyMetrics,
    StreamingChanged,
)
from app.ui.banner import ErrorBanner
from app.ui.composer import Composer
from app.ui.intents import Intents
from app.ui.model_bar import ModelBar

from .fake_dom import FakeDom

CATALOG = parse_catalog(
    {"default": "a/b", "models": [{"id": "a/b", "label": "A B", "source": "local"}]}
)


class Asked:
    """Intents that remember what was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def intents(self) -> Intents:
        def record(name: str) -> Any:
            return lambda *args: self.calls.append((name, args))

        names = [
            "send", "stop", "regenerate", "choose_model", "new_chat", "open_chat", "rename",
            "delete", "leave_deleted_chat",
        ]  # fmt: skip
        return Intents(**{name: record(name) for name in names})


def composer_page() -> tuple[FakeDom, Composer, Asked]:
    dom = FakeDom()
    form = dom.add("form", **{"class": "composer"})
    for tag, testid in [("textarea", "chat-input"), ("button", "send"), ("button", "stop")]:
        form.appendChild(dom.create(tag, testid=testid))
    dom.add("p", "answering-elsewhere", hidden="")
    composer = Composer(dom)  # type: ignore[arg-type]
    asked = Asked()
    composer.bind(asked.intents())
    composer.mark_ready()
    return dom, composer, asked


def press_enter(dom: FakeDom) -> None:
    dom.fire(dom.by_testid("chat-input"), "keydown", key="Enter")


def test_enter_sends_once_and_a_second_enter_in_the_same_moment_keeps_its_text() -> None:
    dom, composer, asked = composer_page()
    field = dom.by_testid("chat-input")
    field.value = "first"
    press_enter(dom)
    field.value = "second thought"
    press_enter(dom)  # core has not yet said the turn began
    assert asked.calls == [("send", ("first",))]
    assert field.value == "second thought"
    composer.handle(StreamingChanged(True))
    composer.handle(StreamingChanged(False, True))
    press_enter(dom)
    assert asked.calls[-1] == ("send", ("second thought",))


def test_invisible_text_and_input_before_ready_are_not_sent() -> None:
    dom = FakeDom()
    form = dom.add("form", **{"class": "composer"})
    for tag, testid in [("textarea", "chat-input"), ("button", "send"), ("button", "stop")]:
        form.appendChild(dom.create(tag, testid=testid))
    dom.add("p", "answering-elsewhere", hidden="")
    composer = Composer(dom)  # type: ignore[arg-type]
    asked = Asked()
    composer.bind(asked.intents())
    dom.by_testid("chat-input").value = "too early"
    press_enter(dom)
    assert asked.calls == [] and dom.by_testid("chat-input").value == "too early"
    composer.mark_ready()
    dom.by_testid("chat-input").value = "\u200b "
    press_enter(dom)
    assert asked.calls == []


def test_a_refused_message_comes_back_into_the_input() -> None:
    dom, composer, _ = composer_page()
    dom.by_testid("chat-input").value = "keep me"
    press_enter(dom)
    assert dom.by_testid("chat-input").value == ""
    composer.handle(ErrorRaised("the disk is full", unsent="keep me"))
    assert dom.by_testid("chat-input").value == "keep me"


def test_while_another_tab_answers_the_composer_is_read_only_and_says_why() -> None:
    dom, composer, _ = composer_page()
    composer.handle(AnsweringElsewhere(True))
    assert dom.by_testid("chat-input").disabled and dom.by_testid("send").disabled
    assert not dom.by_testid("answering-elsewhere").hidden
    composer.handle(AnsweringElsewhere(False))
    assert not dom.by_testid("chat-input").disabled
    assert dom.by_testid("answering-elsewhere").hidden


def test_stop_is_shown_while_streaming_and_asks_core_to_stop() -> None:
    dom, composer, asked = composer_page()
    composer.handle(StreamingChanged(True))
    assert not dom.by_testid("stop").hidden and dom.by_testid("send").hidden
    dom.fire(dom.by_testid("stop"), "click")
    assert asked.calls == [("stop", ())]
    assert dom.by_testid("chat-input").focused


def banner_page() -> tuple[FakeDom, ErrorBanner]:
    dom = FakeDom()
    root = dom.add("div", "error", hidden="")
    root.appendChild(dom.create("span", **{"class": "error-text"}))
    root.appendChild(dom.create("button", testid="error-dismiss"))
    banner = ErrorBanner(dom)  # type: ignore[arg-type]
    banner.bind(Asked().intents())
    return dom, banner


def test_the_error_banner_clears_when_the_user_moves_on_or_a_reply_succeeds() -> None:
    dom, banner = banner_page()
    chat = Conversation("c", "t", None, 1, 1)
    banner.handle(ErrorRaised("boom"))
    assert not dom.by_testid("error").hidden
    banner.handle(ConversationOpened(chat, (), refreshed=True))  # shown again, not moved on
    assert not dom.by_testid("error").hidden
    banner.handle(ConversationOpened(chat, ()))
    assert dom.by_testid("error").hidden
    banner.handle(ErrorRaised("boom again"))
    banner.handle(ReplyMetrics("m", 10.0, 100.0, 10.0))
    assert dom.by_testid("error").hidden
    banner.handle(ErrorRaised("and again"))
    dom.fire(dom.by_testid("error-dismiss"), "click")
    assert dom.by_testid("error").hidden


def test_the_figures_belong_to_the_open_chat() -> None:
    dom = FakeDom()
    dom.add("div", "app")
    select = dom.add("select", "model-select")
    select.appendChild(dom.create("option", value=""))
    status = dom.add("div", "model-status")
    status.appendChild(dom.create("span", **{"class": "model-status-text"}))
    dom.add("progress", "model-progress")
    metrics = dom.add("div", "metrics")
    bar = ModelBar(dom, CATALOG)  # type: ignore[arg-type]
    bar.handle(ReplyMetrics("m", 608.9, 100.0, 5.0))  # the last reply of another chat
    slow = Message("r", "c", "assistant", "hi", 1, "done", ReplyInfo(tokens_per_second=12.0,
                   duration_ms=2000.0, first_token_ms=300.0))  # fmt: skip
    bar.handle(ConversationOpened(Conversation("c", "t", None, 1, 1), (slow,)))
    assert metrics.getAttribute("data-tokens-per-second") == "12.00"
    bar.handle(ConversationOpened(None, ()))
    assert metrics.getAttribute("data-tokens-per-second") == "" and metrics.textContent == ""
