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

from .conversations import (
    MESSAGE_STATUSES,
    ROLES,
    ChatSettings,
    Conversation,
    Message,
    MessageStatus,
    ReplyInfo,
    Role,
)

# ReplyInfo's fields as stored (camelCase), with the type each must have.
_INFO_FIELDS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "model": ("model", str),
    "dtype": ("dtype", str),
    "device": ("device", str),
    "tokens": ("tokens", int),
    "tokens_per_second": ("tokensPerSecond", (int, float)),
    "duration_ms": ("durationMs", (int, float)),
    "first_token_ms": ("firstTokenMs", (int, float)),
    "left_out": ("leftOut", int),
    "prompt_tokens": ("promptTokens", int),
    "reused_tokens": ("reusedTokens", int),
    "error": ("error", str),
    "host": ("host", str),
    "completion_tokens": ("completionTokens", int),
}


_INF = float("inf")
# ChatSettings' fields as stored (camelCase), with the type each must have.
_SETTINGS_FIELDS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "system_prompt": ("systemPrompt", str),
    "temperature": ("temperature", (int, float)),
    "top_p": ("topP", (int, float)),
    "max_new_tokens": ("maxNewTokens", int),
    "repetition_penalty": ("repetitionPenalty", (int, float)),
}


def settings_record(settings: ChatSettings) -> dict[str, Any]:
    """Settings as stored and exported: camelCase, values left to the model left out."""
    record: dict[str, Any] = {}
    for name, (key, _kind) in _SETTINGS_FIELDS.items():
        value = getattr(settings, name)
        if value is not None and value != "":
            record[key] = value
    return record


_NO_SETTINGS = ChatSettings()


def settings_from(record: Any) -> ChatSettings:
    """Settings from storage; a field of the wrong type (or not finite) follows the model."""
    if not record:
        return _NO_SETTINGS  # most chats: listing ten thousand builds no settings at all
    return ChatSettings(**_typed_fields(record, _SETTINGS_FIELDS))


def _typed_fields(
    record: Any, spec: dict[str, tuple[str, type | tuple[type, ...]]]
) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        return {}
    fields: dict[str, Any] = {}
    for name, (key, kind) in spec.items():
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, kind):
            continue
        if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
            continue
        if isinstance(value, int | float) and kind == (int, float):
            fields[name] = float(value)
        else:
            fields[name] = value
    return fields


def reply_info_record(info: ReplyInfo) -> dict[str, Any]:
    """A reply's record as stored and exported: camelCase, unset fields left out."""
    record: dict[str, Any] = {}
    for name, (key, _kind) in _INFO_FIELDS.items():
        value = getattr(info, name)
        if value is not None and not (name == "left_out" and value == 0):
            record[key] = value
    if info.settings is not None:
        record["settings"] = settings_record(info.settings)
    return record


def reply_info_from(record: Any) -> ReplyInfo:
    """A reply's record from storage; a field of the wrong type is left unset."""
    if not isinstance(record, Mapping):
        return ReplyInfo()
    fields = _typed_fields(record, _INFO_FIELDS)
    if isinstance(record.get("settings"), Mapping):
        fields["settings"] = settings_from(record["settings"])
    return ReplyInfo(**fields)


def conversation_record(c: Conversation) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "settings": settings_record(c.settings),
    }
    if c.lane is not None:
        record["lane"] = c.lane
    return record


def message_record(m: Message) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": m.id,
        "conversationId": m.conversation_id,
        "parentId": m.parent_id,
        "role": m.role,
        "content": m.content,
        "createdAt": m.created_at,
        "status": m.status,
        "metadata": reply_info_record(m.info),
    }
    if m.lane:
        record["lane"] = m.lane
        if m.lane == m.id:
            # Lane starts are indexed (byFork): the siblings of a branch are one range read.
            record["forkParent"] = m.parent_id or ""
    return record


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
        settings=settings_from(record.get("settings")),
        lane=_id(record.get("lane")),
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
    typed_role: Role = role
    typed_status: MessageStatus = status if status in MESSAGE_STATUSES else "done"
    return Message(
        id=message_id,
        conversation_id=conversation_id,
        role=typed_role,
        content=_text(record.get("content")),
        created_at=_time(record.get("createdAt")),
        status=typed_status,
        info=reply_info_from(record.get("metadata")),
        parent_id=_id(record.get("parentId")),
        lane=_id(record.get("lane")) or "",
    )


@dataclass(frozen=True)
class ReadMessages:
    messages: list[Message]
    skipped: int


def messages_from(records: Iterable[Any], *, sort: bool = True) -> ReadMessages:
    """Every readable message of `records` (in time order unless `sort` is False: a branch
    comes in its own order), and how many were unreadable."""
    messages: list[Message] = []
    skipped = 0
    for record in records:
        message = message_from(record)
        if message is None:
            skipped += 1
        else:
            messages.append(message)
    if sort:
        messages.sort(key=lambda m: m.created_at)
    return ReadMessages(messages, skipped)
