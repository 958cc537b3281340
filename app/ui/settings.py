"""The settings form: the open chat's panel (the `settings` button) and the `#/settings` page.

There is one form (index.html), and one set of its test ids in the page: it sits on the
`#/settings` page (the settings new chats start with) and moves into the chat's native modal
`<dialog>` while that is open (this chat's settings; in a new chat, what it will be created
with). `SettingsForm` is the form's code for both: it shows the values, the model's defaults
as placeholders, the limits in the hints, and per field the reason a value was refused
(`aria-invalid`, the reason joined to the field's description). Core decides what is valid
(app/core/settings.py): the form sends what was typed and shows what core says back, so an
invalid form stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.core.conversations import ChatSettings
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    Event,
    OpenConversationDeleted,
    SettingsRefused,
    SettingsSaved,
    SettingsScope,
    SettingsShown,
)
from app.core.settings import FIELDS, FORM, Field, SettingsLimits, form_values

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

# Each field's test id (its element id is `settings-<test id>`).
TEST_IDS: dict[Field, str] = {
    "system_prompt": "system-prompt",
    "temperature": "temperature",
    "top_p": "top-p",
    "max_new_tokens": "max-new-tokens",
    "repetition_penalty": "repetition-penalty",
}
TITLES: dict[SettingsScope, str] = {
    "chat": "Settings of this chat",
    "defaults": "Settings for new chats",
}


def intro(scope: SettingsScope, limits: SettingsLimits) -> str:
    if scope == "defaults":
        return "New chats start with these. A field left empty follows the model's own default."
    model = limits.model_label or "the model"
    return f"Used for the next replies. A field left empty follows {model}'s own default."


def placeholders(scope: SettingsScope, defaults: ChatSettings) -> dict[Field, str]:
    """What an empty field means, shown in it."""
    shown = form_values(defaults)
    found: dict[Field, str] = {"system_prompt": "None"}
    for name in FIELDS[1:]:
        value = shown[name]
        if scope == "chat" and value:
            found[name] = f"Model default: {value}"
        else:
            found[name] = "Model default"
    if scope == "chat" and defaults.temperature == 0:
        found["temperature"] = "Model default: 0 (always the likeliest)"
    return found


def max_tokens_hint(limits: SettingsLimits) -> str:
    limit = limits.max_new_tokens
    words = f"How long a reply may get: 1 to {limit:,} tokens (about ¾ of a word each)"
    if limits.context_tokens and limits.model_label:
        return f"{words}; {limits.model_label} reads {limit:,} tokens at once, reply included."
    return f"{words}. A chat's model may allow less; its reply is cut to fit."


class SettingsForm:
    """The one settings form, wherever it is shown."""

    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self.root = dom.by_testid("settings-panel")
        self._title = self.root.querySelector(".settings-title")
        self._intro = self.root.querySelector(".settings-intro")
        self._form_error = self.root.querySelector(".settings-form-error")
        self._saved = self.root.querySelector(".settings-saved")
        self.cancel = self.root.querySelector(".settings-cancel")
        self.save = dom.by_testid("settings-save", self.root)
        self.fields: dict[Field, Element] = {
            name: dom.by_testid(testid, self.root) for name, testid in TEST_IDS.items()
        }
        self._errors = {name: self._by_id(f"settings-{t}-error") for name, t in TEST_IDS.items()}
        self._max_hint = self._by_id("settings-max-new-tokens-hint")
        self.scope: SettingsScope = "defaults"

    def _by_id(self, element_id: str) -> Element:
        element = self.root.querySelector(f'[id="{element_id}"]')
        if not element:
            raise LookupError(f"the settings form has no #{element_id}")
        return element

    def fill(self, shown: SettingsShown) -> None:
        """Show these settings: values, placeholders, limits; no reasons left from before."""
        self.scope = shown.scope
        self.root.setAttribute("data-scope", shown.scope)
        self._title.textContent = TITLES[shown.scope]
        self._intro.textContent = intro(shown.scope, shown.limits)
        self._max_hint.textContent = max_tokens_hint(shown.limits)
        self.cancel.hidden = shown.scope != "chat"
        self.saved(False)
        values = form_values(shown.settings)
        hints = placeholders(shown.scope, shown.model_defaults)
        for name, field in self.fields.items():
            field.value = values[name]
            field.setAttribute("placeholder", hints[name])
        self.show_reasons({})

    def values(self) -> dict[str, str]:
        """What the fields say, as typed."""
        return {name: str(field.value) for name, field in self.fields.items()}

    def show_reasons(self, reasons: Mapping[str, str]) -> None:
        """Each refused field says why (and is marked invalid); the others are cleared. Focus
        goes to the first refused field, whose description now includes the reason."""
        first: Element | None = None
        for name, field in self.fields.items():
            reason = reasons.get(name)
            error = self._errors[name]
            hint = f"settings-{TEST_IDS[name]}-hint"
            error.textContent = reason or ""
            error.hidden = not reason
            if reason:
                field.setAttribute("aria-invalid", "true")
                field.setAttribute("aria-describedby", f"settings-{TEST_IDS[name]}-error {hint}")
                first = first or field
            else:
                field.removeAttribute("aria-invalid")
                field.setAttribute("aria-describedby", hint)
        overall = reasons.get(FORM)
        self._form_error.textContent = overall or ""
        self._form_error.hidden = not overall
        if first is not None:
            first.focus()

    def saved(self, shown: bool) -> None:
        """The note beside Save that says the values are stored (until the next edit)."""
        self._saved.hidden = not shown

    def focus(self) -> None:
        self.fields["system_prompt"].focus()


class Settings:
    """The `settings` button and its dialog, the `#/settings` page, and the form they share."""

    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self.form = SettingsForm(dom)
        self._button = dom.by_testid("settings")
        self._dialog = dom.by_testid("settings-dialog")
        self._page = dom.by_testid("settings-page")
        self._intents: Intents | None = None
        self._return_focus = True

    @property
    def is_open(self) -> bool:
        """Whether the chat's settings dialog is open."""
        return bool(self._dialog.open)

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        dom = self._dom
        dom.on(self._button, "click", lambda _e: intents.open_settings())
        dom.on(self.form.root, "submit", self._submitted)
        dom.on(self.form.root, "input", lambda _e: self.form.saved(False))
        dom.on(self.form.cancel, "click", lambda _e: self.close())
        dom.on(self._dialog, "close", self._closed)
        dom.on(self._dialog, "keydown", self._key)

    def _closed(self, _event: Any) -> None:
        if self._return_focus:
            self._button.focus()
        self._return_focus = True

    def _submitted(self, event: Any) -> None:
        event.preventDefault()
        if self._intents is not None:
            self._intents.save_settings(self.form.scope, self.form.values())

    def _key(self, event: Any) -> None:
        """Tab and Shift+Tab stay in the dialog (a native modal lets focus leave for the
        browser's own toolbar after its last control)."""
        if event.key != "Tab":
            return
        first, last = self.form.fields["system_prompt"], self.form.save
        active = self._dom.document.activeElement
        if event.shiftKey and active == first:
            event.preventDefault()
            last.focus()
        elif not event.shiftKey and active == last:
            event.preventDefault()
            first.focus()

    def close(self, *, return_focus: bool = True) -> None:
        """Close the chat's dialog; focus goes back to the `settings` button unless the page
        moves on (another chat or page puts the focus where it belongs)."""
        if self.is_open:
            self._return_focus = return_focus
            self._dialog.close()

    def handle(self, event: Event) -> None:
        match event:
            case SettingsShown(scope):
                self._show(event, scope)
            case SettingsRefused(scope, reasons) if scope == self.form.scope:
                self.form.show_reasons(reasons)
            case SettingsSaved("chat") if self.form.scope == "chat":
                self.close()
            case SettingsSaved("defaults") if self.form.scope == "defaults":
                self.form.show_reasons({})
                self.form.saved(True)
            case ConversationOpened(_, _, created, refreshed) if not created and not refreshed:
                self.close(return_focus=False)  # another chat: these are not its settings
            case ConversationNotFound() | OpenConversationDeleted():
                self.close(return_focus=False)

    def _show(self, shown: SettingsShown, scope: SettingsScope) -> None:
        if scope == "chat":
            self._dialog.appendChild(self.form.root)
            self.form.fill(shown)
            if not self.is_open:
                self._dialog.showModal()
            self.form.focus()
        else:
            self.to_page()
            self.form.fill(shown)

    def to_page(self) -> None:
        """Put the form on the `#/settings` page (the chat's dialog closes)."""
        self.close(return_focus=False)
        self._page.appendChild(self.form.root)
