"""Markdown rendered block by block while a reply streams (app/core/markdown_stream.py).

The one promise that matters most: once the reply ends, what was built frame by frame is exactly
what rendering the whole text at once gives, whatever the text and however it was cut into
chunks. The rest: which blocks count as final, that they are never rendered again, and that a
frame's work does not grow with the reply.
"""

from __future__ import annotations

import random
import re
import time

import pytest
from markdown_it.token import Token
from markdown_it.utils import EnvType

from app.core import markdown_stream
from app.core.markdown import render_markdown, render_tokens
from app.core.markdown_stream import BlockUpdate, MarkdownStream

from .test_rendering import DANGEROUS_LINKS, RAW_HTML, REMOTE_IMAGES, assert_inert

LANGUAGES = ["python", "js", "rust", "go", "c", "cpp", "java", "ruby", "php", "perl", "py"]
SAMPLES = {
    "prose": "Hello **world**, this is *fine*.\n\nA second paragraph\nwith a soft break.\n",
    "fences": "Code:\n\n```python\ndef f():\n\n    return 1\n```\n\n~~~\nplain\n~~~\n\nafter\n",
    "unclosed fence": "Look:\n\n```js\nconst a = 1;\n\nconst b = 2;",
    "fence then text": "```\nx\n```\ntext right after\n\nmore",
    "tight list": "- one\n- two\n- three\n\nAfter the list.\n",
    "loose ordered list": "1. first\n\n2. second\n\n10. tenth\n\nThe end.\n",
    "list continued": "- item\n\n  still the item\n\n- next\n\ndone",
    "nested list": "- a\n  - b\n    - c\n\n1) x\n2) y\n",
    "table": "| a | b |\n|:--|--:|\n| 1 | 2 |\n| 3 | 4 |\n\nBelow.\n",
    "table grows from a paragraph": "| h | i |\n\n| h | i |\n|---|---|\n| 1 | 2 |\n",
    "setext headings": "Title\n=====\n\nSub\n---\n\npara\n\n---\n\n***\n",
    "atx headings": "# One\n## Two\ntext\n\n###### Six\n\n#not a heading\n",
    "reference links": "See [the docs][d] and [x].\n\nMore.\n\n[d]: /docs\n[x]: /x 'T'\n",
    "reference defined twice": "[a]\n\n[a]: /first\n\n[a]: /second\n\n[a]\n",
    "reference before use": "[r]: https://e.org\n\nuse [r] and [r][]\n",
    "quotes": "> quoted\n> more\n\n> another\n\nlazy\n> q\ncontinued\n",
    "indented code": "para\n\n    code\n\n    more code\n\nafter\n",
    "crlf": "one\r\n\r\n- a\r\n- b\r\n\r\n```\r\nx\r\n```\r\n",
    "nul and tabs": "a\0b\n\n\t- tabbed\n\n\tcode?\n",
    "many languages": "".join(f"```{name}\nx = 1\n```\n\n" for name in LANGUAGES),
    "blank lines only": "\n\n\n",
    "images": "![a](http://evil.example/p.png)\n\n[![b](https://e.org/b.png)](https://e.org)\n",
}
HOSTILE = RAW_HTML + DANGEROUS_LINKS + [text for text, _url in REMOTE_IMAGES]


def tokens_of(text: str) -> list[str]:
    """Roughly a tokenizer's cut: a word with its leading space, punctuation runs, line ends."""
    return re.findall(r"\r|\n| ?\w+| ?[^\w\s]+|[ \t\0]+", text) or [text]


def stream(pieces: list[str], stream_: MarkdownStream | None = None) -> MarkdownStream:
    """Feed the growing text piece by piece, as frames would, then end it."""
    stream_ = stream_ or MarkdownStream()
    text = ""
    for piece in pieces:
        text += piece
        stream_.update(text, done=False)
    stream_.update(text, done=True)
    return stream_


@pytest.mark.parametrize("text", [*SAMPLES.values(), *HOSTILE], ids=[*SAMPLES, *map(repr, HOSTILE)])
@pytest.mark.parametrize("cut", ["characters", "tokens", "lines"])
def test_a_finished_stream_renders_exactly_as_the_whole_text_at_once(text: str, cut: str) -> None:
    assert "".join(tokens_of(text)) == text
    pieces = {
        "characters": list(text),
        "tokens": tokens_of(text),
        "lines": text.splitlines(keepends=True),
    }[cut]
    html = "".join(stream(pieces).blocks)
    assert html == render_markdown(text)
    assert_inert(html)


def test_random_markdown_cut_at_random_points_ends_as_the_one_shot_render() -> None:
    pieces = ["1. a\n", "2", ".", ")", "\n", "\n\n", "---", "===", "- ", "* ", "    ", "  ",
              "```", "~~~", "py", "> ", "|a|b|\n|-|-|\n", "| 1 | 2 |", "[x]", "[x]: /u\n",
              "[y]: javascript:x\n", "![i](http://e/p.png)", "word ", "**b** ", "`c` ", "# H",
              "\t", "<b>", "&amp;", "\r\n", "\\", "10", "[", "]", "(", "https://e.org",
              "_"]  # fmt: skip
    rng = random.Random(12)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text), rng.randint(1, 20))))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert "".join(stream(chunks).blocks) == render_markdown(text), repr(text)


