"""Hash routes as data: `#/chat` is a new chat, `#/chat/<id>` an existing conversation, and
`#/<page>` a page of its own beside the sidebar (`#/settings`). A new page is one more name in
PAGES (and a case where main routes it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a conversation id is made of when it needs no percent-encoding in a hash (URL-unreserved
# characters: what the app's ids are). urllib.parse is imported only for the others: it takes
# ~50 ms to import in Pyodide (it imports ipaddress), which start-up would otherwise pay.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


@dataclass(frozen=True)
class NewChat:
    """`#/chat`: an empty chat; the conversation is created when its first message is sent."""


@dataclass(frozen=True)
class OpenChat:
    """`#/chat/<id>`: a stored conversation (which may not exist)."""

    conversation_id: str


@dataclass(frozen=True)
class Redirect:
    """A hash that is not canonical; the app replaces it with `to` (no history entry)."""

    to: str


@dataclass(frozen=True)
class Page:
    """`#/<name>`: a page of its own, shown beside the sidebar instead of a chat."""

    name: str


Route = NewChat | OpenChat | Page | Redirect

NEW_CHAT_HASH = "#/chat"
# The pages of their own: `#/settings` (the settings new chats start with) and `#/models` (the
# model manager).
PAGES = ("settings", "models")


def parse_hash(hash_: str) -> Route:
    """Turn `location.hash` into a route. Unknown or empty hashes go to a new chat."""
    path = hash_.removeprefix("#").strip()
    parts = [p for p in path.split("/") if p]
    if parts == ["chat"]:
        return NewChat()
    if len(parts) == 2 and parts[0] == "chat":
        return OpenChat(_unquote(parts[1]))
    if len(parts) == 1 and parts[0] in PAGES:
        return Page(parts[0])
    return Redirect(NEW_CHAT_HASH)


def chat_hash(conversation_id: str | None) -> str:
    """The canonical hash of a conversation, or of a new chat when the id is None."""
    if conversation_id is None:
        return NEW_CHAT_HASH
    return f"{NEW_CHAT_HASH}/{_quote(conversation_id)}"


def page_hash(name: str) -> str:
    """The hash of a page of its own."""
    return f"#/{name}"


def _quote(text: str) -> str:
    if _UNRESERVED.fullmatch(text):
        return text  # what urllib.parse.quote(text, safe="") returns for it
    from urllib.parse import quote

    return quote(text, safe="")


def _unquote(text: str) -> str:
    if "%" not in text:
        return text  # what urllib.parse.unquote returns for it
    from urllib.parse import unquote

    return unquote(text)
