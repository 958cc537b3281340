"""Markdown for replies and messages, rendered safely by markdown-it-py.

A reply is untrusted text: a model can be prompted (by a pasted document, say) into writing
anything, so the rendered HTML must neither run script nor make the browser fetch anything.

- Raw HTML is off: it is escaped and shown as text.
- Links are checked against an allow-list, not markdown-it's deny-list: a destination is kept
  only when it is `http:`, `https:` or `mailto:`, or relative (no `:` before its first `/`, `?`
  or `#`). markdown-it decodes entities and percent-encodes whitespace and controls before the
  check, so `jav&#x09;ascript:`, `JaVaScRiPt:`, `data:text/html`, `vbscript:`, a scheme split by
  a tab or a newline, autolinks and reference definitions all fail it and stay plain text.
- Images never load from a server: an image whose source is anything but an inline
  `data:image/(gif|png|jpeg|webp)` URL is rendered as a link ("Image: alt (host)") that the user
  may choose to open, because an `<img>` would send the request on render, and a URL such as
  `p.png?leak=<the conversation>` is how a prompt injection exfiltrates a chat. Inline data
  images stay images: they fetch nothing, and the page's CSP allows `img-src data:`. Inside a
  link (`[![alt](src)](href)`) the image becomes plain text, so anchors never nest.
- Table alignment becomes a class (`align-left`, `align-center`, `align-right`, styled in
  app/ui/app.css): markdown-it writes `style="text-align:..."`, which the CSP's `style-src`
  refuses when set through innerHTML.
- Links open in a new tab without an opener or a referrer.
- A fenced code block whose language Pygments knows is highlighted with token classes (never
  inline styles, which the CSP refuses) and names its language: `<pre data-language="python">
  <code class="language-python">`. Pygments is imported only when such a block is first
  rendered (or ahead, when the page is idle: `prepare_highlighting`), so start-up never pays
  for it. In the page its wheel is unpacked only after start-up (app/browser/wheels.py): until
  then a block is shown as plain text, and blocks rendered afterwards are highlighted. Any
  other block (no language, a language Pygments does not know, or a fence "name" that is not a
  plain word such as `"><script>`) is escaped text with no `data-language`.

A reply that is still streaming is rendered block by block (app/core/markdown_stream.py) through
the same parser and rules: `parse_markdown` and `render_tokens` below, with a hook between
markdown-it's block and inline phases (`AFTER_BLOCK`).

The page passes the result through DOMPurify as well (app/browser/dom.py): defence in depth.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

LINK_ATTRS = {"target": "_blank", "rel": "noopener noreferrer nofollow"}
SAFE_SCHEME = re.compile(r"^(https?|mailto):", re.IGNORECASE)
INLINE_IMAGE = re.compile(r"^data:image/(gif|png|jpeg|webp);", re.IGNORECASE)
ALIGN_STYLE = re.compile(r"^text-align:(left|center|right)$")
_LINK_DEPTH = "parlance_link_depth"
# What may name a fence's language: one short word (`python`, `c++`, `objective-c`, `c#`).
LANGUAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9_+#.-]{0,31}$")
# Languages highlighted in one message. Each new one imports a Pygments lexer module (a few ms);
# a reply naming all 900 of Pygments' languages would otherwise block the page for seconds.
MAX_LANGUAGES = 8
_LANGUAGES = "parlance_languages"
# env key: called with the parser's state once the block phase is done, before inline parsing.
AFTER_BLOCK = "parlance_after_block"
# Token.meta key: a fence that has no closing line yet, shown unhighlighted (see _fence).
OPEN_FENCE = "parlance_open_fence"


def is_safe_url(url: str) -> bool:
    """Whether a (normalised) link or image destination may appear in the page.

    Relative URLs pass: their first path segment cannot hold a `:` (RFC 3986 4.2), so anything
    that looks like `<letters>:` before `/`, `?` or `#` is a scheme and must be an allowed one.
    """
    if SAFE_SCHEME.match(url) or INLINE_IMAGE.match(url):
        return True
    return ":" not in re.split(r"[/?#]", url, maxsplit=1)[0]


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    env[_LINK_DEPTH] = env.get(_LINK_DEPTH, 0) + 1
    token = tokens[idx]
    if INLINE_IMAGE.match(str(token.attrGet("href") or "")):
        token.attrs.pop("href")  # a data: image is no page to open: keep the text only
    for name, value in LINK_ATTRS.items():
        token.attrSet(name, value)
    return str(self.renderToken(tokens, idx, options, env))


def _link_close(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    env[_LINK_DEPTH] = max(0, env.get(_LINK_DEPTH, 0) - 1)
    return str(self.renderToken(tokens, idx, options, env))


def image_label(alt: str, src: str) -> str:
    """What a remote image shows instead of itself: "Image: alt (host)"."""
    try:
        host = urlsplit(src).hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = ""
    label = f"Image: {alt}" if alt else "Image"
    return f"{label} ({host})" if host else label


def _image(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    if INLINE_IMAGE.match(src):
        token.attrSet("alt", alt)
        return str(self.renderToken(tokens, idx, options, env))
    label = escapeHtml(image_label(alt, src))
    if env.get(_LINK_DEPTH, 0):
        return f'<span class="image-link">{label}</span>'
    attrs = {"href": src, "class": "image-link", **LINK_ATTRS}
    rendered = "".join(f' {name}="{escapeHtml(value)}"' for name, value in attrs.items())
    return f"<a{rendered}>{label}</a>"


def _table_cell_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    align = ALIGN_STYLE.match(str(style or ""))
    if align:
        token.attrSet("class", f"align-{align.group(1)}")
    return str(self.renderToken(tokens, idx, options, env))


def fence_language(info: str) -> str:
    """The language a fence's info string names, lower-cased; "" if none or not a plain name."""
    words = unescapeAll(info).split(maxsplit=1)
    name = words[0].lower() if words else ""
    return name if LANGUAGE_NAME.match(name) else ""


