"""What the user asked for, as calls: widgets turn DOM events into these; main wires them to
core. Widgets never call core themselves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from app.core.events import Event, SettingsScope
from app.core.ports import PickedFile
from app.core.search import SearchHit


@dataclass
class Intents:
    send: Callable[[str], None]
    stop: Callable[[], None]
    regenerate: Callable[[], None]
    # Send an edited user message as a new branch from it: (message id, new text).
    edit: Callable[[str, str], None]
    # Show the branch that ends at this lane's newest message (tree.py).
    show_branch: Callable[[str], None]
    # The reader scrolled up to the first message shown: the page above it (paging.py).
    load_older: Callable[[], None]
    choose_model: Callable[[str | None], None]
    new_chat: Callable[[], None]
    open_chat: Callable[[str], None]
    rename: Callable[[str, str], None]
    delete: Callable[[str], None]
    # The open chat was deleted in another tab: leave it for a new chat.
    leave_deleted_chat: Callable[[], None]
    # Search for the text (at once when True, else once typing pauses); "" ends the search.
    search: Callable[[str, bool], None]
    # The search box has the focus: a search is coming, get ready for it.
    warm_search: Callable[[], None]
    # Open a search result's conversation at its message, on its branch.
    open_search_result: Callable[[SearchHit], None]
    # Download the open chat: as JSON (False) or as Markdown (True).
    export_chat: Callable[[bool], None]
    export_all: Callable[[], None]
    import_file: Callable[[PickedFile], None]
    # The `settings` button: show the open chat's settings.
    open_settings: Callable[[], None]
    # The settings form's Save: what its fields say (settings.FIELDS -> text as typed).
    save_settings: Callable[[SettingsScope, Mapping[str, str]], None]
    # The model manager (#/models), by model id; a hub model to add, as the user typed it.
    download_model: Callable[[str], None]
    cancel_download: Callable[[str], None]
    delete_model: Callable[[str], None]
    remove_model: Callable[[str], None]
    add_hub_model: Callable[[str], None]
    # An OpenAI-compatible server to add: (its address, its key as typed, "" for none).
    add_endpoint: Callable[[str, str], None]


class Widget(Protocol):
    """A part of the page that owns one DOM subtree: it renders the events it cares about and
    turns its own DOM events into intents."""

    def bind(self, intents: Intents) -> None: ...

    def handle(self, event: Event) -> None: ...
