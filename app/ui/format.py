"""How replies and sizes read to people: pure formatting, tested in CPython."""

from __future__ import annotations

import math

from app.core.conversations import ChatSettings, Message
from app.core.endpoints import remote_words

# How much of a system prompt a reply's details quote.
PROMPT_QUOTE_CHARS = 160
# Past this size a message is shown as plain text: Markdown of hostile input (50,000 "[") costs
# about half a second in CPython and more in Pyodide, and no real reply is that long.
MARKDOWN_LIMIT_CHARS = 50_000


def format_bytes(count: int) -> str:
    """A size as people read it: 1.6 MB, 510 MB, 1.2 GB."""
    if count >= 1_000_000_000:
        return f"{count / 1_000_000_000:.1f} GB"
    if count >= 100_000_000:
        return f"{count / 1_000_000:.0f} MB"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.0f} kB"
    return f"{count} B"


def format_duration(seconds: float) -> str:
    """A time left as people say it: "12 s", "3 min", "1 h 5 min"."""
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} s"  # rounded up: never promises too soon
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


# The words people use for how a model runs (the footer under a reply).
PRECISION_WORDS = {
    "q8": "8-bit", "int8": "8-bit", "uint8": "8-bit", "q4": "4-bit", "q4f16": "4-bit",
    "bnb4": "4-bit", "fp16": "16-bit", "fp32": "full precision",
}  # fmt: skip
DEVICE_WORDS = {"wasm": "CPU", "webgpu": "GPU"}


def describe_reply(message: Message, labels: dict[str, str]) -> str:
    """The line under an assistant reply, in plain words: which model, how, how fast.

    E.g. "SmolLM2 135M · 8-bit · CPU · 16 tok/s · 0.9 s"; the exact figures are in
    `reply_details`, shown as its tooltip.
    """
    info = message.info
    model = message.model or "unknown model"
    parts = [labels.get(model, model)]
    if info.host and remote_words(info.host) not in parts[0]:
        parts.append(remote_words(info.host))  # a model since taken off the list
    if info.dtype:
        parts.append(PRECISION_WORDS.get(info.dtype, info.dtype))
    if info.device:
        parts.append(DEVICE_WORDS.get(info.device, info.device))
    if message.status != "streaming":
        if info.tokens_per_second is not None and info.tokens:
            parts.append(f"{info.tokens_per_second:.0f} tok/s")
        if info.duration_ms is not None:
            seconds = info.duration_ms / 1000
            parts.append(f"{seconds:.1f} s" if seconds >= 0.1 else f"{info.duration_ms:.0f} ms")
    if message.status == "stopped":
        parts.append("stopped")
    if message.status == "error" and message.content and info.error:
        parts.append(info.error)
    if info.left_out > 0:
        noun = "message" if info.left_out == 1 else "messages"
        parts.append(f"{info.left_out} earlier {noun} left out to fit the model's context")
    return " · ".join(parts)


def reply_details(message: Message) -> str:
    """The exact record of a reply, for its footer's tooltip."""
    info = message.info
    details = [f"Model: {info.model or 'unknown'}"]
    if info.host:
        details.append(f"Server: {info.host} (the text was sent there)")
    if info.host and (info.prompt_tokens is not None or info.completion_tokens is not None):
        read = "?" if info.prompt_tokens is None else info.prompt_tokens
        wrote = "?" if info.completion_tokens is None else info.completion_tokens
        details.append(f"Usage reported by the server: {read} prompt + {wrote} reply tokens")
    if info.dtype or info.device:
        details.append(f"Weights: {info.dtype or 'default'} on {info.device or 'unknown'}")
    if info.tokens is not None:
        details.append(f"Tokens: {info.tokens}")
    if info.tokens_per_second is not None:
        details.append(f"Speed: {info.tokens_per_second:.2f} tokens/s")
    if info.first_token_ms is not None:
        details.append(f"First token: {info.first_token_ms:.0f} ms")
    if info.prompt_tokens is not None and not info.host:
        reused = info.reused_tokens or 0
        details.append(
            f"Prompt: {info.prompt_tokens} tokens, {reused} of them kept from the previous turn"
            if reused
            else f"Prompt: {info.prompt_tokens} tokens"
        )
    if info.duration_ms is not None:
        details.append(f"Duration: {info.duration_ms:.0f} ms")
    if info.settings is not None:
        details.extend(settings_details(info.settings))
    return "\n".join(details)


def settings_details(
    settings: ChatSettings, quote_chars: int | None = PROMPT_QUOTE_CHARS
) -> list[str]:
    """The settings a reply ran with, one line each (the system prompt cut to `quote_chars`
    unless None); what was left to the model's own files is not listed."""
    prompt = settings.system_prompt.strip()
    if quote_chars is not None:
        prompt = " ".join(prompt.split())
        if len(prompt) > quote_chars:
            prompt = prompt[: quote_chars - 1].rstrip() + "…"
    lines = [f"System prompt: “{prompt}”" if prompt else "System prompt: none"]
    if settings.temperature is not None:
        greedy = " (greedy: always the likeliest token)" if settings.temperature == 0 else ""
        lines.append(f"Temperature: {settings.temperature:g}{greedy}")
    if settings.top_p is not None:
        lines.append(f"Top-p: {settings.top_p:g}")
    if settings.max_new_tokens is not None:
        lines.append(f"Max new tokens: {settings.max_new_tokens}")
    if settings.repetition_penalty is not None:
        lines.append(f"Repetition penalty: {settings.repetition_penalty:g}")
    return lines


def empty_reply_text(message: Message) -> str:
    if message.status == "error":
        return message.info.error or "The reply failed."
    if message.status == "stopped":
        return "Stopped before the reply began."
    return ""