@cache
def _known_languages() -> frozenset[str]:
    """Every alias of Pygments' built-in lexers (imports Pygments' table, no lexer module).

    Checked first because `get_lexer_by_name` searches installed plugins for a name it does
    not know, which reads every package's metadata: a reply naming thousands of made-up
    languages would cost seconds.
    """
    from pygments.lexers import get_all_lexers

    return frozenset(
        alias for _name, aliases, *_ in get_all_lexers(plugins=False) for alias in aliases
    )


@lru_cache(maxsize=128)
def _lexer(language: str) -> Any:
    """Pygments' lexer for `language`, or None; imports Pygments on the first call."""
    if language not in _known_languages():
        return None
    from pygments.lexers import get_lexer_by_name

    # Keep the text exactly as written: no stripped blank lines, no newline added.
    return get_lexer_by_name(language, stripnl=False, ensurenl=False)


@cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    # nowrap: the spans only (the fence rule writes <pre><code>); classes, never style="".
    return HtmlFormatter(nowrap=True, noclasses=False)


# Whether Pygments can be imported; None: not looked for since start or since its wheel came.
_pygments_present: bool | None = None
# Whether a block that names a language was shown plain because Pygments was not there yet.
_shown_plain = False


def _can_highlight() -> bool:
    global _pygments_present
    if _pygments_present is None:
        _pygments_present = importlib.util.find_spec("pygments") is not None
    return _pygments_present


def prepare_highlighting() -> None:
    """Import Pygments (its lexer table, the formatter, the commonest lexer) ahead of need.

    Importing it costs 150-300 ms in Pyodide. Paid inside the first code block of a streaming
    reply, that is one long frame mid-stream; the app calls this when the page is idle after
    start-up instead (start-up itself never pays it). Called again once Pygments' wheel is
    unpacked, it finds it there."""
    global _pygments_present
    _pygments_present = None
    highlight_code("x = 1", "python")


def highlight_code(code: str, language: str) -> str | None:
    """`code` as HTML spans with Pygments' token classes, or None for an unknown language
    (or while Pygments is not there yet)."""
    if not _can_highlight():
        global _shown_plain
        _shown_plain = True
        return None
    return _highlighted(code, language)


def shown_plain_before_pygments() -> bool:
    """Whether a code block was rendered plain for want of Pygments (then forgotten): what was
    rendered then is worth rendering again once `prepare_highlighting` has run."""
    global _shown_plain
    shown, _shown_plain = _shown_plain, False
    return shown


@lru_cache(maxsize=64)
def _highlighted(code: str, language: str) -> str | None:
    """Cached: while a reply streams, its earlier, finished blocks are rendered again every
    frame."""
    lexer = _lexer(language)
    if lexer is None:
        return None
    from pygments import highlight

    return str(highlight(code, lexer, _formatter()))


def _fence(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    language = fence_language(token.info)
    languages = env.setdefault(_LANGUAGES, set())
    if language not in languages and len(languages) >= MAX_LANGUAGES:
        language = ""  # shown as plain text: see MAX_LANGUAGES
    if token.meta.get(OPEN_FENCE):
        language = ""  # still streaming: lexed once it closes, not again every frame
    highlighted = highlight_code(token.content, language) if language else None
    if highlighted is not None:
        languages.add(language)
    if highlighted is None:
        return f"<pre><code>{escapeHtml(token.content)}</code></pre>\n"
    return (
        f'<pre data-language="{escapeHtml(language)}">'
        f'<code class="language-{escapeHtml(language)}">{highlighted}</code></pre>\n'
    )


def _heading(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A reply's headings sit under the page's own: `#` becomes h3, and so on down to h6 (the
    page has one h1, and h2 is for its sections)."""
    token = tokens[idx]
    level = min(int(token.tag[1]) + 2, 6)
    token.tag = f"h{level}"
    return str(self.renderToken(tokens, idx, options, env))


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    md.add_render_rule("th_open", _table_cell_open)
    md.add_render_rule("td_open", _table_cell_open)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("heading_open", _heading)
    md.add_render_rule("heading_close", _heading)
    md.core.ruler.after("block", "parlance_after_block", _after_block)
    return md


def _after_block(state: StateCore) -> None:
    hook: Callable[[StateCore], None] | None = state.env.get(AFTER_BLOCK)
    if hook is not None:
        hook(state)


def render_markdown(text: str) -> str:
    """HTML for `text`: raw HTML escaped, unsafe links left as text, remote images as links."""
    return str(_renderer().render(text, {}))


def markdown_env(
    references: dict[str, Any],
    languages: set[str],
    after_block: Callable[[StateCore], None] | None = None,
) -> EnvType:
    """An env for `parse_markdown`/`render_tokens` that starts from these link reference
    definitions and these highlighted languages (both are updated in place as it is used)."""
    env: EnvType = {"references": references, _LANGUAGES: languages}
    if after_block is not None:
        env[AFTER_BLOCK] = after_block
    return env


def parse_markdown(text: str, env: EnvType) -> list[Token]:
    """markdown-it's tokens for `text`, with our parser's options."""
    return _renderer().parse(text, env)


def render_tokens(tokens: Sequence[Token], env: EnvType) -> str:
    """HTML for tokens of `parse_markdown`, through the same safe rules as `render_markdown`."""
    md = _renderer()
    return str(md.renderer.render(tokens, md.options, env))
