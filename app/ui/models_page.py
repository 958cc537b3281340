"""The model manager page (`#/models`): storage figures, one row per catalog model, the form
that adds a hub model by id, and the one that adds an OpenAI-compatible server.

Rows are kept per model and updated in place (a progress event changes a row's progress, not
the list), so a button keeps the focus while its row changes. Each row says where the model
comes from, its size, whether this browser holds its files and which chats use it; while it
downloads, its progress overall and per file, the speed and the time left. Deleting the files
of a model that chats use asks first, naming them. A server's model says where it runs (its
text goes there) and has nothing to download.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.catalog import ModelEntry
from app.core.downloads import DownloadProgress
from app.core.endpoints import host_of, remote_words
from app.core.events import (
    DownloadEnded,
    DownloadProgressed,
    EndpointAdded,
    EndpointRefused,
    ErrorRaised,
    Event,
    HubModelAdded,
    ModelRow,
    ModelsListed,
    StorageEstimated,
)

from .dialogs import ConfirmDialog
from .format import format_bytes, format_duration
from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

PERSISTED_WORDS = "The browser keeps these files: it will not clear them to free space."
NOT_PERSISTED_WORDS = (
    "The browser may clear downloaded models when the disk runs low; they would then download "
    "again. Parlance asks it to keep them when you download a model."
)
REFUSED_WORDS = (
    "The browser did not promise to keep them: it may clear downloaded models when the disk "
    "runs low, and they would then download again. Installing Parlance as an app, or "
    "bookmarking it, usually makes the browser keep them."
)


def progress_words(progress: DownloadProgress, expected: int | None = None) -> str:
    """E.g. "45% · 230 MB of 510 MB · 3.2 MB/s · 2 min left", with what is known so far; until
    the server has said every file's size, against the catalog's `expected` size if it has one."""
    total = progress.total
    parts = []
    if total:
        parts.append(f"{progress.loaded * 100 // total}%")
        parts.append(f"{format_bytes(progress.loaded)} of {format_bytes(total)}")
    elif expected:
        parts.append(f"{min(99, progress.loaded * 100 // expected)}%")
        parts.append(f"{format_bytes(progress.loaded)} of about {format_bytes(expected)}")
    else:
        parts.append(format_bytes(progress.loaded))
    if progress.bytes_per_second is not None:
        parts.append(f"{format_bytes(int(progress.bytes_per_second))}/s")
    if progress.seconds_left is not None:
        parts.append(f"{format_duration(progress.seconds_left)} left")
    return " · ".join(parts)


def used_by_words(titles: tuple[str, ...]) -> str:
    if not titles:
        return "No chat uses it"
    shown = ", ".join(f"“{t}”" for t in titles[:3])
    more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
    return f"Used by {len(titles)} chat{'s' if len(titles) != 1 else ''}: {shown}{more}"


def origin_words(entry: ModelEntry) -> str:
    """Where a row's model comes from."""
    if entry.base_url:
        return f"OpenAI-compatible server · {entry.base_url} · {entry.model}"
    if entry.source == "hub":
        return f"Hugging Face · {entry.id}"
    return f"This site · {entry.id}"


def endpoint_words(base_url: str, entries: tuple[ModelEntry, ...]) -> str:
    """What adding a server did, e.g. "Added 2 models from 127.0.0.1:8080: a, b."."""
    host = host_of(base_url)
    if not entries:
        return f"{host} answered; its models were already in the list."
    names = ", ".join(e.label for e in entries[:5]) + (" …" if len(entries) > 5 else "")
    noun = "model" if len(entries) == 1 else "models"
    return f"Added {len(entries)} {noun} from {host}: {names}. What you send them goes there."


@dataclass
class _Row:
    root: Element
    facts: Element
    badge: Element
    progress_box: Element
    bar: Element
    words: Element
    files: Element
    download: Element
    cancel: Element
    delete: Element
    remove: Element
    row: ModelRow | None = None


