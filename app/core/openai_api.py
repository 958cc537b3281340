"""The OpenAI Chat Completions protocol, as data: the streaming request a reply sends, and the
meaning of each server-sent event that comes back.

The browser adapter (app/browser/openai_engine.py) fetches and splits the byte stream into
events with a well-kept SSE parser (eventsource-parser); each event's `data` comes here as text.
What a server sends is untrusted: a chunk that is not JSON, or is not a chat completion chunk,
is a `StreamError` (the text so far is kept by the caller), never a crash or an executed thing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ParlanceError
from .ports import ChatTurn

DONE = "[DONE]"
# Settings the protocol names differently (OpenAI's `max_tokens`), or not at all.
_RENAMED = {"max_new_tokens": "max_tokens"}
_PASSED = ("temperature", "top_p", "repetition_penalty")


class StreamError(ParlanceError):
    """A reply's stream that went wrong: a server error, a dropped connection, bad data."""


@dataclass(frozen=True)
class Usage:
    """What the server says the reply cost (its `usage` object)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def chat_body(model: str, turns: Sequence[ChatTurn], options: Mapping[str, Any]) -> dict[str, Any]:
    """The body of `POST /v1/chat/completions` for a streamed reply.

    The settings map onto the protocol: `max_new_tokens` is `max_tokens`; greedy decoding
    (`do_sample: false`) is temperature 0; `repetition_penalty` is sent as is (vLLM and
    llama.cpp read it; others ignore it); `min_new_tokens` has no counterpart and is left out.
    `stream_options.include_usage` asks for the usage in the last chunk.
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": t.role, "content": t.content} for t in turns],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for key in _PASSED:
        value = options.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            body[key] = value
    for key, renamed in _RENAMED.items():
        value = options.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            body[renamed] = value
    if options.get("do_sample") is False:
        body["temperature"] = 0.0
    return body


def error_message(text: str) -> str:
    """The message of an error body (`{"error": {"message": ...}}` or `{"detail": ...}`),
    short; "" when the body says nothing readable."""
    try:
        raw = json.loads(text)
    except ValueError:
        return ""
    said: Any = None
    if isinstance(raw, Mapping):
        error = raw.get("error")
        said = error.get("message") if isinstance(error, Mapping) else error
        said = said or raw.get("detail") or raw.get("message")
    if not isinstance(said, str):
        return ""
    words = " ".join(said.split())
    return words if len(words) <= 300 else words[:299] + "…"


class ReplyStream:
    """One reply's events, in order: the text of each, then the end (`[DONE]`, or the server
    closing after a chunk that said why it finished), and the usage when the server reports it.
    """

    def __init__(self) -> None:
        self.done = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.chunks = 0

    def take(self, data: str) -> str:
        """The text one event adds (often ""); StreamError when the event is an error or is
        not a chat completion chunk."""
        if data.strip() == DONE:
            self.done = True
            return ""
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise StreamError(f"the server sent something that is not JSON: {data[:80]!r}") from exc
        if not isinstance(raw, Mapping):
            raise StreamError("the server sent a chunk that is not a chat completion")
        if "error" in raw:
            said = error_message(data) or "no reason given"
            raise StreamError(f"the server stopped with an error: {said}")
        self._take_usage(raw.get("usage"))
        choices = raw.get("choices")
        if not isinstance(choices, list):
            raise StreamError("the server sent a chunk that is not a chat completion")
        text = ""
        for choice in choices[:1]:
            if not isinstance(choice, Mapping):
                raise StreamError("the server sent a chunk that is not a chat completion")
            delta = choice.get("delta")
            content = delta.get("content") if isinstance(delta, Mapping) else None
            if content is not None and not isinstance(content, str):
                raise StreamError("the server sent a chunk whose text is not text")
            text = content or ""
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self.finish_reason = reason
        if text:
            self.chunks += 1
        return text

    def _take_usage(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            return
        self.usage = Usage(_count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens")))

    def check_ended(self) -> None:
        """At the end of the body: StreamError unless the reply really ended (a connection
        that drops mid-reply ends the body too)."""
        if not self.done and self.finish_reason is None:
            raise StreamError("the connection to the server ended before the reply did")

    @property
    def tokens(self) -> int:
        """Tokens generated: the server's count when it gives one, else the chunks of text
        (one token each, as servers stream them)."""
        if self.usage is not None and self.usage.completion_tokens is not None:
            return self.usage.completion_tokens
        return self.chunks


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


class TextPacer:
    """At most one update of the reply on screen every `interval_ms`: a server that streams
    faster than that has its tokens shown a few at a time. Each update costs the page work
    (Markdown, layout) that, on a machine shared with the server, is taken from the server; a
    slow stream is shown token by token as before (its tokens come further apart)."""

    def __init__(self, interval_ms: float) -> None:
        self._interval = interval_ms
        self._pending = ""
        self._shown_at: float | None = None

    def add(self, text: str, now_ms: float) -> str:
        """Text to show now ("" to wait for more)."""
        self._pending += text
        if not self._pending:
            return ""
        if self._shown_at is not None and now_ms - self._shown_at < self._interval:
            return ""
        self._shown_at = now_ms
        return self.flush()

    def flush(self) -> str:
        """What is still waiting (at the end of the stream, or when it fails)."""
        pending, self._pending = self._pending, ""
        return pending