def test_a_block_is_final_once_a_blank_line_and_a_whole_next_line_follow() -> None:
    md = MarkdownStream()
    assert md.update("First para", done=False) == BlockUpdate(open_html="<p>First para</p>\n")
    assert md.update("First para\n\nSec", done=False).finished == ()  # next line not whole
    update = md.update("First para\n\nSecond\n", done=False)
    assert update.finished == ("<p>First para</p>\n",)
    assert update.open_html == "<p>Second</p>\n"
    update = md.update("First para\n\nSecond\nstill second", done=False)
    assert update.finished == () and update.open_html == "<p>Second\nstill second</p>\n"


def test_without_a_blank_line_a_block_stays_open_because_markdown_can_reach_back() -> None:
    md = MarkdownStream()
    assert md.update("Title\n# Next\n", done=False).finished == ()
    assert md.update("Title\n---\n", done=False).open_html == "<h4>Title</h4>\n"  # setext h2


def test_a_partial_line_that_could_join_the_list_above_keeps_the_list_open() -> None:
    md = MarkdownStream()
    assert md.update("1. first\n\n2", done=False).finished == ()  # "2" may become "2."
    update = md.update("1. first\n\n2. second\n", done=False)
    assert update.finished == ()  # one loose list, still open
    assert "<li>\n<p>first</p>\n</li>" in update.open_html


def test_an_open_fence_is_one_block_and_is_highlighted_only_once_it_closes() -> None:
    md = MarkdownStream()
    update = md.update("```python\nx = 1\n\ny = 2\n", done=False)
    assert update.finished == ()
    assert update.open_html == "<pre><code>x = 1\n\ny = 2\n</code></pre>\n"
    closed = md.update("```python\nx = 1\n\ny = 2\n```", done=False).open_html
    assert closed.startswith('<pre data-language="python">') and '<span class="n">x' in closed
    ended = MarkdownStream()
    ended.update("```python\nx = 1\n", done=False)
    assert (
        ended.update("```python\nx = 1\n", done=True)
        .finished[0]
        .startswith('<pre data-language="python">')
    )  # a reply cut off inside a fence is highlighted when it ends


def test_final_blocks_are_never_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []

    def counting(tokens: list[Token], env: EnvType) -> str:
        html = render_tokens(tokens, env)
        rendered.append(html)
        return html

    monkeypatch.setattr(markdown_stream, "render_tokens", counting)
    md, text, final_since = MarkdownStream(), "", {}
    for frame, piece in enumerate(
        tokens_of("".join(f"Para {i} says a thing.\n\n" for i in range(30)))
    ):
        text += piece
        rendered.clear()
        for html in md.update(text, done=False).finished:
            final_since[html] = frame
        for html, since in final_since.items():
            assert since == frame or html not in rendered  # rendered again after it was final
    assert len(final_since) == 29  # all but the last, which no blank line follows yet


def test_a_definition_counts_once_final_and_then_updates_the_blocks_that_use_it() -> None:
    md = MarkdownStream()
    md.update("Read [the docs].\n\nMore.\n", done=False)
    assert md.blocks == ["<p>Read [the docs].</p>\n"]
    # Still being written: it applies to nothing yet.
    update = md.update("Read [the docs].\n\nMore.\n\n[the docs]: https://e.org", done=False)
    assert update.changed == ()
    update = md.update(
        "Read [the docs].\n\nMore.\n\n[the docs]: https://e.org\n\nEnd\n", done=False
    )
    link = '<a href="https://e.org" target="_blank" rel="noopener noreferrer nofollow">'
    assert update.changed == ((0, f"<p>Read {link}the docs</a>.</p>\n"),)
    assert md.blocks[0] == f"<p>Read {link}the docs</a>.</p>\n"


def test_a_text_that_does_not_continue_the_last_one_starts_again() -> None:
    md = MarkdownStream()
    md.update("One.\n\nTwo.\n\nThree", done=False)
    update = md.update("Other.\n\nText\n", done=False)
    assert update.reset and update.finished == ("<p>Other.</p>\n",)
    md.update("Other.\n\nText\n", done=True)
    assert md.update("Other.\n\nText!", done=True).reset  # an ended reply changed: again


def test_the_same_text_again_changes_nothing() -> None:
    md = MarkdownStream()
    first = md.update("a\n\nb\n\nc", done=False)
    assert md.update("a\n\nb\n\nc", done=False) == BlockUpdate(open_html=first.open_html)
    md.update("a\n\nb\n\nc", done=True)
    assert md.update("a\n\nb\n\nc", done=True) == BlockUpdate()


def test_a_frame_costs_the_same_at_token_2000_as_at_token_100() -> None:
    section = (
        "## Part\n\nSome prose with `code` and [a link](https://e.org).\n\n- a\n- b\n\n"
        "```python\ndef f(x):\n    return x * 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    )
    pieces = tokens_of(section * 40)
    md, text, times = MarkdownStream(), "", []
    for piece in pieces:
        text += piece
        started = time.perf_counter()
        md.update(text, done=False)
        times.append(time.perf_counter() - started)
    per_section = len(tokens_of(section))
    early = sorted(times[per_section : 3 * per_section])
    late = sorted(times[-2 * per_section :])
    # Medians of the same mix of blocks; generous, as the machine is shared.
    assert late[len(late) // 2] < 3 * early[len(early) // 2]
