"""Widgets of app/ui against a small fake page: what they show and what they ask core for."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from app.core.catalog import parse_catalog
from app.core.conversations import Conversation, Message, ReplyInfo
from app.core.events import (
    AnsweringElsewhere,
    ConversationOpened,
    ErrorRaised,
    MessageAdded,
    MessageUpdated,
    ModelState,
    ModelStatusChanged,
    ModelWanted,
    ReplyMetrics,
    StreamingChanged,
)
from app.ui.announcer import Announcements, Announcer
from app.ui.banner import ErrorBanner
from app.ui.composer import Composer
from app.ui.dialogs import ConfirmDialog
from app.ui.drawer import Drawer
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

        return Intents(**{f.name: record(f.name) for f in dataclasses.fields(Intents)})


def composer_page(*, ready: bool = True) -> tuple[FakeDom, Composer, Asked]:
    dom = FakeDom()
    form = dom.add("form", **{"class": "composer"})
    for tag, testid in [("textarea", "chat-input"), ("button", "send"), ("button", "stop")]:
        form.appendChild(dom.create(tag, testid=testid))
    dom.add("p", "answering-elsewhere", hidden="")
    composer = Composer(dom)  # type: ignore[arg-type]
    asked = Asked()
    composer.bind(asked.intents())
    if ready:
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
    dom, composer, asked = composer_page(ready=False)
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


# -- the live region ---------------------------------------------------------------------------


def reply(status: str, message_id: str = "r1") -> Message:
    return Message(message_id, "c", "assistant", "hi", 1, status,  # type: ignore[arg-type]
                   ReplyInfo(model="a/b"))  # fmt: skip


def test_a_reply_is_announced_once_when_it_ends_never_while_it_streams() -> None:
    say = Announcements({"a/b": "A B"})
    assert say.after(MessageAdded(Message("u", "c", "user", "hi", 1))) is None
    assert say.after(MessageAdded(reply("streaming"))) is None
    assert say.after(MessageUpdated(reply("streaming"))) is None
    assert say.after(MessageUpdated(reply("done"))) == "Reply from A B finished"
    assert say.after(MessageUpdated(reply("done"))) is None  # said once
    say.after(MessageAdded(reply("streaming", "r2")))
    assert say.after(MessageUpdated(reply("stopped", "r2"))) == "Reply from A B stopped"
    say.after(MessageAdded(reply("streaming", "r3")))
    assert say.after(MessageUpdated(reply("error", "r3"))) == "Reply from A B failed"


def test_replies_shown_from_storage_are_not_announced() -> None:
    say = Announcements({"a/b": "A B"})
    assert say.after(MessageUpdated(reply("done"))) is None
    assert say.after(ConversationOpened(None, (reply("done"),))) is None


def test_a_model_state_is_announced_once_not_per_downloaded_chunk() -> None:
    say = Announcements({"a/b": "A B"})
    load: list[tuple[ModelState, int]] = [("queued", 0)]
    load += [("downloading", n) for n in range(0, 100, 5)]
    load += [("compiling", 100), ("compiling", 100), ("ready", 100)]
    said = [
        say.after(ModelStatusChanged("a/b", state, loaded_bytes=n, total_bytes=100))
        for state, n in load
    ]
    assert [s for s in said if s] == [
        "A B is waiting to load", "Downloading A B", "Preparing A B", "A B is ready",
    ]  # fmt: skip
    failed = say.after(ModelStatusChanged("a/b", "failed", "no network"))
    assert failed == "A B failed to load: no network"


def test_only_the_shown_model_is_announced_and_switching_chats_says_nothing() -> None:
    say = Announcements({"a/b": "A B", "c/d": "C D"})
    say.after(ModelStatusChanged("a/b", "ready"))
    assert say.after(ModelWanted("c/d")) is None
    assert say.after(ModelStatusChanged("a/b", "canceled")) is None  # not the one shown
    assert say.after(ModelStatusChanged("c/d", "downloading")) == "Downloading C D"
    say.after(ModelStatusChanged("c/d", "ready"))
    assert say.after(ModelWanted("a/b")) is None


def test_the_announcer_writes_each_sentence_as_a_new_node_so_a_repeat_is_said_again() -> None:
    dom = FakeDom()
    region = dom.add("div", "announcer")
    announcer = Announcer(dom, {"a/b": "A B"})  # type: ignore[arg-type]
    for message_id in ("r1", "r2"):
        announcer.handle(MessageAdded(reply("streaming", message_id)))
        announcer.handle(MessageUpdated(reply("done", message_id)))
    assert [p.textContent for p in region.children] == ["Reply from A B finished"] * 2


# -- the drawer and the dialog ------------------------------------------------------------------


def drawer_page(*, narrow: bool = True) -> tuple[FakeDom, Drawer]:
    dom = FakeDom()
    window = SimpleNamespace(matchMedia=lambda _q: SimpleNamespace(matches=narrow))
    dom.document.defaultView = window
    app = dom.add("div", "app", data_drawer="closed")
    app.appendChild(dom.create("button", testid="menu", aria_expanded="false"))
    sidebar = app.appendChild(dom.create("aside", **{"class": "sidebar"}))
    sidebar.appendChild(dom.create("button", testid="new-chat"))
    main = app.appendChild(dom.create("main", **{"class": "chat"}))
    main.appendChild(dom.create("textarea", testid="chat-input"))
    app.appendChild(dom.create("div", testid="drawer-scrim"))
    drawer = Drawer(dom)  # type: ignore[arg-type]
    drawer.bind(Asked().intents())
    return dom, drawer


def click_in_sidebar(dom: FakeDom, *inside: str) -> None:
    """A click on something in the sidebar that lies inside elements matching `inside`."""
    target = SimpleNamespace(closest=lambda selector: selector in inside)
    sidebar = dom.document.querySelector(".sidebar")
    dom.listeners[(id(sidebar), "click")](SimpleNamespace(target=target))


def test_the_menu_opens_the_drawer_moves_focus_in_and_back_to_the_menu() -> None:
    dom, drawer = drawer_page()
    menu, main = dom.by_testid("menu"), dom.document.querySelector(".chat")
    dom.fire(menu, "click")
    assert dom.by_testid("app").getAttribute("data-drawer") == "open"
    assert menu.getAttribute("aria-expanded") == "true"
    assert dom.by_testid("new-chat").focused and main.inert
    menu.focused = False
    dom.fire(menu, "click")
    assert dom.by_testid("app").getAttribute("data-drawer") == "closed"
    assert menu.getAttribute("aria-expanded") == "false"
    assert menu.focused and not main.inert
    dom.fire(menu, "click")
    dom.fire(dom.by_testid("drawer-scrim"), "click")
    assert not drawer.is_open


def test_choosing_a_conversation_or_new_chat_closes_the_drawer_and_focuses_the_input() -> None:
    for chosen in [('[data-testid="new-chat"]',), ('[data-testid="conversation-item"]',)]:
        dom, drawer = drawer_page()
        drawer.open()
        click_in_sidebar(dom, *chosen)
        assert not drawer.is_open and dom.by_testid("chat-input").focused
        assert not dom.by_testid("menu").focused


def test_rename_and_delete_buttons_in_the_drawer_leave_it_open() -> None:
    dom, drawer = drawer_page()
    drawer.open()
    click_in_sidebar(dom, '[data-testid="conversation-item"]', "button, input")
    assert drawer.is_open


def test_a_chat_opened_elsewhere_or_a_wider_window_closes_the_drawer_quietly() -> None:
    dom, drawer = drawer_page()
    drawer.open()
    drawer.handle(ConversationOpened(None, ()))
    assert not drawer.is_open and not dom.by_testid("menu").focused
    dom, drawer = drawer_page(narrow=False)
    drawer.open()
    dom.fire(dom.document.defaultView, "resize")
    assert not drawer.is_open and not dom.document.querySelector(".chat").inert


def test_tab_cycles_inside_the_question_dialog() -> None:
    dom = FakeDom()
    dialog = dom.add("dialog", "confirm-dialog")
    for cls in ("confirm-title", "confirm-text", "cancel"):
        dialog.appendChild(dom.create("p", **{"class": cls}))
    dialog.appendChild(dom.create("button", testid="confirm"))
    ConfirmDialog(dom).bind(Asked().intents())  # type: ignore[arg-type]
    cancel, confirm = dialog.children[2], dom.by_testid("confirm")
    dom.document.activeElement = confirm
    assert dom.fire(dialog, "keydown", key="Tab").defaultPrevented and cancel.focused
    dom.document.activeElement = cancel
    prevented: list[bool] = []
    shift_tab = SimpleNamespace(
        key="Tab", shiftKey=True, preventDefault=lambda: prevented.append(True)
    )
    dom.listeners[(id(dialog), "keydown")](shift_tab)  # fire() always has shiftKey=False
    assert prevented and confirm.focused
    assert not dom.fire(dialog, "keydown", key="Tab").defaultPrevented  # cancel -> confirm


def model_bar_page() -> FakeDom:
    """The toolbar's elements the model bar owns."""
    dom = FakeDom()
    dom.add("div", "app")
    dom.add("select", "model-select").appendChild(dom.create("option", value=""))
    status = dom.add("div", "model-status")
    status.appendChild(dom.create("span", **{"class": "model-status-text"}))
    dom.add("progress", "model-progress", value="0")
    dom.add("button", "model-offer")
    dom.add("div", "metrics")
    return dom


