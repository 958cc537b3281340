from __future__ import annotations

from app.core.conversations import UNTITLED, Conversation, by_recent_activity, title_from


def test_a_short_first_message_is_the_whole_title() -> None:
    assert title_from("Hello there") == "Hello there"


def test_a_long_first_message_is_cut_back_to_a_word_boundary_with_an_ellipsis() -> None:
    assert title_from("Explain quantum entanglement to a child") == "Explain quantum..."


def test_a_first_message_of_exactly_twenty_characters_is_not_truncated() -> None:
    assert title_from("12345678901234567890") == "12345678901234567890"


def test_a_cut_that_falls_on_a_space_keeps_the_whole_last_word() -> None:
    assert title_from("abcdefghij abcdefghi more words") == "abcdefghij abcdefghi..."


def test_one_long_word_is_cut_at_twenty_characters() -> None:
    assert title_from("Supercalifragilisticexpialidocious") == "Supercalifragilistic..."


def test_whitespace_collapses_and_blank_text_gets_a_placeholder() -> None:
    assert title_from("  two\n\nlines  ") == "two lines"
    assert title_from("   ") == UNTITLED


def test_conversations_order_by_latest_message_activity() -> None:
    old = Conversation("a", "A", None, created_at=1, updated_at=50)
    new = Conversation("b", "B", None, created_at=2, updated_at=10)
    busy = Conversation("c", "C", None, created_at=3, updated_at=99)
    assert [c.id for c in by_recent_activity([old, new, busy])] == ["c", "a", "b"]
