"""The model manager (`#/models`): which models this browser holds, what they cost on disk,
downloading and deleting them, and adding hub models of the user's choice.

- A model is *downloaded* when transformers.js's own cache holds every file its pipeline loads
  on this device (the adapter asks transformers.js; nothing is guessed from names here).
- Downloads run side by side, each with its own cancel; progress comes per file and overall,
  with a speed over the last seconds and the time left (app/core/downloads.py).
- The first download asks the browser to keep the site's storage (`navigator.storage.persist`);
  whether it did is part of the storage figures the page shows, with what a refusal means.
- Deleting a model's files leaves every conversation's choice as it is: a chat that uses it
  offers the download again when next used. The view asks first when chats use it.
- A hub model added by id is checked (app/core/hub_models.py) and kept in the store, as a
  catalog entry of the user's own; the catalog then changes for every widget (`CatalogChanged`).
- A server added by address (app/core/endpoints.py) is asked for its models; they join the
  catalog as `source: "openai"` entries, and its key is kept apart from them (`EndpointKeys`).
  Remote models have no files here: nothing to download or delete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .catalog import Catalog, Device, ModelEntry, parse_entry
from .downloads import DownloadProgress, FileProgress, RateMeter, seconds_left
from .endpoints import EndpointError, EndpointKeys, base_url_from, checked_key, keys_from
from .endpoints import new_entries as endpoint_entries
from .errors import CatalogError, LoadCanceled, ParlanceError, StoreError
from .events import (
    CatalogChanged,
    DownloadEnded,
    DownloadOutcome,
    DownloadProgressed,
    EndpointAdded,
    EndpointRefused,
    ErrorRaised,
    Event,
    EventSink,
    HubModelAdded,
    ModelRow,
    ModelsListed,
    ModelStatusChanged,
    StorageEstimated,
)
from .hub_models import HubModelError, HubModelInfo, entry_record, plan_entry, repo_id_from
from .ports import Clock, StopSignal, Store
from .targets import ModelChoice


@dataclass(frozen=True)
class StorageEstimate:
    used: int
    quota: int
    persisted: bool


class ModelFiles(Protocol):
    """A model's files in the browser (transformers.js's cache), by where it would run."""

    async def downloaded(self, entry: ModelEntry, device: Device, dtype: str | None) -> bool: ...

    async def download(
        self,
        entry: ModelEntry,
        device: Device,
        dtype: str | None,
        on_progress: Callable[[Sequence[FileProgress]], None],
        cancel: StopSignal,
    ) -> None:
        """Fetch every file into the cache; LoadCanceled when `cancel` fires (nothing partial
        stays), ModelLoadError saying which file failed and why."""
        ...

    async def delete(self, entry: ModelEntry, device: Device, dtype: str | None) -> None: ...


class StorageQuota(Protocol):
    async def estimate(self) -> StorageEstimate | None:
        """Used and quota bytes and persistence; None where the browser does not say."""
        ...

    async def persist(self) -> bool:
        """Ask the browser to keep this site's storage; whether it will."""
        ...


class HubInspector(Protocol):
    async def inspect(self, repo_id: str) -> HubModelInfo:
        """What the hub says about a repo (HubModelError when it cannot say)."""
        ...


class EndpointClient(Protocol):
    async def list_models(self, base_url: str, key: str | None) -> list[str]:
        """The model names an OpenAI-compatible server lists (`GET /models`), or EndpointError
        saying why it cannot (no answer, key refused, not that protocol)."""
        ...


Placement = Callable[[ModelEntry], tuple[Device, str | None]]


