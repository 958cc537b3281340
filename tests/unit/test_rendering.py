"""Markdown and sidebar markup: untrusted text never becomes live HTML.

The hostile inputs below are what a prompt-injected model or a pasted message may write. The
rendered HTML is parsed back and checked structurally: which elements, which attributes, and
which scheme a browser would see in each URL after its own normalisation.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.core import markdown
from app.core.conversations import Conversation
from app.core.markdown import MAX_LANGUAGES, render_markdown
from app.ui.sidebar import sidebar_markup

# What rendered Markdown may contain; anything else means raw HTML got through.
MARKDOWN_TAGS = {
    "p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s",
    "img", "span",
}  # fmt: skip
LINK_SCHEMES = {"http", "https", "mailto"}
ROOT = Path(__file__).resolve().parents[2]


class Elements(HTMLParser):
    """Every start tag of a fragment with its attributes (values entity-decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))

    def tags(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.found if name == tag]


C0_AND_SPACE = "".join(map(chr, range(0x21)))


def browser_scheme(url: str) -> str | None:
    """The scheme a browser reads from an attribute value (WHATWG URL parsing: leading and
    trailing C0 controls and spaces stripped, tabs and newlines removed anywhere)."""
    url = re.sub(r"[\t\n\r]", "", url.strip(C0_AND_SPACE))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match.group(1).lower() if match else None


def assert_inert(html: str) -> Elements:
    """No element outside Markdown's, no handler or style attribute, no dangerous URL."""
    elements = Elements(html)
    for tag, attrs in elements.found:
        assert tag in MARKDOWN_TAGS, f"<{tag}> in {html!r}"
        assert not [a for a in attrs if a.startswith("on") or a == "style"], (tag, attrs)
        if tag == "a" and "href" in attrs:
            assert browser_scheme(attrs["href"]) in LINK_SCHEMES | {None}, attrs
        if tag == "img":
            assert attrs["src"].startswith("data:image/"), attrs
    return elements


def test_markdown_renders_emphasis_lists_and_code_blocks() -> None:
    html = render_markdown("It adds **two** numbers:\n\n- a\n- b\n\n```python\nx = 1 < 2\n```")
    assert "<strong>two</strong>" in html
    assert "<li>a</li>" in html
    assert '<pre data-language="python"><code class="language-python">' in html
    assert code_of(html) == "x = 1 < 2\n"


def text_of(html: str) -> str:
    """The markup with the highlighting spans taken out (what the code reads as)."""
    return re.sub(r'<span class="[\w ]+">|</span>', "", html)


def code_of(html: str) -> str:
    """The text of the first code block, as a browser shows it."""
    inner = text_of(html).split("<code", 1)[1].split(">", 1)[1].split("</code>")[0]
    return unescape(inner)


def test_a_fenced_block_in_a_known_language_is_highlighted_with_token_classes() -> None:
    html = render_markdown("```python\ndef add(a, b):\n    return a + b\n```")
    elements = assert_inert(html)
    assert elements.tags("pre") == [{"data-language": "python"}]
    assert elements.tags("code") == [{"class": "language-python"}]
    assert '<span class="k">def</span>' in html and '<span class="nf">add</span>' in html
    assert {s["class"] for s in elements.tags("span")} >= {"k", "nf", "n", "p", "o"}
    assert code_of(html) == "def add(a, b):\n    return a + b\n"
    assert "style" not in html


def test_the_language_is_the_first_word_of_the_fence_in_lower_case() -> None:
    html = render_markdown("```JavaScript {linenos}\nconst x = 1;\n```")
    assert html.startswith('<pre data-language="javascript"><code class="language-javascript">')
    assert '<span class="kd">const</span>' in html


def test_code_is_kept_exactly_as_written_blank_lines_and_all() -> None:
    code = "\n\n  x = '<b>' & \"y\"\n\n\tz\n"
    assert code_of(render_markdown(f"```python\n{code}```")) == code


