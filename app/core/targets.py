"""Which concrete model a conversation's target means right now.

A target is None (follow the catalog default), a preset name, or a model id. Presets resolve
to the first usable model of their list: a local model whose files are present, or a hub model
already in the browser's cache. Hub models are never probed over the network just to resolve a
preset: the hub is contacted only when the user picks a hub model, so a default never sends
anything off the machine behind the user's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .catalog import Catalog, ModelEntry


class Availability(Protocol):
    """Tells, without downloading a model, which catalog models can be loaded now."""

    async def usable(self, entries: Sequence[ModelEntry]) -> set[str]: ...


class ModelChoice:
    def __init__(self, catalog: Catalog, availability: Availability | None = None) -> None:
        self.catalog = catalog
        self._availability = availability
        # Until checked, every model counts as usable (the first in a preset is tried).
        self._usable: set[str] | None = None

    async def refresh(self) -> None:
        if self._availability is not None:
            self._usable = await self._availability.usable(self.catalog.models)

    def mark_usable(self, model_id: str) -> None:
        """A model that just loaded is usable (a hub model is now in the cache)."""
        if self._usable is not None:
            self._usable.add(model_id)

    def mark_unusable(self, model_id: str) -> None:
        """A model whose files were just deleted needs a download again."""
        if self._usable is not None:
            self._usable.discard(model_id)

    @property
    def usable_ids(self) -> frozenset[str]:
        """The models known usable now (every catalog model until checked)."""
        if self._usable is None:
            return frozenset(m.id for m in self.catalog.models)
        return frozenset(self._usable)

    def is_usable(self, entry: ModelEntry) -> bool:
        return self._usable is None or entry.id in self._usable

    def resolve(self, target: str | None) -> ModelEntry | None:
        """The model that answers for `target`.

        A model id is taken as asked, usable or not (the user chose it: a hub model downloads,
        a broken local one fails with its reason); presets and the default skip unusable ones.
        """
        if target is not None and target not in self.catalog.presets:
            return self.catalog.get(target)
        return self.catalog.resolve(target, usable=self.is_usable)

    def describe(self, target: str | None) -> str:
        """What a target means, for people: the model it resolves to, by its label."""
        entry = self.resolve(target)
        if entry is None:
            return "no model downloaded yet"
        return entry.display_label
