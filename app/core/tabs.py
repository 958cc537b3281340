"""Several tabs of the app, one store: what they tell each other, and who may answer where.

Every tab runs its own Chat on the same IndexedDB. Two platform features keep them honest:
- A turn lock per conversation (Web Locks in the page): a tab holds it from the moment it
  stores a user message (or starts a regenerate) until the reply is stored, so a chat streams
  in at most one tab at a time; the lock dies with its tab, so a crashed tab frees the chat.
- News (a BroadcastChannel in the page): after every change a tab says what changed, and the
  others refresh their sidebar, show a reply streaming elsewhere live, or leave a chat that was
  deleted. News is only a hint to re-read: the store stays the single source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .conversations import Message
from .records import message_from, message_record


@dataclass(frozen=True)
class ListChanged:
    """Conversations were created, renamed, re-targeted or touched: re-read the list."""


@dataclass(frozen=True)
class ConversationChanged:
    """A conversation's own fields changed (title, model): re-read it."""

    conversation_id: str


@dataclass(frozen=True)
class ConversationDeleted:
    conversation_id: str


@dataclass(frozen=True)
class TurnStarted:
    """A tab started answering in this conversation."""

    conversation_id: str


@dataclass(frozen=True)
class MessageLive:
    """The latest state of a message a tab is writing in a turn (the others show it live)."""

    message: Message


@dataclass(frozen=True)
class TurnEnded:
    """A tab finished a turn in this conversation; what it wrote is in the store."""

    conversation_id: str


News = (
    ListChanged | ConversationChanged | ConversationDeleted | TurnStarted | MessageLive | TurnEnded
)


def news_record(news: News) -> dict[str, Any]:
    """News as plain data, for the channel between tabs."""
    match news:
        case ListChanged():
            return {"kind": "list"}
        case ConversationChanged(cid):
            return {"kind": "changed", "conversationId": cid}
        case ConversationDeleted(cid):
            return {"kind": "deleted", "conversationId": cid}
        case TurnStarted(cid):
            return {"kind": "turn-started", "conversationId": cid}
        case TurnEnded(cid):
            return {"kind": "turn-ended", "conversationId": cid}
        case MessageLive(message):
            return {"kind": "message", "message": message_record(message)}


def news_from(record: Any) -> News | None:
    """News from the channel, or None for anything this version does not understand."""
    if not isinstance(record, dict):
        return None
    kind = record.get("kind")
    cid = record.get("conversationId")
    if kind == "list":
        return ListChanged()
    if kind == "message":
        message = message_from(record.get("message"))
        return MessageLive(message) if message is not None else None
    if not isinstance(cid, str) or not cid:
        return None
    makers: dict[str, Callable[[str], News]] = {
        "changed": ConversationChanged,
        "deleted": ConversationDeleted,
        "turn-started": TurnStarted,
        "turn-ended": TurnEnded,
    }
    maker = makers.get(str(kind))
    return maker(cid) if maker is not None else None


class TurnLease(Protocol):
    def release(self) -> None: ...


class TurnLocks(Protocol):
    """One answering tab per conversation."""

    async def acquire(self, conversation_id: str) -> TurnLease | None:
        """The conversation's turn lock, or None when another tab keeps it (it is answering)."""

    async def held_elsewhere(self, conversation_id: str) -> bool:
        """Whether a tab (possibly this one, a moment ago) holds the conversation's lock."""

    async def wait_released(self, conversation_id: str) -> None:
        """Return once nobody holds the conversation's lock."""


class Broadcast(Protocol):
    """Tells the other tabs what changed (never this tab itself)."""

    def publish(self, news: News) -> None: ...