@pytest.mark.parametrize(
    "fence",
    ["```", "```nosuchlanguage", "```\"><script>alert(1)</script>",
     '```"><img src=x onerror=alert(1)>', '```python"', "```py<script>", "```" + "a" * 40],
)  # fmt: skip
def test_a_block_without_a_known_language_is_escaped_text_without_a_language(fence: str) -> None:
    html = render_markdown(f"{fence}\n<b>x</b> = 1\n```")
    elements = assert_inert(html)
    assert elements.found == [("pre", {}), ("code", {})], html
    assert "&lt;b&gt;x&lt;/b&gt; = 1" in html
    assert "data-language" not in html and "<script" not in html


HIGHLIGHT_SAMPLES = {
    "python": '@decorator\nclass A(B):\n    """doc"""\n    x: int = 0x1F  # note\n',
    "javascript": "const re = /a+/g; let s = `t${x}`; // c\n",
    "html": '<div class="a" style="color: red" onclick="x()">&amp;</div>\n',
    "css": "a { color: red !important; }\n",
    "diff": "+ added\n- removed\n@@ -1 +1 @@\n",
    "bash": 'echo "$HOME" | grep -v x\n',
    "json": '{"a": [1, true, null]}\n',
    "sql": "SELECT * FROM t WHERE a = 'x';\n",
}


@pytest.mark.parametrize(("language", "code"), HIGHLIGHT_SAMPLES.items())
def test_highlighting_writes_classes_never_a_style_attribute(language: str, code: str) -> None:
    html = render_markdown(f"```{language}\n{code}```")
    elements = assert_inert(html)  # no style attribute on any element
    assert elements.tags("pre") == [{"data-language": language}]
    assert elements.tags("span") and all(set(s) == {"class"} for s in elements.tags("span"))
    assert code_of(html) == code


def test_inline_code_and_indented_blocks_are_not_highlighted() -> None:
    html = render_markdown("Use `print(x)` here.\n\n    indented = True\n")
    assert "<code>print(x)</code>" in html
    assert "<pre><code>indented = True\n</code></pre>" in html


def test_a_reply_naming_hundreds_of_languages_highlights_a_few_and_stays_fast() -> None:
    names = ["python", "javascript", "rust", "go", "c", "cpp", "java", "ruby", "php", "perl"]
    many = "".join(f"```{name}\nx = 1\n```\n" for name in names * 3)
    made_up = "".join(f"```lang{i}\nx = 1\n```\n" for i in range(3000))
    started = time.perf_counter()
    html = render_markdown(many + made_up)
    assert time.perf_counter() - started < 10
    languages = [pre.get("data-language") for pre in assert_inert(html).tags("pre")]
    assert set(languages) - {None} == set(names[:MAX_LANGUAGES])
    assert languages.count(None) == 3000 + 3 * (len(names) - MAX_LANGUAGES)