class ModelManager:
    def __init__(
        self,
        *,
        choice: ModelChoice,
        files: ModelFiles,
        quota: StorageQuota,
        hub: HubInspector,
        store: Store,
        clock: Clock,
        emit: EventSink,
        placement: Placement,
        device: Device,
        has_shader_f16: bool = False,
        on_models_changed: Callable[[], Awaitable[None]] | None = None,
        endpoints: EndpointClient | None = None,
        keys: EndpointKeys | None = None,
    ) -> None:
        self._choice = choice
        self._site = choice.catalog
        self._files = files
        self._quota = quota
        self._hub = hub
        self._store = store
        self._clock = clock
        self._emit = emit
        self._placement = placement
        self._device = device
        self._has_f16 = has_shader_f16
        self._on_models_changed = on_models_changed
        self._downloads: dict[str, StopSignal] = {}
        self._downloaded: dict[str, bool] = {}
        self._asked_persist = False
        self._adding = False
        self._endpoints = endpoints
        self.keys = keys if keys is not None else EndpointKeys()

    @property
    def catalog(self) -> Catalog:
        return self._choice.catalog

    # -- the user's catalog --------------------------------------------------------------

    async def load_user_models(self) -> None:
        """At start: the hub models this user added join the catalog. A stored entry that no
        longer parses is skipped, saying so; the others still load."""
        try:
            raw = await self._store.get_user_models()
            self.keys.replace(keys_from(await self._store.get_endpoint_keys()))
        except StoreError as exc:
            self._emit(ErrorRaised(f"Your added models could not be read: {exc}"))
            return
        entries: list[ModelEntry] = []
        for index, record in enumerate(raw):
            try:
                entries.append(parse_entry(record, index))
            except CatalogError as exc:
                self._emit(ErrorRaised(f"An added model was skipped: {exc.reason}."))
        if entries:
            self._set_catalog(self._site.with_user_models(entries))

    def _set_catalog(self, catalog: Catalog) -> None:
        self._choice.catalog = catalog
        self._emit(CatalogChanged(catalog))

    async def add_hub_model(self, text: str) -> None:
        """Check a hub repo and add it to the user's catalog, or say why not (adding nothing)."""
        if self._adding:
            return
        self._adding = True
        try:
            entry = await self._check_hub_model(text)
            mine = [*(m for m in self.catalog.models if m.user_added), entry]
            await self._store.put_user_models([entry_record(m) for m in mine])
        except (HubModelError, StoreError) as exc:
            self._emit(ErrorRaised(str(exc)))
            return
        finally:
            self._adding = False
        self._set_catalog(self._site.with_user_models(mine))
        self._emit(HubModelAdded(entry))
        await self.refresh()

    async def _check_hub_model(self, text: str) -> ModelEntry:
        repo_id = repo_id_from(text)
        if self.catalog.get(repo_id) is not None:
            raise HubModelError(repo_id, "it is already in the list")
        info = await self._hub.inspect(repo_id)
        estimate = await self._quota.estimate()
        free = max(0, estimate.quota - estimate.used) if estimate else None
        return plan_entry(info, self._device, self._has_f16, free_bytes=free)

    async def add_endpoint(self, url_text: str, key_text: str) -> None:
        """Ask a server for its models and add them, with its key kept apart; or say why not
        (adding nothing)."""
        if self._adding or self._endpoints is None:
            return
        self._adding = True
        try:
            base_url = base_url_from(url_text)
            key = checked_key(key_text)
            names = await self._endpoints.list_models(base_url, key)
            known = {m.id for m in self.catalog.models}
            records = endpoint_entries(base_url, names, known)
            added = [replace(parse_entry(r), user_added=True) for r in records]
            mine = [*(m for m in self.catalog.models if m.user_added), *added]
            # The key first: a model is never listed without the key it needs.
            await self._store.put_endpoint_keys(keys := self.keys.with_key(base_url, key))
            await self._store.put_user_models([entry_record(m) for m in mine])
        except (EndpointError, StoreError, CatalogError) as exc:
            self._emit(EndpointRefused(exc.reason))
            self._emit(ErrorRaised(str(exc)))
            return
        finally:
            self._adding = False
        self.keys.replace(keys)
        self._set_catalog(self._site.with_user_models(mine))
        self._emit(EndpointAdded(base_url, tuple(added)))
        await self.refresh()

    async def remove_user_model(self, model_id: str) -> None:
        """Take a model the user added off the list (its files go too; a server's key goes
        with its last model)."""
        entry = self.catalog.get(model_id)
        if entry is None or not entry.user_added:
            return
        mine = [m for m in self.catalog.models if m.user_added and m.id != model_id]
        try:
            await self._store.put_user_models([entry_record(m) for m in mine])
            if entry.base_url and all(m.base_url != entry.base_url for m in mine):
                keys = self.keys.with_key(entry.base_url, None)
                await self._store.put_endpoint_keys(keys)
                self.keys.replace(keys)
        except StoreError as exc:
            self._emit(ErrorRaised(f"Could not remove {entry.display_label}: {exc}"))
            return
        await self.delete(model_id)
        self._set_catalog(self._site.with_user_models(mine))
        await self.refresh()

    # -- what the page shows --------------------------------------------------------------

    async def refresh(self) -> None:
        """Every model's row and the storage figures, read afresh."""
        for entry in self.catalog.models:
            if entry.remote:
                continue  # nothing of it is in the browser
            device, dtype = self._placement(entry)
            try:
                self._downloaded[entry.id] = await self._files.downloaded(entry, device, dtype)
            except ParlanceError:
                self._downloaded.pop(entry.id, None)
        await self._list_rows()
        await self._estimate()

    async def _list_rows(self) -> None:
        try:
            conversations = await self._store.list_conversations()
        except StoreError:
            conversations = []
        users: dict[str, list[str]] = {}
        for conversation in conversations:
            entry = self._choice.resolve(conversation.model)
            if entry is not None:
                users.setdefault(entry.id, []).append(conversation.title)
        rows = tuple(
            ModelRow(
                entry=entry,
                downloaded=self._downloaded.get(entry.id),
                used_by=tuple(users.get(entry.id, ())),
                downloading=entry.id in self._downloads,
            )
            for entry in self.catalog.models
        )
        self._emit(ModelsListed(rows))

    async def _estimate(self) -> None:
        estimate = await self._quota.estimate()
        if estimate is not None:
            self._emit(
                StorageEstimated(
                    estimate.used, estimate.quota, estimate.persisted, self._asked_persist
                )
            )

    # -- downloads -------------------------------------------------------------------------

    async def download(self, model_id: str) -> None:
        """Download a model's files (a second call while it downloads does nothing)."""
        entry = self.catalog.get(model_id)
        if entry is None or entry.remote or model_id in self._downloads:
            return
        cancel = self._downloads[model_id] = StopSignal()
        await self._list_rows()
        await self.keep_storage()
        device, dtype = self._placement(entry)
        meter = RateMeter()

        def progress(files: Sequence[FileProgress]) -> None:
            snapshot = DownloadProgress(model_id, tuple(files))
            meter.add(self._clock.monotonic_ms(), snapshot.loaded)
            rate = meter.bytes_per_second()
            left = seconds_left(snapshot.loaded, snapshot.total, rate)
            self._emit(DownloadProgressed(DownloadProgress(model_id, tuple(files), rate, left)))

        outcome: DownloadOutcome = "done"
        reason = ""
        try:
            await self._files.download(entry, device, dtype, progress, cancel)
        except LoadCanceled:
            outcome = "canceled"
        except ParlanceError as exc:
            outcome = "failed"
            reason = exc.reason
        finally:
            self._downloads.pop(model_id, None)
        if outcome == "done":
            self._downloaded[model_id] = True
        self._emit(DownloadEnded(model_id, outcome, reason))
        if outcome == "failed":
            self._emit(ErrorRaised(f"Could not download {entry.label}: {reason}"))
        await self._after_change()

    def cancel(self, model_id: str) -> None:
        signal = self._downloads.get(model_id)
        if signal is not None:
            signal.stop()

    async def delete(self, model_id: str) -> None:
        """Remove a model's files from the browser; chats keep it as their choice."""
        entry = self.catalog.get(model_id)
        if entry is None or entry.remote:
            return
        self.cancel(model_id)
        device, dtype = self._placement(entry)
        try:
            await self._files.delete(entry, device, dtype)
        except ParlanceError as exc:
            self._emit(ErrorRaised(f"Could not delete {entry.label}: {exc.reason}"))
        self._downloaded[model_id] = False
        self._choice.mark_unusable(model_id)
        await self._after_change()

    async def _after_change(self) -> None:
        if self._on_models_changed is not None:
            await self._on_models_changed()
        await self.refresh()

    async def keep_storage(self) -> None:
        """Ask once per page for persistent storage, before the first download starts."""
        if self._asked_persist:
            return
        self._asked_persist = True
        estimate = await self._quota.estimate()
        if estimate is not None and estimate.persisted:
            return
        await self._quota.persist()
        await self._estimate()

    def observe(self, event: Event) -> Awaitable[None] | None:
        """A chat started downloading a hub model: the storage should be kept for it too.
        A model that became ready is downloaded now. Returns work to run, if any."""
        match event:
            case ModelStatusChanged(model, "downloading"):
                entry = self.catalog.get(model)
                if entry is not None and entry.source == "hub" and not self._asked_persist:
                    return self.keep_storage()
            case ModelStatusChanged(model, "ready"):
                if self._downloaded.get(model) is False:
                    self._downloaded[model] = True
                    return self._list_rows()
        return None
