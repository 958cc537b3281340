from __future__ import annotations

import pytest

from app.core.routes import NewChat, OpenChat, Redirect, chat_hash, parse_hash


@pytest.mark.parametrize("hash_", ["", "#", "#/", "#/nowhere", "#/chat/a/b"])
def test_empty_or_unknown_hashes_redirect_to_a_new_chat(hash_: str) -> None:
    assert parse_hash(hash_) == Redirect("#/chat")


def test_chat_hash_is_a_new_chat() -> None:
    assert parse_hash("#/chat") == NewChat()
    assert parse_hash("#/chat/") == NewChat()


def test_chat_hash_with_an_id_opens_that_conversation() -> None:
    assert parse_hash("#/chat/abc123") == OpenChat("abc123")


def test_conversation_ids_round_trip_through_the_hash() -> None:
    for conversation_id in ["abc", "with space", "a%b", "ünï"]:
        assert parse_hash(chat_hash(conversation_id)) == OpenChat(conversation_id)


def test_no_id_formats_as_a_new_chat() -> None:
    assert chat_hash(None) == "#/chat"
