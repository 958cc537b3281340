"""The model bar: the model picker, the model's lifecycle status and download progress, and the
open chat's last reply figures; plus what the engine holds, as attributes on the app root.

The status shows the model the open chat wants; each model's latest lifecycle event is kept, so
switching chats shows at once where its model stands. It is not a live region (its text counts
bytes on every progress event): app/ui/announcer.py says each change of state once. The figures
belong to the open chat: they come from its last reply's record, never from another chat's reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.catalog import Catalog
from app.core.conversations import Message
from app.core.downloads import RateMeter, seconds_left
from app.core.events import (
    CatalogChanged,
    ConversationNotFound,
    ConversationOpened,
    DownloadEnded,
    DownloadProgressed,
    EngineChanged,
    Event,
    ModelStatusChanged,
    ModelsUsable,
    ModelWanted,
    ReplyMetrics,
    TargetChanged,
)

from .format import format_bytes, format_duration
from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom

STATE_LABELS = {
    "idle": "No model loaded",
    "queued": "Queued",
    "downloading": "Downloading",
    "compiling": "Preparing",
    "ready": "Ready",
    "failed": "Failed",
    "canceled": "Canceled",
}


class ModelBar:
    def __init__(self, dom: Dom, catalog: Catalog) -> None:
        self._dom = dom
        self._app = dom.by_testid("app")
        self._select = dom.by_testid("model-select")
        self._status = dom.by_testid("model-status")
        self._status_text = self._status.querySelector(".model-status-text")
        self._progress = dom.by_testid("model-progress")
        self._metrics = dom.by_testid("metrics")
        self._states: dict[str, ModelStatusChanged] = {}
        self._wanted: str | None = None
        self._meter: tuple[str, RateMeter] | None = None
        self._offer = dom.by_testid("model-offer")
        self._usable: frozenset[str] | None = None
        self._target: str | None = None
        self._fill(catalog)

    def _fill(self, catalog: Catalog) -> None:
        """The picker's options: the default, then every catalog model (again, when the catalog
        changes, keeping what is selected)."""
        self._labels = {m.id: m.display_label for m in catalog.models}
        self._local = {m.id for m in catalog.models if m.source == "local"}
        self._remote = {m.id for m in catalog.models if m.remote}
        self._hub_sizes = {m.id: m.bytes for m in catalog.models if m.source == "hub"}
        self._model_ids = {m.id for m in catalog.models}
        self._presets = set(catalog.presets)
        select = self._select
        chosen = str(select.value)
        for option in list(select.querySelectorAll("option")):
            if option.getAttribute("value"):
                option.remove()
        default = select.querySelector('option[value=""]')
        default.textContent = f"Default ({catalog.default})"
        for entry in catalog.models:
            option = self._dom.create("option", text=entry.display_label, value=entry.id)
            if entry.host:
                option.setAttribute("data-host", entry.host)
            select.appendChild(option)
        if chosen:
            select.value = chosen

    def bind(self, intents: Intents) -> None:
        self._dom.on(
            self._select,
            "change",
            lambda _e: intents.choose_model(str(self._select.value) or None),
        )
        self._dom.on(self._offer, "click", lambda _e: self._download(intents))

    def _download(self, intents: Intents) -> None:
        if self._target is not None and not self._offer.disabled:
            self._offer.disabled = True
            self._offer.textContent = f"Downloading {self._labels.get(self._target, '')}…"
            intents.download_model(self._target)

    def handle(self, event: Event) -> None:
        match event:
            case CatalogChanged(catalog):
                self._fill(catalog)
            case ModelStatusChanged():
                self._states[event.model] = event
                if self._wanted in (None, event.model):
                    self._wanted = event.model
                    self._show_status(event)
            case ModelWanted(model):
                self._wanted = model
                self._show_status(self._states.get(model) or ModelStatusChanged(model, "idle"))
            case TargetChanged(target, default_label):
                self._target = target
                self._show_target(target, default_label)
                self._show_offer()
            case ModelsUsable(model_ids):
                self._usable = model_ids
                self._show_offer()
            case DownloadProgressed(progress) if progress.model == self._target:
                self._offer.disabled = True
                share = f" {progress.loaded * 100 // progress.total}%" if progress.total else ""
                self._offer.textContent = f"Downloading {self._labels[progress.model]}…{share}"
            case DownloadEnded(model) if model == self._target:
                self._offer.disabled = False
                self._show_offer()
            case EngineChanged(loaded, loads, device, runs_in, threads):
                self._app.setAttribute("data-loaded-model", loaded or "")
                self._app.setAttribute("data-model-loads", str(loads))
                self._app.setAttribute("data-device", device)
                self._app.setAttribute("data-engine", runs_in)
                self._app.setAttribute("data-threads", str(threads))
            case ReplyMetrics(_, tps, ms, first_ms):
                self._show_metrics(tps, ms, first_ms)
            case ConversationOpened(_, messages, created) if not created:
                self._show_last_reply(messages)
            case ConversationNotFound():
                self._show_last_reply(())

    def _show_last_reply(self, messages: tuple[Message, ...]) -> None:
        for message in reversed(messages):
            info = message.info
            if message.role == "assistant" and info.tokens_per_second is not None:
                self._show_metrics(
                    info.tokens_per_second, info.duration_ms or 0.0, info.first_token_ms or 0.0
                )
                return
        for name in ("data-tokens-per-second", "data-response-ms", "data-first-token-ms"):
            self._metrics.setAttribute(name, "")
        self._metrics.textContent = ""

    def _show_metrics(self, tps: float, ms: float, first_ms: float) -> None:
        self._metrics.setAttribute("data-tokens-per-second", f"{tps:.2f}")
        self._metrics.setAttribute("data-response-ms", f"{ms:.0f}")
        self._metrics.setAttribute("data-first-token-ms", f"{first_ms:.0f}")
        took = f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"
        self._metrics.textContent = f"Last reply: {tps:.0f} tok/s, {took}"
        self._metrics.setAttribute(
            "title",
            f"The open chat's last reply: {tps:.2f} tokens per second, "
            f"first token after {first_ms:.0f} ms, {ms:.0f} ms in all",
        )

    def _show_target(self, target: str | None, default_label: str) -> None:
        select = self._select
        select.querySelector('option[value=""]').textContent = f"Default ({default_label})"
        stale = select.querySelector("option[data-extra]")
        if stale:
            stale.remove()
        if target is not None and target not in self._model_ids:
            # A preset or an id the catalog no longer lists: show it rather than lie.
            label = f"{target} (preset)" if target in self._presets else f"{target} (unknown)"
            select.appendChild(self._dom.create("option", text=label, value=target, data_extra="1"))
        select.value = target or ""

    def _show_offer(self) -> None:
        """Offer the download of the open chat's hub model when this browser lacks it."""
        target = self._target
        lacking = (
            target in self._hub_sizes and self._usable is not None and target not in self._usable
        )
        self._offer.hidden = not lacking
        if lacking and target is not None and not self._offer.disabled:
            size = self._hub_sizes[target]
            about = f" ({format_bytes(size)})" if size else ""
            self._offer.textContent = f"Download {self._labels[target]}{about}"

    def _pace(self, event: ModelStatusChanged) -> str:
        """ " · 3.2 MB/s · 2 min left" for a download under way, once a speed is known."""
        if self._meter is None or self._meter[0] != event.model:
            self._meter = (event.model, RateMeter())
        meter = self._meter[1]
        meter.add(self._dom.now_ms(), event.loaded_bytes)
        rate = meter.bytes_per_second()
        left = seconds_left(event.loaded_bytes, event.total_bytes, rate)
        if rate is None or event.model in self._local:
            return ""
        pace = f" · {format_bytes(int(rate))}/s"
        return pace + (f" · {format_duration(left)} left" if left is not None else "")

    def _show_status(self, event: ModelStatusChanged) -> None:
        status = self._status
        status.setAttribute("data-model", event.model)
        status.setAttribute("data-state", event.state)
        # A bundled or locally built model is read from this site: "Loading", not "Downloading".
        local = event.state == "downloading" and event.model in self._local
        word = "Loading" if local else STATE_LABELS[event.state]
        if event.model in self._remote and event.state in ("downloading", "compiling"):
            word = "Connecting"  # a server's model: its server is asked whether it lists it
        label = f"{word} · {self._labels.get(event.model, event.model)}"
        if event.state == "failed" and event.reason:
            label += f": {event.reason}"
        progress = self._progress
        if event.state == "downloading" and event.total_bytes:
            progress.max = event.total_bytes
            progress.value = event.loaded_bytes
            progress.hidden = False
            amount = f"{format_bytes(event.loaded_bytes)} / {format_bytes(event.total_bytes)}"
            progress.setAttribute("aria-valuetext", amount.replace(" / ", " of "))
            label += f" {amount}{self._pace(event)}"
        elif event.state == "compiling":
            # Downloaded; the wait now is building the model, which reports no fraction.
            progress.removeAttribute("value")
            progress.setAttribute("aria-valuetext", "Preparing the model")
            progress.hidden = False
        elif event.state in ("ready", "failed", "canceled", "idle"):
            progress.hidden = True
        self._status_text.textContent = label
