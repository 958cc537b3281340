"""What the user asked for, as calls: widgets turn DOM events into these; main wires them to
core. Widgets never call core themselves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from app.core.events import Event, SettingsScope


@dataclass
class Intents:
    send: Callable[[str], None]
    stop: Callable[[], None]
    regenerate: Callable[[], None]
    choose_model: Callable[[str | None], None]
    new_chat: Callable[[], None]
    open_chat: Callable[[str], None]
    rename: Callable[[str, str], None]
    delete: Callable[[str], None]
    # The open chat was deleted in another tab: leave it for a new chat.
    leave_deleted_chat: Callable[[], None]
    # The `settings` button: show the open chat's settings.
    open_settings: Callable[[], None]
    # The settings form's Save: what its fields say (settings.FIELDS -> text as typed).
    save_settings: Callable[[SettingsScope, Mapping[str, str]], None]


class Widget(Protocol):
    """A part of the page that owns one DOM subtree: it renders the events it cares about and
    turns its own DOM events into intents."""

    def bind(self, intents: Intents) -> None: ...

    def handle(self, event: Event) -> None: ...