def test_pygments_is_imported_only_once_a_block_names_a_language() -> None:
    code = """
import sys
from app.core.markdown import MAX_LANGUAGES, render_markdown
render_markdown("# Title\\n\\n```\\nplain\\n```\\n\\n`x` and ```inline```")
assert "pygments" not in sys.modules, "Pygments imported before any block named a language"
render_markdown("```python\\nx = 1\\n```")
assert "pygments" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_raw_html_in_markdown_is_escaped_as_text() -> None:
    html = render_markdown("<img src=x onerror=window.__pwned=1> <script>alert(1)</script>")
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in html


def test_javascript_links_stay_text_and_safe_links_open_without_an_opener() -> None:
    html = render_markdown("[x](javascript:window.__pwned=1) [ok](https://example.org)")
    assert 'href="javascript' not in html.lower()
    assert "[x](javascript:window.__pwned=1)" in html
    assert 'href="https://example.org" target="_blank" rel="noopener noreferrer nofollow"' in html


def test_sidebar_markup_escapes_titles_and_ids_and_marks_the_open_chat() -> None:
    hostile = Conversation('x" onclick="evil()', "<b>bold</b> & co", None, 1, 2)
    other = Conversation("plain", "Plain", None, 1, 1)
    markup = sidebar_markup([hostile, other], current_id="plain")
    assert "<b>" not in markup and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in markup
    assert 'data-conversation-id="x&quot; onclick=&quot;evil()"' in markup
    assert markup.count('aria-current="page"') == 1
    assert 'data-conversation-id="plain" aria-current="page"' in markup
    assert markup.count('data-testid="conversation-item"') == 2


def test_the_line_under_a_reply_says_in_plain_words_which_model_how_and_how_fast() -> None:
    from dataclasses import replace

    from app.core.conversations import Message, ReplyInfo
    from app.ui.format import describe_reply, reply_details

    info = ReplyInfo(
        model="tinylm/a", dtype="q8", device="wasm", tokens=12, tokens_per_second=15.6,
        duration_ms=1234.0, first_token_ms=210.0, prompt_tokens=1500, reused_tokens=1420,
    )  # fmt: skip
    done = Message("m", "c", "assistant", "hi", 1, "done", info)
    assert describe_reply(done, {"tinylm/a": "Tiny A"}) == "Tiny A · 8-bit · CPU · 16 tok/s · 1.2 s"
    assert reply_details(done).splitlines() == [
        "Model: tinylm/a",
        "Weights: q8 on wasm",
        "Tokens: 12",
        "Speed: 15.60 tokens/s",
        "First token: 210 ms",
        "Prompt: 1500 tokens, 1420 of them kept from the previous turn",
        "Duration: 1234 ms",
    ]
    fresh = replace(info, reused_tokens=0)
    details = reply_details(Message("m", "c", "assistant", "hi", 1, "done", fresh))
    assert "Prompt: 1500 tokens" in details.splitlines()
    streaming = Message("m", "c", "assistant", "hi", 1, "streaming", ReplyInfo(model="x/y"))
    assert describe_reply(streaming, {}) == "x/y"
    trimmed = Message("m", "c", "assistant", "hi", 1, "done", ReplyInfo(model="x/y", left_out=1))
    assert "1 earlier message left out" in describe_reply(trimmed, {})


RAW_HTML = [
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=window.__pwned=1>",
    '<a href="javascript:window.__pwned=1">click</a>',
    "<svg onload=window.__pwned=1><circle r=9 /></svg>",
    "<svg><script>window.__pwned=1</script></svg>",
    '<iframe src="javascript:window.__pwned=1"></iframe>',
    '<object data="data:text/html,<script>window.__pwned=1</script>"></object>',
    '<div style="position:fixed;inset:0" onclick="window.__pwned=1">x</div>',
    "<style>body { display: none }</style>",
    '<form action="https://evil.example"><input name=q autofocus onfocus=alert(1)></form>',
    "<math><mtext><script>window.__pwned=1</script></mtext></math>",
    "**bold <b onmouseover=alert(1)>b</b>** and `code <script>`",
    "<!-- comment --><![CDATA[x]]>",
    "```html\n<script>window.__pwned=1</script>\n```",
    '```"><img src=x onerror=alert(1)>\ncode\n```',
]


@pytest.mark.parametrize("text", RAW_HTML)
def test_raw_html_of_any_kind_is_shown_as_text(text: str) -> None:
    assert_inert(render_markdown(text))


DANGEROUS_LINKS = [
    "[x](javascript:window.__pwned=1)",
    "[x](JaVaScRiPt:window.__pwned=1)",
    "[x](jav&#x09;ascript:window.__pwned=1)",
    "[x](jav&#9;ascript:window.__pwned=1)",
    "[x](java&#x0A;script:window.__pwned=1)",
    "[x](java&#13;script:window.__pwned=1)",
    "[x](&#106;avascript:window.__pwned=1)",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[x](javascript&colon;window.__pwned=1)",
    "[x](%6Aavascript:window.__pwned=1)",
    "[x](\\javascript:window.__pwned=1)",
    "[x](&#0;javascript:window.__pwned=1)",
    "[x](&#x01;javascript:window.__pwned=1)",
    "[x](<javascript:window.__pwned=1>)",
    "[x](< javascript:window.__pwned=1>)",
    "[x](<java script:window.__pwned=1>)",
    "[x](<java\nscript:window.__pwned=1>)",
    "[x](java\tscript:window.__pwned=1)",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:text/html,<script>window.__pwned=1</script>)",
    "[x](DATA:text/html,x)",
    "[x](data:image/svg+xml,<svg onload=alert(1)>)",
    "[x](file:///etc/passwd)",
    "<javascript:window.__pwned=1>",
    "<JAVASCRIPT:window.__pwned=1>",
    "<jav&#x09;ascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,x>",
    "[x][r]\n\n[r]: javascript:window.__pwned=1",
    "[x][r]\n\n[r]: <jav&#x09;ascript:window.__pwned=1>",
    '[x][r]\n\n[r]: JAVASCRIPT:alert(1) "title"',
    "[x]\n\n[x]: vbscript:msgbox(1)",
    "[x](javascript:alert(1) 'title')",
    '[x](javascript:alert(1) "a" onclick="alert(1)")',
]


@pytest.mark.parametrize("text", DANGEROUS_LINKS)
def test_a_dangerous_link_in_any_disguise_never_gets_an_href_with_a_scheme(text: str) -> None:
    # Mostly no link at all; `&#0;javascript:...` (not an entity markdown-it decodes) stays a
    # link to the relative path "&" with a fragment, which a browser reads without a scheme.
    elements = assert_inert(render_markdown(text))
    hrefs = [a["href"] for a in elements.tags("a") if "href" in a]
    assert [browser_scheme(href) for href in hrefs] == [None] * len(hrefs), hrefs


def test_safe_links_keep_their_href_and_open_without_an_opener() -> None:
    text = "[a](https://example.org/x?q=1) [b](mailto:me@example.org) [c](/docs) <HTTP://e.x>"
    anchors = assert_inert(render_markdown(text)).tags("a")
    hrefs = [a["href"] for a in anchors]
    assert hrefs == ["https://example.org/x?q=1", "mailto:me@example.org", "/docs", "HTTP://e.x"]
    for anchor in anchors:
        assert anchor["target"] == "_blank"
        assert anchor["rel"] == "noopener noreferrer nofollow"


REMOTE_IMAGES = [
    ("![x](http://evil.example/p.png?leak=secret)", "http://evil.example/p.png?leak=secret"),
    ('![x](https://evil.example/p.png "a title")', "https://evil.example/p.png"),
    ("![x](HTTPS://EVIL.EXAMPLE/p.png)", "HTTPS://EVIL.EXAMPLE/p.png"),
    ("![x](//evil.example/p.png)", "//evil.example/p.png"),
    ("![x][pic]\n\n[pic]: http://evil.example/p.png?leak=1", "http://evil.example/p.png?leak=1"),
    ("![x](<http://evil.example/a b.png>)", "http://evil.example/a%20b.png"),
]


@pytest.mark.parametrize(("text", "url"), REMOTE_IMAGES)
def test_a_remote_image_is_a_link_to_it_never_an_img(text: str, url: str) -> None:
    html = render_markdown(text)
    elements = assert_inert(html)
    assert elements.tags("img") == []
    [anchor] = elements.tags("a")
    assert anchor["href"] == url
    assert anchor["rel"] == "noopener noreferrer nofollow" and anchor["target"] == "_blank"
    assert "Image: x (" in html


def test_a_remote_image_link_names_the_alt_text_and_the_host() -> None:
    html = render_markdown("![a <b>cat</b> & *dog*](https://img.evil.example/c.png)")
    assert "Image: a &lt;b&gt;cat&lt;/b&gt; &amp; dog (img.evil.example)</a>" in html


def test_an_inline_data_image_stays_an_image_because_it_fetches_nothing() -> None:
    html = render_markdown("![dot](data:image/png;base64,iVBORw0KGgo=)")
    [img] = assert_inert(html).tags("img")
    assert img == {"src": "data:image/png;base64,iVBORw0KGgo=", "alt": "dot"}


def test_an_image_of_an_unsafe_kind_stays_text() -> None:
    for text in ["![x](javascript:alert(1))", "![x](data:image/svg+xml;base64,PHN2Zz4=)"]:
        elements = assert_inert(render_markdown(text))
        assert elements.tags("img") == [] and elements.tags("a") == []


def test_an_image_inside_a_link_is_text_inside_that_one_link() -> None:
    html = render_markdown("[![x](http://evil.example/p.png?leak=1)](https://example.org)")
    elements = assert_inert(html)
    assert elements.tags("img") == []
    assert [a["href"] for a in elements.tags("a")] == ["https://example.org"]
    assert "Image: x (evil.example)" in html


def test_table_alignment_is_a_class_not_an_inline_style() -> None:
    html = render_markdown("| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")
    elements = assert_inert(html)
    cells = elements.tags("th") + elements.tags("td")
    assert [c.get("class") for c in cells] == [
        "align-left",
        "align-center",
        "align-right",
        None,
    ] * 2
    assert "style" not in html


def test_a_megabyte_of_hostile_markdown_renders_in_reasonable_time() -> None:
    chunk = (
        "Some **prose** with [a link](https://example.org) and ![x](http://evil.example/p.png)\n"
        "<img src=x onerror=alert(1)> [y](jav&#x09;ascript:alert(1)) <javascript:alert(1)>\n\n"
        "| a | b |\n|--:|:-|\n| 1 | 2 |\n\n"
    )
    text = chunk * (1_000_000 // len(chunk) + 1)
    started = time.perf_counter()
    html = render_markdown(text)
    assert time.perf_counter() - started < 30, "rendering 1 MB took too long"
    elements = assert_inert(html)
    assert elements.tags("img") == []
    assert len(elements.tags("table")) == text.count("| a | b |")


def test_unclosed_brackets_and_emphasis_render_without_a_crash() -> None:
    for text in ["[" * 20_000, "![" * 10_000, "*a" * 20_000, "<" * 20_000, "`" * 20_000]:
        assert_inert(render_markdown(text))


def test_reply_headings_sit_below_the_pages_own() -> None:
    html = render_markdown("# Title\n\n## Part\n\n###### Deep")
    assert "<h3>Title</h3>" in html and "<h4>Part</h4>" in html and "<h6>Deep</h6>" in html
    assert "<h1" not in html and "<h2" not in html


def test_sizes_read_as_people_say_them() -> None:
    from app.ui.format import format_bytes

    assert [format_bytes(n) for n in (512, 42_000, 1_600_000, 510_000_000, 1_230_000_000)] == [
        "512 B", "42 kB", "1.6 MB", "510 MB", "1.2 GB",
    ]  # fmt: skip


def test_highlighting_can_be_prepared_ahead_of_the_first_code_block() -> None:
    script = (
        "import sys\n"
        "from app.core.markdown import prepare_highlighting\n"
        "assert 'pygments.lexers.python' not in sys.modules\n"
        "prepare_highlighting()\n"
        "assert 'pygments.lexers.python' in sys.modules\n"
        "assert 'pygments.formatters.html' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_code_renders_plain_until_pygments_arrives_and_highlighted_after() -> None:
    """In the page Pygments' wheel is unpacked after start-up (app/browser/wheels.py): a block
    rendered before then is plain text, and nothing plain is cached for later blocks."""
    code = "```python\nx = 1\n```\n"
    markdown._pygments_present = False  # as in the page before the wheel is there
    try:
        before = render_markdown(code)
        assert "data-language" not in before and "x = 1" in before
    finally:
        markdown.prepare_highlighting()  # the app calls it once the wheel is unpacked
    after = render_markdown(code)
    assert 'data-language="python"' in after
