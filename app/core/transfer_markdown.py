"""A conversation as a Markdown document, to read or to share.

It holds the branch shown in the app (what the reader saw), not every branch: the other
versions of an edited message or a regenerated reply would interleave into a text nobody can
follow. When there are others, the document says so; the JSON export keeps them all.

Each message is a section headed by who wrote it (a reply: the model's name, and its id when
that differs). Message text is Markdown already and is kept verbatim, code fences included; a
reply stopped inside a code block gets its fence closed, so it does not swallow the messages
after it. What the app wrote around the messages (the title, model names, errors) is escaped,
so a title like `# <b>` reads as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from .conversations import Conversation, Message

# A fence opens or closes on a line of three or more backticks or tildes, indented at most
# three spaces (CommonMark). A backtick fence's info string cannot hold a backtick.
_FENCE = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})(.*)$")
# What could turn text on one line into markup (emphasis, code, links, HTML, a closing `#`,
# table cells, GFM strikethrough); a line start is never text of ours here.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_ENDINGS = {"stopped": "Stopped before the end.", "streaming": "Still being written when saved."}


def conversation_markdown(
    conversation: Conversation,
    branch: Sequence[Message],
    *,
    total_messages: int,
    labels: Mapping[str, str],
    exported_at_ms: int,
) -> str:
    """`branch` (first message first) as a Markdown document; `total_messages` counts every
    branch, so the document can say when it shows only one of them."""
    date = datetime.fromtimestamp(exported_at_ms / 1000, UTC).strftime("%Y-%m-%d")
    note = f"Exported from Parlance on {date}."
    if total_messages > len(branch):
        note += (
            f" This is the branch shown in the app ({len(branch)} of {total_messages} messages);"
            " the JSON export keeps every branch."
        )
    parts = [f"# {inline(conversation.title)}", f"*{note}*"]
    for message in branch:
        parts.append(f"## {_author(message, labels)}")
        if message.content:
            parts.append(closed_fences(message.content))
        ending = _ending(message)
        if ending:
            parts.append(f"*{inline(ending)}*")
    return "\n\n".join(parts) + "\n"


def _author(message: Message, labels: Mapping[str, str]) -> str:
    if message.role == "user":
        return "You"
    model = message.model
    if not model:
        return "Assistant"
    label = labels.get(model, model)
    if label == model:
        return inline(model)
    return f"{inline(label)} ({inline(model)})"


def _ending(message: Message) -> str | None:
    if message.status == "error":
        return f"Failed: {message.info.error}" if message.info.error else "Failed."
    return _ENDINGS.get(message.status)


def inline(text: str) -> str:
    """Text of the app's own (a title, a model name) as literal Markdown on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def closed_fences(content: str) -> str:
    """`content` verbatim, plus a closing fence if it ends inside a fenced code block."""
    opened: str | None = None
    for line in content.splitlines():
        match = _FENCE.match(line)
        if match is None:
            continue
        fence, rest = match.group(1), match.group(2)
        if opened is None:
            opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not rest.strip():
            opened = None
    text = content.rstrip("\n")
    return text if opened is None else f"{text}\n{opened}"
