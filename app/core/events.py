"""The fixed set of events core sends to the view, with one dispatch point (`EventSink`).

Lifecycle states are data here, not strings scattered through the view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .catalog import Catalog, Device, ModelEntry
from .conversations import ChatSettings, Conversation, Message
from .downloads import DownloadProgress
from .settings import SettingsLimits
from .tree import Siblings

if TYPE_CHECKING:
    from .search import SearchHit

ModelState = Literal["idle", "queued", "downloading", "compiling", "ready", "failed", "canceled"]
MODEL_STATES: tuple[ModelState, ...] = (
    "idle", "queued", "downloading", "compiling", "ready", "failed", "canceled",
)  # fmt: skip


@dataclass(frozen=True)
class ModelStatusChanged:
    model: str
    state: ModelState
    reason: str = ""
    loaded_bytes: int = 0
    total_bytes: int = 0


@dataclass(frozen=True)
class ModelWanted:
    """The open chat needs this model now: the status shows this model's lifecycle."""

    model: str


@dataclass(frozen=True)
class TargetChanged:
    """The open chat's model target (None: the default), as the model selector shows it."""

    target: str | None
    # What the default currently resolves to, for the selector's "Default (...)" option.
    default_label: str


@dataclass(frozen=True)
class ModelsUsable:
    """The catalog models usable now without a download (local files present, or in the
    browser's cache): the picker asks before a download, the welcome panel shows without one."""

    model_ids: frozenset[str]


@dataclass(frozen=True)
class EngineChanged:
    """What the engine holds: the resident model and how many loads it has started."""

    loaded_model: str | None
    loads_started: int
    device: Device
    # Where inference runs ("worker": the engine worker; "page": the page's own thread, with
    # onnxruntime's proxy worker on wasm) and how many wasm threads it may use.
    runs_in: str = "page"
    threads: int = 1


@dataclass(frozen=True)
class ConversationOpened:
    """The view shows this conversation (None: a new, empty chat) and these messages."""

    conversation: Conversation | None
    messages: tuple[Message, ...]
    created: bool = False
    # Shown again as the store has it now (another tab changed it, or another branch of it
    # was chosen): not a new chat to scroll to the end of.
    refreshed: bool = False
    # The messages of this branch that have siblings (tree.py).
    siblings: Mapping[str, Siblings] = field(default_factory=dict)
    # A message to bring into view (a search result), instead of the end.
    focus: str | None = None
    # The branch goes on above the first message shown (paging.py: a long chat opens on its
    # newest page; `OlderMessagesShown` brings the pages above it).
    has_older: bool = False


@dataclass(frozen=True)
class OlderMessagesShown:
    """The page above the first message shown, to put in front of it (the reader scrolled up)."""

    conversation_id: str
    messages: tuple[Message, ...]
    siblings: Mapping[str, Siblings] = field(default_factory=dict)
    has_older: bool = False


@dataclass(frozen=True)
class SiblingsChanged:
    """The open branch's siblings changed (an edit or a regenerate added one)."""

    siblings: Mapping[str, Siblings]


@dataclass(frozen=True)
class ConversationNotFound:
    conversation_id: str


@dataclass(frozen=True)
class ConversationsListed:
    conversations: tuple[Conversation, ...]
    current_id: str | None


@dataclass(frozen=True)
class MessageAdded:
    message: Message


@dataclass(frozen=True)
class MessageUpdated:
    """A message's text or status changed (every streamed chunk, and the end of a reply)."""

    message: Message


@dataclass(frozen=True)
class MessageRemoved:
    message_id: str


@dataclass(frozen=True)
class StreamingChanged:
    streaming: bool
    can_regenerate: bool = False


@dataclass(frozen=True)
class ReplyMetrics:
    message_id: str
    tokens_per_second: float
    response_ms: float
    first_token_ms: float


@dataclass(frozen=True)
class ErrorRaised:
    text: str
    # The user's message when it could not be stored: the view puts it back in the input.
    unsent: str | None = None


