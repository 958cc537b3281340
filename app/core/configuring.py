"""The Chat's generation settings: showing them in the form, and saving what the form says.

Two sets of settings exist: each conversation's own (its `settings` panel), stored with the
conversation, and the app-wide defaults that new chats start with (`#/settings`), stored in the
store's prefs. A new chat, before its first message, has no conversation yet: its panel edits
what the chat will be created with (`new_chat_settings`); left alone, the chat starts with the
defaults stored when its first message is sent (so defaults changed in another tab meanwhile
count).

The form's raw strings are validated here (settings.parse_settings) against the context window
of the model the settings are for; an invalid form stores nothing and says why, per field. A
chat's saved settings are broadcast, so another tab showing that chat re-reads it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .catalog import ModelEntry
from .conversations import ChatSettings, Conversation
from .errors import StoreError
from .events import (
    ErrorRaised,
    EventSink,
    SettingsRefused,
    SettingsSaved,
    SettingsScope,
    SettingsShown,
)
from .loader import ModelLoader
from .ports import ConversationChange, Store
from .settings import FORM, Refused, SettingsLimits, model_defaults, parse_settings
from .tabs import Broadcast, ConversationChanged
from .targets import ModelChoice


class Configuring:
    # Provided by Chat.
    choice: ModelChoice
    conversation: Conversation | None
    new_chat_target: str | None
    new_chat_settings: ChatSettings | None
    _store: Store
    _loader: ModelLoader
    _emit: EventSink
    _broadcast: Broadcast

    async def show_settings(self) -> None:
        """The `settings` button: the open chat's settings, or a new chat's (what it will be
        created with), with its model's defaults and context window."""
        settings: ChatSettings | None
        if self.conversation is not None:
            settings = self.conversation.settings
        elif self.new_chat_settings is not None:
            settings = self.new_chat_settings
        else:
            settings = await self._read_defaults()
        if settings is None:
            return
        entry = self._settings_model()
        defaults = model_defaults(entry.generation) if entry else ChatSettings()
        self._emit(SettingsShown("chat", settings, defaults, self._limits(entry)))

    async def show_default_settings(self) -> None:
        """`#/settings`: the settings new chats start with. No single model: an empty field
        follows whichever model a chat uses."""
        defaults = await self._read_defaults()
        if defaults is not None:
            self._emit(SettingsShown("defaults", defaults, ChatSettings(), SettingsLimits()))

    async def save_settings(self, scope: SettingsScope, raw: Mapping[str, str]) -> bool:
        """Store what the form says, or nothing (SettingsRefused says why). True when stored."""
        limits = self._limits(self._settings_model()) if scope == "chat" else SettingsLimits()
        parsed = parse_settings(raw, limits)
        if isinstance(parsed, Refused):
            self._emit(SettingsRefused(scope, parsed.reasons))
            return False
        try:
            if scope == "defaults":
                await self._store.put_defaults(parsed)
            elif self.conversation is None:
                self.new_chat_settings = parsed
            else:
                self.conversation = await self._store.update_conversation(
                    self.conversation.id, ConversationChange(settings=parsed)
                )
                self._broadcast.publish(ConversationChanged(self.conversation.id))
        except StoreError as exc:
            self._emit(SettingsRefused(scope, {FORM: f"The settings were not saved. {exc}"}))
            return False
        self._emit(SettingsSaved(scope, parsed))
        return True

    async def _read_defaults(self) -> ChatSettings | None:
        try:
            return await self._store.get_defaults()
        except StoreError as exc:
            self._emit(ErrorRaised(f"Could not read the default settings. {exc}"))
            return None

    def _settings_model(self) -> ModelEntry | None:
        """The model the open chat's settings are for: what its target resolves to now."""
        target = self.conversation.model if self.conversation else self.new_chat_target
        return self.choice.resolve(target)

    def _limits(self, entry: ModelEntry | None) -> SettingsLimits:
        """The model's context window: the loaded model's own config when it is the one
        resident, else the catalog's `contextTokens`."""
        if entry is None:
            return SettingsLimits()
        resident = self._loader.resident
        context = entry.context_tokens
        if resident is not None and resident.id == entry.id and resident.context_tokens:
            context = resident.context_tokens
        return SettingsLimits(context, entry.display_label)
