"""A conversation as Markdown: the branch shown, who wrote what, the text verbatim."""

from __future__ import annotations

from app.core.conversations import Conversation, Message, ReplyInfo
from app.core.transfer_markdown import closed_fences, conversation_markdown, inline

DAY = 1_763_712_000_000  # 2025-11-21
LABELS = {"tiny/a": "Tiny A"}
CODE = "Here:\n\n```python\nprint('<b>hi</b>')  # **not bold**\n```\n\n| a | b |\n|---|---|"


def chat(*messages: Message, total: int | None = None, title: str = "Plans") -> str:
    conversation = Conversation("c", title, None, 1, 1)
    return conversation_markdown(
        conversation,
        messages,
        total_messages=len(messages) if total is None else total,
        labels=LABELS,
        exported_at_ms=DAY,
    )


def test_a_chat_reads_as_a_titled_document_with_each_reply_under_its_model() -> None:
    text = chat(
        Message("q", "c", "user", "Write code", 1),
        Message("r", "c", "assistant", CODE, 2, info=ReplyInfo(model="tiny/a")),
        Message("r2", "c", "assistant", "Bye", 4, info=ReplyInfo(model="other/model")),
    )
    assert text == (
        "# Plans\n\n"
        "*Exported from Parlance on 2025-11-21.*\n\n"
        "## You\n\nWrite code\n\n"
        f"## Tiny A (tiny/a)\n\n{CODE}\n\n"
        "## other/model\n\nBye\n"
    )


def test_only_the_branch_shown_is_written_and_the_document_says_so() -> None:
    text = chat(Message("q", "c", "user", "hi", 1), total=5)
    assert "(1 of 5 messages); the JSON export keeps every branch." in text
    assert "branch" not in chat(Message("q", "c", "user", "hi", 1))


def test_stopped_and_failed_replies_say_so_under_their_text() -> None:
    text = chat(
        Message("a", "c", "assistant", "half", 1, status="stopped"),
        Message("b", "c", "assistant", "", 2, status="error", info=ReplyInfo(error="<no> *disk*")),
        Message("c", "c", "assistant", "", 3, status="error"),
    )
    assert "## Assistant\n\nhalf\n\n*Stopped before the end.*" in text
    assert "*Failed: \\<no\\> \\*disk\\**" in text
    assert text.endswith("## Assistant\n\n*Failed.*\n")


def test_the_app_own_words_are_escaped_but_message_text_is_verbatim() -> None:
    text = chat(
        Message("q", "c", "user", "<script>x</script> # not a title", 1),
        Message("r", "c", "assistant", "ok", 2, info=ReplyInfo(model="<b>[x](javascript:y)")),
        title="# <img src=x>\n*title*",
    )
    assert text.startswith("# \\# \\<img src=x\\> \\*title\\*\n")
    assert "\n<script>x</script> # not a title\n" in text
    assert "## \\<b\\>\\[x\\](javascript:y)\n" in text
    assert inline("a_b") == "a\\_b"


def test_a_reply_stopped_inside_a_code_block_gets_its_fence_closed() -> None:
    assert closed_fences("```py\nx = 1\n") == "```py\nx = 1\n```"
    assert closed_fences("~~~~\ncode\n~~~\n") == "~~~~\ncode\n~~~\n~~~~"
    assert closed_fences("```\na\n```\n\n```js\nb") == "```\na\n```\n\n```js\nb\n```"
    assert closed_fences("````\n```\nstill code\n````") == "````\n```\nstill code\n````"
    assert closed_fences("inline ``` is not a fence") == "inline ``` is not a fence"
    assert closed_fences("    ```\nindented code, not a fence") == (
        "    ```\nindented code, not a fence"
    )
    text = chat(
        Message("r", "c", "assistant", "```python\nprint(1", 1),
        Message("q", "c", "user", "next", 2),
    )
    assert "print(1\n```\n\n## You\n\nnext\n" in text