@dataclass(frozen=True)
class AnsweringElsewhere:
    """Whether another tab is answering in the open conversation (this one shows it live and
    takes no new message there until it ends)."""

    active: bool


@dataclass(frozen=True)
class OpenConversationDeleted:
    """The open conversation was deleted in another tab: the app leaves it for a new chat."""

    conversation_id: str


@dataclass(frozen=True)
class SearchResults:
    """The hits of the newest search (app/core/search.py); `searched` is False when the query
    was cleared (no results to show, not "no matches")."""

    query: str
    hits: tuple[SearchHit, ...]
    searched: bool = True


@dataclass(frozen=True)
class ConversationsImported:
    """Conversations from a file are stored (with their ids as stored: new ones where the
    file's were taken)."""

    conversations: tuple[Conversation, ...]


# Whose settings a form holds: the open chat's ("chat"; in a new chat, what it will be created
# with) or the app-wide defaults that new chats start with ("defaults", `#/settings`).
SettingsScope = Literal["chat", "defaults"]


@dataclass(frozen=True)
class SettingsShown:
    """The settings form, filled: show it (the chat's panel, or the `#/settings` page)."""

    scope: SettingsScope
    settings: ChatSettings
    # What an empty field means: the model's catalog defaults (None: the model's own files
    # decide, or no single model is known).
    model_defaults: ChatSettings
    limits: SettingsLimits


@dataclass(frozen=True)
class SettingsRefused:
    """Settings not stored, with why: field name (settings.FIELDS, or "" for the whole form)
    -> reason."""

    scope: SettingsScope
    reasons: Mapping[str, str]


@dataclass(frozen=True)
class SettingsSaved:
    scope: SettingsScope
    settings: ChatSettings


# -- the model manager (app/core/models.py) ------------------------------------------------


@dataclass(frozen=True)
class CatalogChanged:
    """The catalog now lists these models (the user added or removed one of their own)."""

    catalog: Catalog


@dataclass(frozen=True)
class ModelRow:
    entry: ModelEntry
    # Whether transformers.js's cache holds every file it would load (None: could not tell).
    downloaded: bool | None
    # The titles of the conversations whose model it is.
    used_by: tuple[str, ...] = ()
    downloading: bool = False


@dataclass(frozen=True)
class ModelsListed:
    rows: tuple[ModelRow, ...]


@dataclass(frozen=True)
class StorageEstimated:
    """What this site's storage holds and may hold (`navigator.storage.estimate()`), whether
    the browser keeps it under pressure, and whether the page has asked it to."""

    used: int
    quota: int
    persisted: bool
    asked: bool = False


@dataclass(frozen=True)
class DownloadProgressed:
    progress: DownloadProgress


DownloadOutcome = Literal["done", "canceled", "failed"]


@dataclass(frozen=True)
class DownloadEnded:
    model: str
    outcome: DownloadOutcome
    reason: str = ""


@dataclass(frozen=True)
class HubModelAdded:
    entry: ModelEntry


@dataclass(frozen=True)
class EndpointAdded:
    """A server's models joined the catalog (`entries`; none new when all were listed)."""

    base_url: str
    entries: tuple[ModelEntry, ...]


@dataclass(frozen=True)
class EndpointRefused:
    """A server that was not added, and why (nothing was added)."""

    reason: str


Event = (
    ModelStatusChanged
    | ModelsUsable
    | ModelWanted
    | TargetChanged
    | EngineChanged
    | ConversationOpened
    | OlderMessagesShown
    | SiblingsChanged
    | ConversationNotFound
    | ConversationsListed
    | MessageAdded
    | MessageUpdated
    | MessageRemoved
    | StreamingChanged
    | ReplyMetrics
    | ErrorRaised
    | AnsweringElsewhere
    | OpenConversationDeleted
    | SearchResults
    | ConversationsImported
    | SettingsShown
    | SettingsRefused
    | SettingsSaved
    | CatalogChanged
    | ModelsListed
    | StorageEstimated
    | DownloadProgressed
    | DownloadEnded
    | HubModelAdded
    | EndpointAdded
    | EndpointRefused
)
EventSink = Callable[[Event], None]
