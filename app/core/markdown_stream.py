"""A streaming reply's Markdown, rendered block by block, so that a frame's work does not grow
with the reply.

The view shows a streaming reply again once per animation frame. Rendering the whole text each
time costs in proportion to its length: at token 2,000 every frame re-parses, re-highlights and
re-sanitises thousands of characters that no longer change. Markdown is a run of top-level
blocks (paragraphs, lists, fences, tables, headings, quotes), and only the last few can still
change. So the text is split with markdown-it's own block parse (level-0 tokens and their line
maps; no Markdown is parsed by hand here), and:

- A block is *final* once a blank line follows it and the next block's first line is complete.
  Markdown reaches back only across lines with no blank line between them (a setext underline,
  a lazy continuation, a table's delimiter row) or inside what markdown-it keeps as one level-0
  block (a list's items and its looseness, an open fence, an indented code block across blank
  lines); and a partial first line can still join the block above (`2` becomes `2.`, an item of
  the list before it), hence "complete".
- Final blocks are rendered once and kept: their HTML, and in the view the DOM made of it (so a
  selection or a code-copy button in them survives the stream). Each frame parses and renders
  only the text after the last final block: the *open* blocks.
- Link reference definitions act at a distance: one applies to every block, earlier ones too.
  A definition counts once its block is final (until then it applies to nothing, so an open
  block never decides how a final one renders); then the final blocks that could use it (they
  hold a `[`) are rendered again and reported as `changed` when their HTML differs.
- A fenced code block that has no closing line yet is shown as escaped text, without
  highlighting, while the reply streams: Pygments lexes it once, when it closes (or when the
  reply ends), not again every frame as it grows.
- When the reply ends (`done`), every block is final, and the final blocks' HTML, in order, is
  exactly `render_markdown(text)` (tests/unit/test_markdown_stream.py checks many samples).

What still grows is one block that grows: a single list of hundreds of items, or one huge code
block, is re-rendered whole each frame until it is final.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .markdown import OPEN_FENCE, markdown_env, parse_markdown, render_tokens

# Line ends as markdown-it's `normalize` rule reads them.
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class BlockUpdate:
    """What changed since the previous update, for the view to apply.

    `reset`: drop every block shown before (the text is not a continuation of the last one).
    `changed`: (index, HTML) of final blocks shown before whose HTML is now different.
    `finished`: HTML of blocks that became final, in order, after those shown before.
    `open_html`: the blocks still being written, as one piece of HTML ("" if none).
    """

    reset: bool = False
    changed: tuple[tuple[int, str], ...] = ()
    finished: tuple[str, ...] = ()
    open_html: str = ""


@dataclass(frozen=True)
class _Final:
    source: str  # the block's text, with the blank lines (and definitions) after it
    languages: frozenset[str]  # languages highlighted before it (MAX_LANGUAGES counts in order)
    html: str


class _Split:
    """Runs between markdown-it's block and inline phases: finds where the final blocks end,
    and keeps only the definitions before that point (and those already final) for inline
    parsing."""

    def __init__(self, known: set[str], done: bool) -> None:
        self.known = known
        self.done = done
        self.lines: list[str] = []
        self.starts: list[int] = []  # index in the tokens of each top-level block's first token
        self.final = 0  # how many of those blocks are final
        self.boundary = 0  # the first line after the final blocks
        self.defined: list[str] = []  # labels of definitions that became final

    def __call__(self, state: StateCore) -> None:
        self.lines = state.src.split("\n")  # the last one is partial ("" after a line end)
        tokens = state.tokens
        self.starts = [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting >= 0]
        firsts = [_first_line(tokens[i]) for i in self.starts]
        if self.done:
            self.final, self.boundary = len(firsts), len(self.lines)
        else:
            complete = len(self.lines) - 1
            for index in range(1, len(firsts)):
                line = firsts[index]
                if line >= complete or line == 0 or self.lines[line - 1].strip(" \t"):
                    break
                self.final, self.boundary = index, line
        references: dict[str, Any] = state.env.get("references", {})
        for label in [label for label in references if label not in self.known]:
            if references[label]["map"][0] < self.boundary:
                self.defined.append(label)
            else:
                del references[label]  # not final yet: it applies to nothing until it is


def _first_line(token: Token) -> int:
    assert token.map is not None  # every block-level token of markdown-it has one
    return token.map[0]


def _mark_open_fence(block: list[Token], lines: list[str]) -> None:
    """Flag the fence that has no closing line yet (a fence without one runs to the end)."""
    token = block[0]
    if token.type != "fence" or token.map is None:
        return
    start, end = token.map
    last = lines[end - 1] if end - 1 < len(lines) else ""
    closer = last.strip(" \t")
    indent = len(last) - len(last.lstrip(" "))
    closed = (
        end - 1 > start
        and indent < 4
        and len(closer) >= len(token.markup)
        and set(closer) == {token.markup[0]}
    )
    if not closed:
        token.meta[OPEN_FENCE] = True


class MarkdownStream:
    """One message's Markdown, rendered incrementally as its text grows (see the module)."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._text = ""
        self._prefix = ""  # the part of the text the final blocks cover
        self._finals: list[_Final] = []
        self._references: dict[str, Any] = {}
        self._languages: set[str] = set()
        self._open_html = ""
        self._ended = False

    @property
    def blocks(self) -> list[str]:
        """The HTML of the final blocks, in order."""
        return [final.html for final in self._finals]

    def update(self, text: str, *, done: bool) -> BlockUpdate:
        """Render `text`, the message's whole text so far; `done` once it will not grow."""
        if text == self._text and (self._ended or not done):
            return BlockUpdate(open_html=self._open_html)  # nothing new
        reset = self._ended or not text.startswith(self._prefix)
        if reset:
            self._clear()
        self._text = text
        tail = text[len(self._prefix) :]
        split = _Split(set(self._references), done)
        env = markdown_env(dict(self._references), set(self._languages), split)
        tokens = parse_markdown(tail, env)
        blocks = [tokens[a:b] for a, b in pairwise([*split.starts, len(tokens)])]
        lines = split.lines
        changed = self._define(env["references"], split.defined)
        finished = self._finish(blocks[: split.final], split, lines)
        open_blocks = blocks[split.final :]
        if open_blocks and not done:
            _mark_open_fence(open_blocks[-1], lines)
        languages = set(self._languages)  # the open blocks commit no language
        open_env = markdown_env({}, languages)
        self._open_html = "".join(render_tokens(block, open_env) for block in open_blocks)
        self._prefix += _raw_prefix(tail, lines, split.boundary)
        self._ended = done
        return BlockUpdate(reset, changed, finished, self._open_html)

    def _define(self, references: dict[str, Any], labels: list[str]) -> tuple[tuple[int, str], ...]:
        """Take definitions that became final; render again the final blocks they may change."""
        if not labels:
            return ()
        for label in labels:
            self._references[label] = references[label]
        changed = []
        for index, final in enumerate(self._finals):
            if "[" not in final.source:
                continue  # a reference link needs a bracket
            env = markdown_env(dict(self._references), set(final.languages))
            html = render_tokens(parse_markdown(final.source, env), env)
            if html != final.html:
                self._finals[index] = _Final(final.source, final.languages, html)
                changed.append((index, html))
        return tuple(changed)

    def _finish(
        self, blocks: list[list[Token]], split: _Split, lines: list[str]
    ) -> tuple[str, ...]:
        """Render the blocks that became final, in order, committing their languages."""
        env = markdown_env({}, self._languages)
        firsts = [0] + [_first_line(block[0]) for block in blocks[1:]] + [split.boundary]
        finished = []
        for index, block in enumerate(blocks):
            languages = frozenset(self._languages)
            html = render_tokens(block, env)
            source = "\n".join(lines[firsts[index] : firsts[index + 1]])
            if firsts[index + 1] < len(lines):
                source += "\n"
            self._finals.append(_Final(source, languages, html))
            finished.append(html)
        return tuple(finished)


def _raw_prefix(tail: str, lines: list[str], boundary: int) -> str:
    """The start of `tail` (as received) that holds its first `boundary` lines (as parsed)."""
    if boundary >= len(lines):
        return tail
    if "\r" not in tail:  # markdown-it's normalising changed no length
        return tail[: sum(len(line) + 1 for line in lines[:boundary])]
    ends = list(_LINE_END.finditer(tail))
    return tail[: ends[boundary - 1].end()] if boundary else ""
