"""Markdown for replies and messages, rendered safely by markdown-it-py.

Raw HTML is off (it is escaped as text), and markdown-it's link validation refuses
`javascript:`, `vbscript:`, `file:` and non-image `data:` URLs, so neither a message nor a
model can put live HTML or script into the page. Links open in a new tab without an opener.
The page passes the result through DOMPurify as well (defence in depth).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return str(self.renderToken(tokens, idx, options, env))


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    return md


def render_markdown(text: str) -> str:
    """HTML for `text`, with every raw HTML tag escaped and unsafe links left as text."""
    return str(_renderer().render(text))
