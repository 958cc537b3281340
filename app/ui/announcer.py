"""What a screen reader hears without looking: one polite live region, said once per change.

The message list is not a live region (it is rewritten on every streamed chunk), and neither is
the model status (its text counts bytes on every progress event). Instead `Announcements` picks,
from core's events, the few things worth saying: a reply that finished (or stopped, or failed),
once; a change of the shown model's state, once per state, never per downloaded chunk; how many
conversations an import brought in; settings that were saved (the dialog closes, or the page
stays as it was: nothing else would say so). It is pure logic, tested as such; `Announcer` only
writes what it decides into the live region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.core.conversations import Message
from app.core.events import (
    ConversationsImported,
    Event,
    MessageAdded,
    MessageUpdated,
    ModelState,
    ModelStatusChanged,
    ModelWanted,
    SettingsSaved,
)

from .intents import Intents
from .transfer import imported_text

if TYPE_CHECKING:
    from app.browser.dom import Dom

REPLY_ENDINGS = {"done": "finished", "stopped": "stopped", "error": "failed"}


class Announcements:
    """Decides what to announce after each event: a sentence, or None to stay quiet."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = labels
        self._streaming: set[str] = set()  # assistant replies seen streaming, not yet ended
        self._states: dict[str, ModelState] = {}
        self._shown: str | None = None  # the model the status shows (the open chat's)
        self._said: tuple[str, ModelState] | None = None

    def after(self, event: Event) -> str | None:
        match event:
            case MessageAdded(message) | MessageUpdated(message):
                return self._reply(message)
            case ConversationsImported(conversations):
                return imported_text(conversations)
            case ModelWanted(model):
                # Another chat's model: the status shows where it stands; nothing changed.
                self._shown = model
                self._said = (model, self._states.get(model, "idle"))
            case SettingsSaved(scope):
                return "Settings saved" if scope == "chat" else "Settings for new chats saved"
            case ModelStatusChanged(model, state, reason):
                self._states[model] = state
                if self._shown not in (None, model) or self._said == (model, state):
                    return None
                self._shown, self._said = model, (model, state)
                return self._status(model, state, reason)
        return None

    def _label(self, model: str | None) -> str:
        return self._labels.get(model, model) if model else "the model"

    def _reply(self, message: Message) -> str | None:
        if message.role != "assistant":
            return None
        if message.status == "streaming":
            self._streaming.add(message.id)
            return None
        if message.id not in self._streaming:
            return None  # a stored reply shown again, or an ending already said
        self._streaming.discard(message.id)
        return f"Reply from {self._label(message.model)} {REPLY_ENDINGS[message.status]}"

    def _status(self, model: str, state: ModelState, reason: str) -> str | None:
        label = self._label(model)
        match state:
            case "queued":
                return f"{label} is waiting to load"
            case "downloading":
                return f"Downloading {label}"
            case "compiling":
                return f"Preparing {label}"
            case "ready":
                return f"{label} is ready"
            case "failed":
                return f"{label} failed to load: {reason}" if reason else f"{label} failed to load"
            case "canceled":
                return f"Loading {label} was canceled"
        return None  # idle: nothing happened worth saying


class Announcer:
    """Writes each announcement as a new node of the live region (`announcer`), so that the same
    sentence twice in a row (two replies that finished) is said twice."""

    def __init__(self, dom: Dom, labels: Mapping[str, str]) -> None:
        self._dom = dom
        self._region = dom.by_testid("announcer")
        self.decide = Announcements(labels)

    def bind(self, intents: Intents) -> None:
        pass

    def handle(self, event: Event) -> None:
        text = self.decide.after(event)
        if text:
            self.say(text)

    def say(self, text: str) -> None:
        self._region.textContent = ""
        self._region.appendChild(self._dom.create("p", text=text))
