"""Conversations and messages as stored records (camelCase), and back.

Records come back from storage that another tab, an older version of the app or a hostile
hand may have written, so reading is forgiving field by field: one malformed record must not
make its whole conversation unopenable. A field of the wrong type falls back to its default;
a record that cannot be a message at all (no id, no known role) is skipped and counted, so
the caller can say that something was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .conversations import MESSAGE_STATUSES, ROLES, Conversation, Message, MessageStatus, Role


def conversation_record(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    }


def message_record(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversationId": m.conversation_id,
        "role": m.role,
        "content": m.content,
        "createdAt": m.created_at,
        "status": m.status,
        "metadata": dict(m.metadata),
    }


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _time(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        return default
    return int(value)


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def conversation_from(record: Any) -> Conversation | None:
    """A conversation from a stored record, or None when it has no usable id."""
    if not isinstance(record, Mapping):
        return None
    conversation_id = _id(record.get("id"))
    if conversation_id is None:
        return None
    created = _time(record.get("createdAt"))
    model = record.get("model")
    return Conversation(
        id=conversation_id,
        title=_text(record.get("title")).strip() or "New chat",
        model=model if isinstance(model, str) and model else None,
        created_at=created,
        # A record without updatedAt still belongs in the sidebar: it sorts by creation.
        updated_at=_time(record.get("updatedAt"), created),
    )


def message_from(record: Any) -> Message | None:
    """A message from a stored record, or None when it cannot be one (no id or role)."""
    if not isinstance(record, Mapping):
        return None
    message_id = _id(record.get("id"))
    conversation_id = _id(record.get("conversationId"))
    role = record.get("role")
    if message_id is None or conversation_id is None or role not in ROLES:
        return None
    status = record.get("status")
    metadata = record.get("metadata")
    typed_role: Role = role
    typed_status: MessageStatus = status if status in MESSAGE_STATUSES else "done"
    return Message(
        id=message_id,
        conversation_id=conversation_id,
        role=typed_role,
        content=_text(record.get("content")),
        created_at=_time(record.get("createdAt")),
        status=typed_status,
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
    )


@dataclass(frozen=True)
class ReadMessages:
    messages: list[Message]
    skipped: int


def messages_from(records: Iterable[Any]) -> ReadMessages:
    """Every readable message of `records`, in time order, and how many were unreadable."""
    messages: list[Message] = []
    skipped = 0
    for record in records:
        message = message_from(record)
        if message is None:
            skipped += 1
        else:
            messages.append(message)
    messages.sort(key=lambda m: m.created_at)
    return ReadMessages(messages, skipped)
