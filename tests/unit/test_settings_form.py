"""The settings form (app/ui/settings.py) on the fake page, built from index.html's own markup:
one form, moved between the chat's dialog and the #/settings page; what it shows, what it asks
core for, and the reasons it shows per field."""

from __future__ import annotations

from dataclasses import fields
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

from app.core.catalog import parse_catalog
from app.core.conversations import ChatSettings, Conversation, Message, ReplyInfo
from app.core.events import (
    ConversationOpened,
    SettingsRefused,
    SettingsSaved,
    SettingsShown,
)
from app.core.settings import FORM, SettingsLimits
from app.ui.announcer import Announcements
from app.ui.format import reply_details
from app.ui.intents import Intents
from app.ui.settings import Settings
from app.ui.view import ChatView

from .fake_dom import FakeDom, FakeElement
from .test_layout import ROOT

VOID = {"input", "meta", "link", "br", "img", "hr", "source"}


class _Builder(HTMLParser):
    """index.html's <body> as fake elements (text only where an element has no children)."""

    def __init__(self, body: FakeElement) -> None:
        super().__init__()
        self.stack = [body]
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
            return
        if not self.in_body or tag == "script":
            return
        element = FakeElement(tag, **{k: v or "" for k, v in attrs})
        self.stack[-1].appendChild(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        inside = self.in_body and tag not in VOID and tag != "script" and len(self.stack) > 1
        if inside and self.stack[-1].tagName == tag.upper():
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.in_body and data.strip() and not self.stack[-1].children:
            self.stack[-1].textContent += data.strip()


def index_page() -> FakeDom:
    dom = FakeDom()
    _Builder(dom.body).feed((ROOT / "index.html").read_text())
    return dom


class Asked:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def intents(self) -> Intents:
        def record(name: str) -> Any:
            return lambda *args: self.calls.append((name, args))

        return Intents(**{f.name: record(f.name) for f in fields(Intents)})


def part(root: FakeElement | FakeDom, selector: str) -> FakeElement:
    found = (root.body if isinstance(root, FakeDom) else root).querySelector(selector)
    assert found is not None, selector
    return found


def settings_page() -> tuple[FakeDom, Settings, Asked]:
    dom = index_page()
    settings = Settings(dom)  # type: ignore[arg-type]
    asked = Asked()
    settings.bind(asked.intents())
    return dom, settings, asked


CHAT_SHOWN = SettingsShown(
    "chat",
    ChatSettings("Be brief.", temperature=0.5),
    ChatSettings(temperature=0.0, max_new_tokens=256),
    SettingsLimits(2048, "Tiny A"),
)


def test_the_settings_button_asks_core_for_the_open_chats_settings() -> None:
    dom, _settings, asked = settings_page()
    dom.fire(dom.by_testid("settings"), "click")
    assert asked.calls == [("open_settings", ())]


def test_the_chats_settings_open_in_the_dialog_with_values_defaults_and_limits() -> None:
    dom, settings, _asked = settings_page()
    dialog, panel = dom.by_testid("settings-dialog"), dom.by_testid("settings-panel")
    settings.handle(CHAT_SHOWN)
    assert dialog.open and panel.parent is dialog
    assert len([e for e in dom.body.walk() if e.getAttribute("data-testid") == "temperature"]) == 1
    assert dom.by_testid("system-prompt").value == "Be brief."
    assert dom.by_testid("temperature").value == "0.5"
    assert dom.by_testid("top-p").value == ""
    assert dom.by_testid("max-new-tokens").getAttribute("placeholder") == "Model default: 256"
    assert "likeliest" in str(dom.by_testid("temperature").getAttribute("placeholder"))
    assert dom.by_testid("top-p").getAttribute("placeholder") == "Model default"
    hint = panel.querySelector('[id="settings-max-new-tokens-hint"]')
    assert hint is not None and "1 to 2,048" in hint.textContent and "Tiny A" in hint.textContent
    assert part(panel, ".settings-title").textContent == "Settings of this chat"
    assert not part(panel, ".settings-cancel").hidden
    assert dom.by_testid("system-prompt").focused


def test_save_sends_what_was_typed_for_the_forms_scope() -> None:
    dom, settings, asked = settings_page()
    settings.handle(CHAT_SHOWN)
    dom.by_testid("temperature").value = "-1"
    dom.by_testid("max-new-tokens").value = " 0 "
    event = dom.fire(dom.by_testid("settings-panel"), "submit")
    assert event.defaultPrevented
    (name, (scope, raw)), *_ = asked.calls
    assert name == "save_settings" and scope == "chat"
    assert raw == {"system_prompt": "Be brief.", "temperature": "-1", "top_p": "",
                   "max_new_tokens": " 0 ", "repetition_penalty": ""}  # fmt: skip


def test_each_refused_field_says_why_and_is_marked_invalid() -> None:
    dom, settings, _asked = settings_page()
    settings.handle(CHAT_SHOWN)
    reasons = {
        "temperature": "Temperature must be from 0 to 2.",
        "max_new_tokens": "Max new tokens must be at least 1.",
    }
    settings.handle(SettingsRefused("chat", reasons))
    temperature = dom.by_testid("temperature")
    error = dom.document.querySelector('[id="settings-temperature-error"]')
    assert error is not None and not error.hidden
    assert error.textContent == "Temperature must be from 0 to 2."
    assert temperature.getAttribute("aria-invalid") == "true"
    assert temperature.getAttribute("aria-describedby") == (
        "settings-temperature-error settings-temperature-hint"
    )
    assert temperature.focused  # the first refused field
    assert dom.by_testid("max-new-tokens").getAttribute("aria-invalid") == "true"
    assert dom.by_testid("top-p").getAttribute("aria-invalid") is None
    assert dom.by_testid("settings-dialog").open  # still open: nothing was stored
    # The defaults page's answer is not this form's.
    settings.handle(SettingsRefused("defaults", {"top_p": "no"}))
    assert dom.by_testid("top-p").getAttribute("aria-invalid") is None
    # Fixed fields are cleared on the next answer.
    settings.handle(SettingsRefused("chat", {FORM: "The settings were not saved. Full."}))
    assert temperature.getAttribute("aria-invalid") is None and error.hidden
    overall = dom.document.querySelector(".settings-form-error")
    assert overall is not None and overall.textContent.endswith("Full.") and not overall.hidden


def test_saved_settings_close_the_dialog_and_focus_goes_back_to_the_button() -> None:
    dom, settings, _asked = settings_page()
    settings.handle(CHAT_SHOWN)
    settings.handle(SettingsSaved("chat", ChatSettings()))
    dialog = dom.by_testid("settings-dialog")
    assert not dialog.open
    dom.fire(dialog, "close")
    assert dom.by_testid("settings").focused


def test_opening_another_chat_closes_the_dialog_without_taking_the_focus() -> None:
    dom, settings, _asked = settings_page()
    settings.handle(CHAT_SHOWN)
    settings.handle(ConversationOpened(Conversation("c2", "t", None, 1, 1), ()))
    assert not settings.is_open
    dom.fire(dom.by_testid("settings-dialog"), "close")
    assert not dom.by_testid("settings").focused


def test_the_defaults_page_holds_the_same_form_without_cancel_and_says_saved() -> None:
    dom, settings, asked = settings_page()
    settings.handle(CHAT_SHOWN)
    shown = SettingsShown("defaults", ChatSettings(max_new_tokens=64), ChatSettings(),
                          SettingsLimits())  # fmt: skip
    settings.handle(shown)
    panel = dom.by_testid("settings-panel")
    assert panel.parent is dom.by_testid("settings-page")
    assert not dom.by_testid("settings-dialog").open
    assert part(panel, ".settings-cancel").hidden
    assert part(panel, ".settings-title").textContent == "Settings for new chats"
    assert dom.by_testid("max-new-tokens").value == "64"
    assert dom.by_testid("system-prompt").value == ""
    assert dom.by_testid("temperature").getAttribute("placeholder") == "Model default"
    dom.fire(panel, "submit")
    assert asked.calls[-1][1][0] == "defaults"
    note = panel.querySelector(".settings-saved")
    assert note is not None and note.hidden
    settings.handle(SettingsSaved("defaults", ChatSettings(max_new_tokens=64)))
    assert not note.hidden
    dom.fire(panel, "input")
    assert note.hidden


def test_tab_stays_inside_the_settings_dialog() -> None:
    dom, settings, _asked = settings_page()
    settings.handle(CHAT_SHOWN)
    dialog, first, save = (
        dom.by_testid("settings-dialog"),
        dom.by_testid("system-prompt"),
        dom.by_testid("settings-save"),
    )
    dom.document.activeElement = save
    assert dom.fire(dialog, "keydown", key="Tab").defaultPrevented and first.focused


def test_a_replys_details_say_the_settings_it_ran_with() -> None:
    info = ReplyInfo(model="m", settings=ChatSettings("Answer in French.", 0.0, None, 256, 1.1))
    details = reply_details(Message("r", "c", "assistant", "Bonjour", 1, "done", info))
    assert "System prompt: “Answer in French.”" in details
    assert "Temperature: 0 (greedy" in details
    assert "Max new tokens: 256" in details and "Repetition penalty: 1.1" in details
    assert "Top-p" not in details  # left to the model's own files
    long = ReplyInfo(settings=ChatSettings("word " * 100, temperature=0.7))
    details = reply_details(Message("r", "c", "assistant", "x", 1, "done", long))
    assert "…”" in details and details.endswith("Temperature: 0.7")
    assert "System prompt" not in reply_details(Message("r", "c", "assistant", "x", 1))


def test_the_settings_page_route_shows_the_form_beside_the_sidebar() -> None:
    dom = index_page()
    dom.document.defaultView = SimpleNamespace(matchMedia=lambda _q: SimpleNamespace(matches=True))
    catalog = parse_catalog({"default": "a/b", "models": [{"id": "a/b", "source": "local"}]})
    view = ChatView(dom, catalog)  # type: ignore[arg-type]
    view.bind(Asked().intents())
    app, link = dom.by_testid("app"), dom.by_testid("settings-link")
    view.settings.handle(CHAT_SHOWN)  # the chat's dialog was open
    view.drawer.open()  # the link was chosen in the phone's drawer
    view.show_page("settings")
    assert app.getAttribute("data-page") == "settings"
    assert link.getAttribute("aria-current") == "page"
    assert dom.by_testid("settings-panel").parent is dom.by_testid("settings-page")
    assert not view.settings.is_open and not view.drawer.is_open
    assert dom.by_testid("system-prompt").focused
    view.show_page("chat")
    assert app.getAttribute("data-page") == "chat" and link.getAttribute("aria-current") is None


def test_saved_settings_are_said_once_in_the_live_region() -> None:
    say = Announcements({})
    assert say.after(SettingsSaved("chat", ChatSettings())) == "Settings saved"
    assert say.after(SettingsSaved("defaults", ChatSettings())) == "Settings for new chats saved"
    assert say.after(SettingsRefused("chat", {"temperature": "no"})) is None