class ModelsPage:
    def __init__(self, dom: Dom, dialog: ConfirmDialog) -> None:
        self._dom = dom
        self._dialog = dialog
        self._root = dom.by_testid("models-page")
        self._list = dom.by_testid("model-list")
        self._usage = dom.by_testid("storage-usage")
        self._figures = self._usage.querySelector(".storage-figures")
        self._meter = self._usage.querySelector(".storage-meter")
        self._persistence = self._usage.querySelector(".storage-persistence")
        self._form = dom.by_testid("hub-model-form")
        self._input = dom.by_testid("hub-model-id")
        self._add = dom.by_testid("hub-model-add")
        self._status = dom.by_testid("hub-model-status")
        self._endpoint_form = dom.by_testid("endpoint-form")
        self._endpoint_url = dom.by_testid("endpoint-url")
        self._endpoint_key = dom.by_testid("endpoint-key")
        self._endpoint_add = dom.by_testid("endpoint-add")
        self._endpoint_status = dom.by_testid("endpoint-status")
        self._rows: dict[str, _Row] = {}
        self._order: list[str] = []
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        self._dom.on(self._form, "submit", self._submit)
        self._dom.on(self._endpoint_form, "submit", self._submit_endpoint)
        self._dom.on(self._list, "click", self._click)

    def focus(self) -> None:
        self._root.focus()

    # -- user actions ------------------------------------------------------------------------

    def _submit(self, event: Any) -> None:
        event.preventDefault()
        text = str(self._input.value).strip()
        if self._intents is None or not text or self._add.disabled:
            return
        self._add.disabled = True
        self._status.textContent = f"Checking {text} on Hugging Face…"
        self._intents.add_hub_model(text)

    def _submit_endpoint(self, event: Any) -> None:
        event.preventDefault()
        url = str(self._endpoint_url.value).strip()
        if self._intents is None or not url or self._endpoint_add.disabled:
            return
        self._endpoint_add.disabled = True
        self._endpoint_status.textContent = f"Asking {url} for its models…"
        self._intents.add_endpoint(url, str(self._endpoint_key.value))

    def _click(self, event: Any) -> None:
        button = event.target.closest("button[data-model]")
        if not button or self._intents is None:
            return
        model_id = str(button.getAttribute("data-model"))
        row = self._rows.get(model_id)
        action = str(button.getAttribute("data-testid"))
        intents = self._intents
        if action == "model-download":
            intents.download_model(model_id)
        elif action == "model-cancel":
            intents.cancel_download(model_id)
        elif action == "model-delete" and row is not None and row.row is not None:
            self._confirm_delete(row.row, button)
        elif action == "model-remove" and row is not None and row.row is not None:
            entry = row.row.entry
            again = (
                "Chats that use it keep their text. You can add it again by adding its server."
                if entry.remote
                else "Its files in this browser are deleted too. You can add it again by its id."
            )
            self._dialog.ask(
                title=f"Remove {entry.display_label} from the list?",
                text=again,
                confirm_label="Remove",
                on_yes=lambda: intents.remove_model(model_id),
                after=self.focus,
            )

    def _confirm_delete(self, row: ModelRow, button: Element) -> None:
        assert self._intents is not None
        intents, model_id = self._intents, row.entry.id
        if not row.used_by:
            intents.delete_model(model_id)
            return
        self._dialog.ask(
            title=f"Delete the files of {row.entry.label}?",
            text=(
                f"{used_by_words(row.used_by)}. They keep it as their model and offer to "
                "download it again when you next use them."
            ),
            confirm_label="Delete files",
            on_yes=lambda: intents.delete_model(model_id),
            after=lambda: button.focus(),
        )

    # -- events ----------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        match event:
            case ModelsListed(rows):
                self._show_rows(rows)
            case StorageEstimated():
                self._show_storage(event)
            case DownloadProgressed(progress) if progress.model in self._rows:
                self._show_progress(self._rows[progress.model], progress)
            case DownloadEnded(model) if model in self._rows:
                self._rows[model].progress_box.hidden = True
            case HubModelAdded(entry):
                self._input.value = ""
                self._add.disabled = False
                self._status.textContent = f"Added {entry.label}. Download it when you want it."
            case ErrorRaised() if self._add.disabled:
                self._add.disabled = False
                self._status.textContent = ""
            case EndpointAdded(base_url, entries):
                self._endpoint_url.value = ""
                self._endpoint_key.value = ""
                self._endpoint_add.disabled = False
                self._endpoint_status.textContent = endpoint_words(base_url, entries)
            case EndpointRefused(reason):
                self._endpoint_add.disabled = False
                self._endpoint_status.textContent = f"Not added: {reason}."

    def _show_storage(self, event: StorageEstimated) -> None:
        usage = self._usage
        usage.setAttribute("data-used", str(event.used))
        usage.setAttribute("data-quota", str(event.quota))
        usage.setAttribute("data-persisted", "true" if event.persisted else "false")
        self._figures.textContent = (
            f"This site uses {format_bytes(event.used)} of the {format_bytes(event.quota)} "
            "the browser allows it."
        )
        self._meter.max = max(event.quota, 1)
        self._meter.value = event.used
        self._meter.hidden = event.quota <= 0
        if event.persisted:
            words = PERSISTED_WORDS
        else:
            words = REFUSED_WORDS if event.asked else NOT_PERSISTED_WORDS
        self._persistence.textContent = words

    def _show_rows(self, rows: tuple[ModelRow, ...]) -> None:
        wanted = {r.entry.id for r in rows}
        for model_id in [m for m in self._rows if m not in wanted]:
            self._rows.pop(model_id).root.remove()
        for row in rows:
            self._fill_row(self._rows.get(row.entry.id) or self._new_row(row.entry), row)
        order = [r.entry.id for r in rows]
        if order != self._order:  # moved only when the list changes: a row keeps its focus
            self._order = order
            for model_id in order:
                self._list.appendChild(self._rows[model_id].root)

    def _new_row(self, entry: ModelEntry) -> _Row:
        dom = self._dom
        root = dom.create("li", testid="model-row", **{"class": "model-row"})
        head = dom.create("div", **{"class": "model-row-head"})
        head.append(dom.create("strong", text=entry.label, **{"class": "model-row-label"}))
        badge = dom.create("span", **{"class": "model-row-badge"})
        head.append(badge)
        source = dom.create("p", text=origin_words(entry), **{"class": "model-row-source"})
        facts = dom.create("p", **{"class": "model-row-facts"})
        box = dom.create("div", **{"class": "model-row-progress"})
        box.hidden = True
        bar = dom.create("progress", testid="model-download-progress", value="0", max="1")
        bar.setAttribute("aria-label", f"Downloading {entry.label}")
        words = dom.create("p", **{"class": "model-row-words"})
        files = dom.create("ul", **{"class": "model-row-files"})
        box.append(bar, words, files)
        actions = dom.create("div", **{"class": "model-row-actions"})
        buttons = []
        for testid, text in (
            ("model-download", "Download"),
            ("model-cancel", "Cancel download"),
            ("model-delete", "Delete files"),
            ("model-remove", "Remove from list"),
        ):
            button = dom.create(
                "button", testid=testid, text=text, type="button", **{"class": testid}
            )
            button.setAttribute("data-model", entry.id)
            button.setAttribute("aria-label", f"{text}: {entry.label}")
            actions.append(button)
            buttons.append(button)
        root.append(head, source, facts, box, actions)
        widget = _Row(root, facts, badge, box, bar, words, files, *buttons)
        self._rows[entry.id] = widget
        return widget

    def _fill_row(self, widget: _Row, row: ModelRow) -> None:
        widget.row = row
        entry = row.entry
        root = widget.root
        root.setAttribute("data-model", entry.id)
        root.setAttribute("data-source", entry.source)
        root.setAttribute("data-downloaded", "true" if row.downloaded else "false")
        if entry.bytes:
            root.setAttribute("data-bytes", str(entry.bytes))
        else:
            root.removeAttribute("data-bytes")
        if entry.host:
            root.setAttribute("data-host", entry.host)
            self._fill_remote(widget, row)
            return
        if row.downloaded is None:
            badge = "Unknown"
        elif row.downloaded:
            badge = "Downloaded" if entry.source == "hub" else "In this browser"
        else:
            badge = "Not downloaded" if entry.source == "hub" else "Not in this browser yet"
        widget.badge.textContent = "Downloading…" if row.downloading else badge
        size = f"about {format_bytes(entry.bytes)}" if entry.bytes else "Size unknown"
        widget.facts.textContent = f"{size} · {used_by_words(row.used_by)}"
        widget.download.hidden = bool(row.downloaded) or row.downloading
        widget.download.disabled = bool(row.downloaded) or row.downloading
        widget.cancel.hidden = not row.downloading
        widget.delete.disabled = not row.downloaded or row.downloading
        widget.remove.hidden = not entry.user_added
        widget.progress_box.hidden = not row.downloading

    def _fill_remote(self, widget: _Row, row: ModelRow) -> None:
        """A server's model: where it runs and who uses it; nothing to download or delete."""
        assert row.entry.host is not None
        widget.badge.textContent = remote_words(row.entry.host).capitalize()
        widget.facts.textContent = (
            f"What you write to it is sent to {row.entry.host} · {used_by_words(row.used_by)}"
        )
        widget.download.hidden = widget.download.disabled = True
        widget.delete.hidden = widget.delete.disabled = True
        widget.cancel.hidden = True
        widget.remove.hidden = False
        widget.progress_box.hidden = True

    def _show_progress(self, widget: _Row, progress: DownloadProgress) -> None:
        widget.progress_box.hidden = False
        expected = widget.row.entry.bytes if widget.row is not None else None
        total = progress.total or expected
        if total:
            widget.bar.max = total
            widget.bar.value = min(progress.loaded, total)
        else:
            widget.bar.removeAttribute("value")  # indeterminate until the sizes are known
        text = progress_words(progress, expected)
        widget.words.textContent = text
        widget.bar.setAttribute("aria-valuetext", text)
        items = []
        for file in progress.files:
            if file.total:
                state = "done" if file.done else f"{file.loaded * 100 // file.total}%"
                amount = f"{format_bytes(file.total)}, {state}"
            else:
                amount = format_bytes(file.loaded) if file.loaded else "waiting"
            items.append(self._dom.create("li", text=f"{file.name}: {amount}"))
        widget.files.replaceChildren(*items)
