"""The app's own error types, carrying the fields a user needs to understand what went wrong.

Adapters translate foreign errors (a JsException, a failed fetch) into these at the boundary,
so core and view never parse error strings.
"""

from __future__ import annotations

from typing import Literal


class ParlanceError(Exception):
    """Base of every error the app reports to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CatalogError(ParlanceError):
    """The model catalog could not be fetched or is not in the documented format."""


class ModelLoadError(ParlanceError):
    """A model could not be loaded (missing file, offline hub, unsupported dtype...)."""

    def __init__(self, model: str, reason: str, file: str | None = None) -> None:
        super().__init__(reason)
        self.model = model
        self.file = file

    def __str__(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return f"Could not load {self.model}{where}: {self.reason}"


class GenerationError(ParlanceError):
    """The engine failed while producing a reply."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(reason)
        self.model = model

    def __str__(self) -> str:
        return f"{self.model} failed while replying: {self.reason}"


class LoadCanceled(ParlanceError):
    """A queued or running load was superseded or no longer needed."""

    def __init__(self, model: str) -> None:
        super().__init__("canceled")
        self.model = model


class StoreError(ParlanceError):
    """The conversation store refused a read or a write (full disk, blocked database...)."""

    def __str__(self) -> str:
        return self.reason


class ConversationGone(StoreError):
    """A write found its conversation deleted (by this tab or another): nothing was written."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("This conversation was deleted, in this tab or another one.")
        self.conversation_id = conversation_id


class HistoryChanged(StoreError):
    """A write expected the conversation to end with a message it no longer ends with: another
    tab has changed it since this tab read it. Nothing was written."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("This chat was changed in another tab; it now shows the latest version.")
        self.conversation_id = conversation_id


class ContextOverflow(ParlanceError):
    """A message (or the chat's system prompt) too long for the model's context window, refused
    before generation."""

    def __init__(
        self,
        model: str,
        label: str,
        tokens: int,
        limit: int,
        part: Literal["message", "system"] = "message",
    ) -> None:
        if part == "system":
            reason = (
                f"The chat's system prompt is too long for {label}: it is about {tokens:,} "
                f"tokens and the model reads at most {limit:,} at once, your message included. "
                "Shorten it in the chat's settings."
            )
        else:
            reason = (
                f"Your message is too long for {label}: it is about {tokens:,} tokens and the "
                f"model reads at most {limit:,} at once. Shorten it or split it into parts."
            )
        super().__init__(reason)
        self.model = model
        self.tokens = tokens
        self.limit = limit
        self.part = part


class ImportRefused(ParlanceError):
    """A file offered for import is not one Parlance can take (too big, not JSON, not an export,
    or an export that contradicts itself). It is refused whole: nothing was written."""

    def __str__(self) -> str:
        return self.reason
