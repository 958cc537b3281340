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
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    EngineChanged,
    Event,
    ModelStatusChanged,
    ModelWanted,
    ReplyMetrics,
    TargetChanged,
)

from .format import format_bytes
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
        self._labels = {m.id: m.label for m in catalog.models}
        self._local = {m.id for m in catalog.models if m.source == "local"}
        self._model_ids = {m.id for m in catalog.models}
        self._presets = set(catalog.presets)
        self._app = dom.by_testid("app")
        self._select = dom.by_testid("model-select")
        self._status = dom.by_testid("model-status")
        self._status_text = self._status.querySelector(".model-status-text")
        self._progress = dom.by_testid("model-progress")
        self._metrics = dom.by_testid("metrics")
        self._states: dict[str, ModelStatusChanged] = {}
        self._wanted: str | None = None
        self._fill(catalog)

    def _fill(self, catalog: Catalog) -> None:
        default = self._select.querySelector('option[value=""]')
        default.textContent = f"Default ({catalog.default})"
        for entry in catalog.models:
            self._select.appendChild(self._dom.create("option", text=entry.label, value=entry.id))

    def bind(self, intents: Intents) -> None:
        self._dom.on(
            self._select,
            "change",
            lambda _e: intents.choose_model(str(self._select.value) or None),
        )

    def handle(self, event: Event) -> None:
        match event:
            case ModelStatusChanged():
                self._states[event.model] = event
                if self._wanted in (None, event.model):
                    self._wanted = event.model
                    self._show_status(event)
            case ModelWanted(model):
                self._wanted = model
                self._show_status(self._states.get(model) or ModelStatusChanged(model, "idle"))
            case TargetChanged(target, default_label):
                self._show_target(target, default_label)
            case EngineChanged(loaded, loads, device):
                self._app.setAttribute("data-loaded-model", loaded or "")
                self._app.setAttribute("data-model-loads", str(loads))
                self._app.setAttribute("data-device", device)
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

    def _show_status(self, event: ModelStatusChanged) -> None:
        status = self._status
        status.setAttribute("data-model", event.model)
        status.setAttribute("data-state", event.state)
        # A bundled or locally built model is read from this site: "Loading", not "Downloading".
        local = event.state == "downloading" and event.model in self._local
        word = "Loading" if local else STATE_LABELS[event.state]
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
            label += f" {amount}"
        elif event.state in ("ready", "failed", "canceled", "idle"):
            progress.hidden = True
        self._status_text.textContent = label
