"""Conversations and messages as data, and the rules users see: titles and sidebar order."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

Role = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "done", "stopped", "error"]
ROLES: frozenset[str] = frozenset(get_args(Role))
MESSAGE_STATUSES: frozenset[str] = frozenset(get_args(MessageStatus))
# Separators, controls and invisible format characters (zero-width space, joiners, BOM...).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})

TITLE_LENGTH = 20
UNTITLED = "New chat"


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    # None follows the catalog default; otherwise a preset name or a model id.
    model: str | None
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: Role
    content: str
    created_at: int
    status: MessageStatus = "done"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        """The concrete model that produced an assistant message."""
        value = self.metadata.get("model")
        return value if isinstance(value, str) else None

    def with_content(self, content: str) -> Message:
        return replace(self, content=content)


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only whitespace, controls or zero-width characters."""
    return all(c.isspace() or unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in text)


def title_from(text: str, limit: int = TITLE_LENGTH) -> str:
    """A conversation title from its first user message.

    The first `limit` characters, cut back to a word boundary when there is one, with "..."
    added when the text was truncated. Whitespace runs count as one space.
    """
    flat = " ".join(text.split())
    if not flat:
        return UNTITLED
    if len(flat) <= limit:
        return flat
    head = flat[:limit]
    if flat[limit] != " " and " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip() + "..."


def by_recent_activity(conversations: Iterable[Conversation]) -> list[Conversation]:
    """Sidebar order: most recent message activity first; ties keep the newest created first."""
    return sorted(conversations, key=lambda c: (c.updated_at, c.created_at, c.id), reverse=True)
