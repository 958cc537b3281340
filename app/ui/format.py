"""How replies and sizes read to people: pure formatting, tested in CPython."""

from __future__ import annotations

from app.core.conversations import Message

# Past this size a message is shown as plain text: Markdown of hostile input (50,000 "[") costs
# about half a second in CPython and more in Pyodide, and no real reply is that long.
MARKDOWN_LIMIT_CHARS = 50_000


def format_bytes(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.0f} kB"
    return f"{count} B"


def describe_reply(message: Message, labels: dict[str, str]) -> str:
    """The line under an assistant reply: the model that produced it, how, and how fast."""
    meta = message.metadata
    model = message.model or "unknown model"
    parts = [labels.get(model, model)]
    placement = " on ".join(str(meta[k]) for k in ("dtype", "device") if meta.get(k))
    if placement:
        parts.append(placement)
    if message.status != "streaming":
        if isinstance(meta.get("tokens"), int):
            parts.append(f"{meta['tokens']} tokens")
        if isinstance(meta.get("tokensPerSecond"), int | float):
            parts.append(f"{meta['tokensPerSecond']:.1f} tok/s")
        if isinstance(meta.get("durationMs"), int | float):
            parts.append(f"{meta['durationMs'] / 1000:.2f} s")
    if message.status == "stopped":
        parts.append("stopped")
    if message.status == "error" and message.content and meta.get("error"):
        parts.append(str(meta["error"]))
    left_out = meta.get("leftOut")
    if isinstance(left_out, int) and left_out > 0:
        noun = "message" if left_out == 1 else "messages"
        parts.append(f"{left_out} earlier {noun} left out to fit the model's context")
    return " · ".join(parts)


def empty_reply_text(message: Message) -> str:
    if message.status == "error":
        return str(message.metadata.get("error") or "The reply failed.")
    if message.status == "stopped":
        return "Stopped before the reply began."
    return ""
