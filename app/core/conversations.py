"""Conversations and messages as data, and the rules users see: titles and sidebar order."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

Role = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "done", "stopped", "error"]
ROLES: frozenset[str] = frozenset(get_args(Role))
MESSAGE_STATUSES: frozenset[str] = frozenset(get_args(MessageStatus))
# Separators, controls and invisible format characters (zero-width space, joiners, BOM...).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})

TITLE_LENGTH = 20
UNTITLED = "New chat"


@dataclass(frozen=True)
class ChatSettings:
    """How a conversation's replies are generated. A value left None follows the model's own
    default (its catalog `generation`); an empty system prompt sends none."""

    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int | None = None
    repetition_penalty: float | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    # None follows the catalog default; otherwise a preset name or a model id.
    model: str | None
    created_at: int
    updated_at: int
    settings: ChatSettings = field(default_factory=ChatSettings)
    # The branch shown last: the lane (see tree.py) whose newest message ends it. None: the
    # lane of the newest message.
    lane: str | None = None


@dataclass(frozen=True)
class ReplyInfo:
    """What produced an assistant reply and how it went. Stored (camelCase, app/core/records.py)
    as the message's `metadata`, so a reload shows what produced each reply."""

    model: str | None = None
    dtype: str | None = None
    device: str | None = None
    tokens: int | None = None
    tokens_per_second: float | None = None
    duration_ms: float | None = None
    first_token_ms: float | None = None
    # How many earlier messages were left out to fit the model's context window.
    left_out: int = 0
    # The prompt's length in tokens (a remote model's: as its server reports it), and how many
    # of them the model did not read again because the previous turn's KV cache held them
    # (app/core/kv_reuse.py).
    prompt_tokens: int | None = None
    reused_tokens: int | None = None
    # Why the reply failed, or why it was not saved.
    error: str | None = None
    # The settings it ran with (None values: the model's defaults were used).
    settings: ChatSettings | None = None
    # A remote model's server (host and port): the reply's text was made there. The usage it
    # reported: tokens read are `prompt_tokens`, tokens written `completion_tokens`.
    host: str | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: Role
    content: str
    created_at: int
    status: MessageStatus = "done"
    info: ReplyInfo = field(default_factory=ReplyInfo)
    # The message this one follows (None: the first of its branch); see tree.py.
    parent_id: str | None = None
    # The lane the store put it in (tree.py); "" until stored.
    lane: str = ""

    @property
    def model(self) -> str | None:
        """The concrete model that produced an assistant message."""
        return self.info.model

    def with_content(self, content: str) -> Message:
        return replace(self, content=content)


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only whitespace, controls or zero-width characters."""
    return all(c.isspace() or unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in text)


def settled(messages: list[Message]) -> list[Message]:
    """The messages with a reply still marked streaming shown as stopped: no tab is answering
    it any more (the page that wrote it closed, or its turn has ended)."""
    return [replace(m, status="stopped") if m.status == "streaming" else m for m in messages]


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
