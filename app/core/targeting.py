"""The Chat's model target: which model the open conversation asks for, switching it, and
loading it ahead of the first reply.

Each conversation owns its target (None for the catalog default, a preset, or a model id).
Switching it mid-chat is stored at once, without moving the conversation in the sidebar, and
the next reply uses the new model with the whole conversation as context. A switch whose model
fails to load rolls the target back to the previous one. Only a model usable without a download
is loaded ahead: opening a chat never makes the page contact the hub; sending or picking does.
"""

from __future__ import annotations

import asyncio
import contextlib

from .catalog import ModelEntry
from .conversations import Conversation
from .errors import LoadCanceled, ParlanceError
from .events import ErrorRaised, EventSink, ModelsUsable, ModelWanted, TargetChanged
from .loader import ModelLoader
from .ports import ConversationChange, LoadedModel, Store
from .tabs import Broadcast, ConversationChanged
from .targets import ModelChoice


class Targeting:
    # Provided by Chat.
    choice: ModelChoice
    conversation: Conversation | None
    new_chat_target: str | None
    _store: Store
    _loader: ModelLoader
    _emit: EventSink
    _broadcast: Broadcast
    _preload: asyncio.Task[None] | None

    @property
    def target(self) -> str | None:
        """The model the open conversation asks for (a preset, an id, or None for default)."""
        return self.conversation.model if self.conversation else self.new_chat_target

    async def set_model(self, target: str | None) -> None:
        """Point the open chat at another model (None: the default) and load it.

        The target is stored at once; if its model then fails to load, the previous target
        comes back and the error says why. Setting does not validate: a target that is not in
        the catalog stays set, and the next reply fails saying so.
        """
        previous = self.target
        if target == previous:
            return
        await self._apply_target(target)
        entry = self.choice.resolve(target)
        if entry is None:
            return
        try:
            await self._request(entry)
        except LoadCanceled:
            return
        except ParlanceError as exc:
            if self.target == target:
                await self._apply_target(previous)
                back_to = self.choice.describe(previous)
                self._emit(
                    ErrorRaised(
                        f"Could not load {entry.display_label}: {exc.reason}. "
                        f"Staying with {back_to}."
                    )
                )

    async def _apply_target(self, target: str | None) -> None:
        """Store a target; writing it never changes updatedAt (sidebar order is message-driven)."""
        if self.conversation is None:
            self.new_chat_target = target
        else:
            self.conversation = await self._store.update_conversation(
                self.conversation.id, ConversationChange(model=target)
            )
            self._broadcast.publish(ConversationChanged(self.conversation.id))
        self._announce_target()

    def _announce_target(self) -> None:
        self._emit(TargetChanged(self.target, self.choice.describe(None)))

    async def refresh_availability(self) -> None:
        """Check which models are usable now, and show what the default resolves to."""
        await self.choice.refresh()
        self._emit(ModelsUsable(self.choice.usable_ids))
        self._announce_target()

    def _queue_target_model(self) -> None:
        """Start loading what the open chat needs, so the first reply does not wait for it.

        Only a model usable without a download is loaded ahead: opening a chat never makes
        the page contact the hub; sending (or picking the model) does.
        """
        entry = self.choice.resolve(self.target)
        if entry is None or not self.choice.is_usable(entry):
            return
        self._preload = asyncio.ensure_future(self._preload_model(entry))

    async def _preload_model(self, entry: ModelEntry) -> None:
        # A failure shows in the model status; a send reports it in the chat.
        with contextlib.suppress(ParlanceError):
            await self._request(entry)

    async def _request(self, entry: ModelEntry) -> LoadedModel:
        self._emit(ModelWanted(entry.id))
        loaded = await self._loader.request(entry)
        if not self.choice.is_usable(entry):
            self.choice.mark_usable(entry.id)
            self._emit(ModelsUsable(self.choice.usable_ids))
            self._announce_target()  # the default may resolve to it now
        return loaded
