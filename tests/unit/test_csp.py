"""The Content-Security-Policy: one policy, in index.html's meta tag and in the dev server's
header, strict where rendered content could do harm."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.serve import FRAME_ANCESTORS, header_policy, make_server, meta_policy

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "index.html"


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.fixture(scope="module")
def policy() -> dict[str, list[str]]:
    found = meta_policy(INDEX)
    assert found, "index.html has no Content-Security-Policy meta tag"
    return directives(found)


def test_the_page_declares_its_policy_before_anything_it_governs() -> None:
    head = INDEX.read_text().split("</head>")[0]
    meta = head.index('http-equiv="Content-Security-Policy"')
    assert meta < head.index("<link") and "<script" not in head[:meta]


def test_rendered_content_can_neither_run_script_nor_style_nor_load_images(
    policy: dict[str, list[str]],
) -> None:
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "blob:" not in policy["script-src"] and "data:" not in policy["script-src"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


def test_the_page_connects_to_itself_the_hub_and_servers_over_https_or_on_this_machine(
    policy: dict[str, list[str]],
) -> None:
    hub = ["https://huggingface.co", "https://*.huggingface.co", "https://*.hf.co"]
    # Added OpenAI-compatible servers: any https host, plain http only on the loopback (the
    # rule app/core/endpoints.py applies to what a user adds).
    servers = ["https:", "http://localhost:*", "http://127.0.0.1:*"]
    assert policy["connect-src"] == ["'self'", *hub, *servers]
    assert "http:" not in policy["connect-src"] and "*" not in policy["connect-src"]
    assert policy["worker-src"] == ["'self'"]


def test_the_header_is_the_meta_policy_plus_frame_ancestors() -> None:
    meta = meta_policy(INDEX)
    assert meta is not None
    assert header_policy(INDEX) == f"{meta}; {FRAME_ANCESTORS}"
    assert "frame-ancestors" not in meta  # a meta tag cannot carry it: browsers ignore it there


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = make_server(ROOT, 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def csp_header(url: str) -> str | None:
    with urllib.request.urlopen(url) as response:
        value: str | None = response.headers.get("Content-Security-Policy")
        return value


def test_the_dev_server_sends_the_policy_with_the_app_page(server_url: str) -> None:
    expected = header_policy(INDEX)
    assert csp_header(server_url) == expected
    assert csp_header(server_url + "index.html?catalog=x") == expected


def test_the_dev_server_sends_no_policy_with_other_files(server_url: str) -> None:
    # Bench and contract pages have inline scripts of their own; assets need no policy.
    assert csp_header(server_url + "app/ui/app.css") is None
    assert csp_header(server_url + "bench/baseline/index.html") is None