def test_the_figures_belong_to_the_open_chat() -> None:
    dom = model_bar_page()
    metrics = dom.by_testid("metrics")
    bar = ModelBar(dom, CATALOG)  # type: ignore[arg-type]
    bar.handle(ReplyMetrics("m", 608.9, 100.0, 5.0))  # the last reply of another chat
    slow = Message("r", "c", "assistant", "hi", 1, "done", ReplyInfo(tokens_per_second=12.0,
                   duration_ms=2000.0, first_token_ms=300.0))  # fmt: skip
    bar.handle(ConversationOpened(Conversation("c", "t", None, 1, 1), (slow,)))
    assert metrics.getAttribute("data-tokens-per-second") == "12.00"
    bar.handle(ConversationOpened(None, ()))
    assert metrics.getAttribute("data-tokens-per-second") == "" and metrics.textContent == ""


def test_enter_pressed_before_ready_is_sent_once_ready() -> None:
    dom, composer, asked = composer_page(ready=False)
    field = dom.by_testid("chat-input")
    field.value = "early bird"
    field.setAttribute("data-send-when-ready", "true")  # what app/boot.js does on Enter
    composer.mark_ready()
    assert asked.calls == [("send", ("early bird",))]
    assert field.getAttribute("data-send-when-ready") is None
