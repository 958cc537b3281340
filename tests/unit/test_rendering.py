"""Markdown and sidebar markup: untrusted text never becomes live HTML."""

from __future__ import annotations

from app.core.conversations import Conversation
from app.core.markdown import render_markdown
from app.ui.sidebar import sidebar_markup


def test_markdown_renders_emphasis_lists_and_code_blocks() -> None:
    html = render_markdown("It adds **two** numbers:\n\n- a\n- b\n\n```python\nx = 1 < 2\n```")
    assert "<strong>two</strong>" in html
    assert "<li>a</li>" in html
    assert '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>' in html


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


def test_the_line_under_a_reply_names_its_model_placement_and_speed() -> None:
    from app.core.conversations import Message
    from app.ui.view import describe_reply

    meta = {
        "model": "tinylm/a",
        "dtype": "q8",
        "device": "wasm",
        "tokens": 12,
        "tokensPerSecond": 150.04,
        "durationMs": 1234.0,
    }
    done = Message("m", "c", "assistant", "hi", 1, "done", meta)
    line = describe_reply(done, {"tinylm/a": "Tiny A"})
    assert line == "Tiny A · q8 on wasm · 12 tokens · 150.0 tok/s · 1.23 s"
    streaming = Message("m", "c", "assistant", "hi", 1, "streaming", {"model": "x/y"})
    assert describe_reply(streaming, {}) == "x/y"
