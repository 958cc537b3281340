"""What the user asked for, as calls: widgets turn DOM events into these; main wires them to
core. Widgets never call core themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.core.events import Event
from app.core.search import SearchHit


def _nothing(*_args: object) -> None:
    return None


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
    # Search for the text (at once when True, else once typing pauses); "" ends the search.
    search: Callable[[str, bool], None] = _nothing
    # The search box has the focus: a search is coming, get ready for it.
    warm_search: Callable[[], None] = _nothing
    # Open a search result's conversation at its message, on its branch.
    open_search_result: Callable[[SearchHit], None] = _nothing


class Widget(Protocol):
    """A part of the page that owns one DOM subtree: it renders the events it cares about and
    turns its own DOM events into intents."""

    def bind(self, intents: Intents) -> None: ...

    def handle(self, event: Event) -> None: ...
