"""Stored records read forgivingly: one bad field never hides a conversation."""

from __future__ import annotations

from app.core.conversations import Conversation, Message, ReplyInfo
from app.core.records import (
    conversation_from,
    conversation_record,
    message_from,
    message_record,
    messages_from,
)


def test_records_round_trip() -> None:
    c = Conversation("c", "Title", "quick", 1, 2)
    info = ReplyInfo(model="a/b", dtype="q8", device="wasm", tokens=3, tokens_per_second=9.5,
                     duration_ms=300.0, first_token_ms=20.0, left_out=2, error=None,
                     prompt_tokens=1500, reused_tokens=1420)  # fmt: skip
    m = Message("m", "c", "assistant", "hi", 3, "stopped", info)
    assert conversation_from(conversation_record(c)) == c
    assert message_from(message_record(m)) == m


def test_malformed_fields_fall_back_to_defaults_instead_of_failing() -> None:
    message = message_from(
        {
            "id": "m",
            "conversationId": "c",
            "role": "assistant",
            "content": 42,
            "createdAt": "yesterday",
            "status": "exploded",
            "metadata": "oops",
        }
    )
    assert message == Message("m", "c", "assistant", "", 0, "done", ReplyInfo())
    odd = message_from(
        {"id": "m", "conversationId": "c", "role": "assistant",
         "metadata": {"model": 3, "tokens": "many", "tokensPerSecond": 12, "leftOut": True}}
    )  # fmt: skip
    assert odd is not None and odd.info == ReplyInfo(tokens_per_second=12.0)


def test_records_that_cannot_be_messages_are_skipped_and_counted() -> None:
    read = messages_from(
        [
            {"id": "b", "conversationId": "c", "role": "user", "content": "two", "createdAt": 2},
            {"id": "x", "conversationId": "c", "role": "wizard"},
            {"conversationId": "c", "role": "user"},
            "not even an object",
            {"id": "a", "conversationId": "c", "role": "user", "content": "one", "createdAt": 1},
        ]
    )
    assert [m.content for m in read.messages] == ["one", "two"]
    assert read.skipped == 3


def test_a_conversation_without_updated_at_sorts_by_its_creation() -> None:
    c = conversation_from({"id": "c", "title": "  ", "createdAt": 7, "model": 3})
    assert c == Conversation("c", "New chat", None, 7, 7)
    assert conversation_from({"title": "no id"}) is None
    assert conversation_from({"id": "c", "createdAt": float("nan")}) == Conversation(
        "c", "New chat", None, 0, 0
    )
