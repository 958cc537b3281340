"""First run: the welcome panel, and a model picker that asks before it downloads.

- `Welcome` shows in an empty chat while no catalog model is usable without a download. It
  says what Parlance is (private: the model runs here, nothing leaves the device), recommends a
  model with its size and source, and downloads it only when the user says so.
- `ModelGate` stands between the model picker and core: picking a hub model that is not in the
  browser yet asks first, naming its size (browsing the picker with the keyboard starts no
  download: the question takes the focus); a local model whose files are missing is not listed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from app.core.catalog import Catalog, ModelEntry
from app.core.endpoints import remote_words
from app.core.events import (
    CatalogChanged,
    ConversationNotFound,
    ConversationOpened,
    Event,
    MessageAdded,
    ModelStatusChanged,
    ModelsUsable,
    TargetChanged,
)

from .dialogs import ConfirmDialog
from .format import format_bytes
from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom


def download_words(entry: ModelEntry) -> str:
    """How big a download is and where it comes from, in plain words."""
    if entry.host:
        return f"nothing to download, it {remote_words(entry.host)}"
    size = f"about {format_bytes(entry.bytes)}" if entry.bytes else "size unknown"
    return f"{size}, from Hugging Face" if entry.source == "hub" else f"{size}, from this site"


class ModelGate:
    """The model picker's choices, after a question where one would start a download."""

    def __init__(self, dom: Dom, catalog: Catalog, dialog: ConfirmDialog) -> None:
        self._dom = dom
        self._catalog = catalog
        self._dialog = dialog
        self._select = dom.by_testid("model-select")
        self._usable: frozenset[str] | None = None
        self._target: str | None = None
        self._intents: Intents | None = None

    def wrap(self, intents: Intents) -> Intents:
        """The intents the picker gets: `choose_model` goes through this gate."""
        self._intents = intents
        return replace(intents, choose_model=self.choose)

    def bind(self, intents: Intents) -> None:
        pass  # its DOM events are the picker's (ModelBar); it sees them through `wrap`

    def needs_download(self, entry: ModelEntry) -> bool:
        return entry.source == "hub" and self._usable is not None and entry.id not in self._usable

    def choose(self, target: str | None) -> None:
        assert self._intents is not None
        intents = self._intents
        entry = self._catalog.get(target) if target else None
        if entry is None or not self.needs_download(entry):
            intents.choose_model(target)
            return
        self._select.value = self._target or ""  # until the user says yes
        self._dialog.ask(
            title=f"Download {entry.label}?",
            text=(
                f"It is {download_words(entry)}. It downloads once and stays in this browser, "
                "so it works offline afterwards. Your messages never leave this device."
            ),
            confirm_label="Download",
            on_yes=lambda: intents.choose_model(target),
            after=lambda: self._select.focus(),
            destructive=False,
        )

    def handle(self, event: Event) -> None:
        match event:
            case CatalogChanged(catalog):
                self._catalog = catalog
            case ModelsUsable(model_ids):
                self._usable = model_ids
                self._offer_present_local_models()
            case TargetChanged(target):
                self._target = target

    def _offer_present_local_models(self) -> None:
        for entry in self._catalog.models:
            if entry.source != "local":
                continue
            option = self._select.querySelector(f'option[value="{entry.id}"]')
            if option:
                # Hidden from the list, not disabled: a chat that targets it still shows it, and
                # choosing it (from a link or a test) fails with the reason.
                option.hidden = self._usable is not None and entry.id not in self._usable


class Welcome:
    def __init__(self, dom: Dom, catalog: Catalog) -> None:
        self._dom = dom
        self._catalog = catalog
        self._root = dom.by_testid("welcome")
        self._name = self._root.querySelector(".welcome-model-name")
        self._size = self._root.querySelector(".welcome-model-size")
        self._button = dom.by_testid("welcome-download", self._root)
        self._empty = dom.document.querySelector(".empty-state")
        self._usable: frozenset[str] | None = None
        self._empty_chat = True
        self._downloading = False
        self._recommended = self._pick_recommended()
        if self._recommended is not None:
            self._name.textContent = self._recommended.label
            self._size.textContent = download_words(self._recommended)

    def _pick_recommended(self) -> ModelEntry | None:
        if self._catalog.recommended:
            return self._catalog.get(self._catalog.recommended)
        return next((m for m in self._catalog.models if m.source == "hub"), None)

    def bind(self, intents: Intents) -> None:
        self._dom.on(self._button, "click", lambda _e: self._download(intents))

    def _download(self, intents: Intents) -> None:
        if self._recommended is None or self._downloading:
            return
        self._downloading = True
        self._button.disabled = True
        self._button.textContent = "Downloading…"
        intents.choose_model(self._recommended.id)

    def handle(self, event: Event) -> None:
        match event:
            case CatalogChanged(catalog):
                self._catalog = catalog
            case ModelsUsable(model_ids):
                self._usable = model_ids
            case ConversationOpened(_, messages):
                self._empty_chat = not messages
            case ConversationNotFound():
                self._empty_chat = False
            case MessageAdded():
                self._empty_chat = False
            case ModelStatusChanged(model, "failed" | "canceled") if self._is_recommended(model):
                self._downloading = False
                self._button.disabled = False
                self._button.textContent = "Try the download again"
            case _:
                return
        self._show()

    def _is_recommended(self, model: str) -> bool:
        return self._recommended is not None and model == self._recommended.id

    def _show(self) -> None:
        nothing_usable = self._usable is not None and not (
            self._usable & {m.id for m in self._catalog.models}
        )
        show = nothing_usable and self._empty_chat and self._recommended is not None
        self._root.hidden = not show
        self._empty.hidden = show or not self._empty_chat
