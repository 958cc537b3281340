"""The KV cache kept between turns (issue 12, target 4), in the real page with SmolLM2 on wasm.

A chat of eight turns in which each user message is a paragraph of about 200 tokens and each
reply exactly REPLY_TOKENS tokens (greedy): by the eighth turn the chat holds more than 1,500
tokens. The first token of each turn is timed in the page, from the submit to the first reply
text shown. Chats with the cache kept (the default) and with `?kv=0` (every turn re-reads its
whole history) alternate, each in a fresh page; figures are medians over the rounds.

Also recorded: each turn's prompt and reused token counts (the reply's `data-prompt-tokens` and
`data-reused-tokens`), and whether the greedy replies with the cache equal those without.

Writes bench/results/kv.json. Usage: .venv/bin/python bench/kv.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import Browser, Page, sync_playwright

MODEL = "local-build/SmolLM2-135M-Instruct"
REPLY_TOKENS = 32
TURNS = 8
READY = '[data-testid=app][data-ready="true"]'
ASSISTANT = "[data-testid=message][data-role=assistant]"

TOPICS = [
    "the harbour at dawn",
    "a lighthouse keeper's week",
    "the tides of a northern bay",
    "fishing boats in winter",
    "a storm seen from the cliffs",
    "the market by the quay",
    "gulls over the breakwater",
    "the last ferry of the evening",
]


def user_message(turn: int) -> str:
    """A paragraph of about 200 tokens, different each turn, ending with a question."""
    topic = TOPICS[turn % len(TOPICS)]
    sentences = [
        f"Here are my notes on {topic}, part {turn + 1}.",
        "The water was grey and calm at first, then the wind turned and the waves grew.",
        "People on the pier watched the boats come in one by one, counting them aloud.",
        "An old sailor said that the sea keeps its own calendar and never asks anyone.",
        "Children ran along the sand with buckets, looking for crabs under the rocks.",
        "By noon the clouds had lifted and the light on the water was almost silver.",
        "The smell of salt and tar hung over the harbour wall until the evening.",
        "A bell rang from the church on the hill as the tide began to go out again.",
        "Later a small yacht with a red sail tacked twice across the mouth of the bay.",
        "The harbour master wrote the names of the boats in a book with a green cover.",
        "When the lamps were lit, the reflections trembled on the dark water for hours.",
        f"What is the most striking detail in these notes about {topic}?",
    ]
    return " ".join(sentences)


@contextmanager
def kv_site() -> Iterator[tuple[str, str]]:
    """The repository served with a catalog that has SmolLM2 give REPLY_TOKENS greedy tokens."""
    with tempfile.TemporaryDirectory(prefix="parlance-kv-") as tmp:
        root = Path(tmp)
        for entry in ROOT.iterdir():
            if entry.name not in {".git", "node_modules", ".venv", ".venv-models"}:
                (root / entry.name).symlink_to(entry)
        catalog_dir = root / "kv-models"
        catalog_dir.mkdir()
        (catalog_dir / "local-build").symlink_to(ROOT / "models" / "local-build")
        generation = {
            "max_new_tokens": REPLY_TOKENS,
            "min_new_tokens": REPLY_TOKENS,
            "do_sample": False,
        }
        entry = {"id": MODEL, "label": "SmolLM2", "source": "local", "dtype": "q8",
                 "contextTokens": 8192, "generation": generation}  # fmt: skip
        catalog = {"default": MODEL, "presets": {}, "models": [entry]}
        (catalog_dir / "catalog.json").write_text(json.dumps(catalog))
        with serve(root) as base:
            yield base, "kv-models/catalog.json"


# Submits `text` and resolves with the ms from the submit to the new reply's first text.
TIMED_TURN = """(text) => new Promise((resolve) => {
  const sel = '[data-testid=message][data-role=assistant]';
  const before = document.querySelectorAll(sel).length;
  const input = document.querySelector('[data-testid=chat-input]');
  input.value = text;
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    const nodes = document.querySelectorAll(sel);
    if (nodes.length <= before) return;
    const content = nodes[nodes.length - 1].querySelector('[data-testid=message-content]');
    if (content && content.textContent.trim().length > 0) {
      obs.disconnect();
      resolve(performance.now() - t0);
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  input.form.requestSubmit();
})"""


def open_chat(browser: Browser, base: str, catalog: str, flag: str = "") -> tuple[Any, Page]:
    """A fresh page with the model loaded and warm, on a new chat.

    Warm: one turn as long as a measured one has run in another chat first, so that the
    measured first turn does not pay one-time costs (onnxruntime growing its memory for a
    prompt of hundreds of tokens took seconds here) that would flatter the turn-8 ratio."""
    context = browser.new_context()
    page: Page = context.new_page()
    page.set_default_timeout(600_000)
    page.goto(f"{base}?{flag}device=wasm&catalog={catalog}#/chat")
    page.wait_for_selector(READY)
    page.get_by_test_id("model-select").select_option(MODEL)
    page.wait_for_selector(f'[data-testid=model-status][data-model="{MODEL}"][data-state="ready"]')
    page.evaluate(TIMED_TURN, user_message(len(TOPICS) - 1))
    page.locator(f'{ASSISTANT}[data-status="done"]').wait_for()
    page.get_by_test_id("new-chat").click()
    page.wait_for_function("location.hash === '#/chat'")
    page.locator(ASSISTANT).first.wait_for(state="detached")
    return context, page


def chat(browser: Browser, base: str, catalog: str, keep_cache: bool) -> list[dict[str, Any]]:
    """One chat of TURNS turns in a fresh page; each turn's figures."""
    context, page = open_chat(browser, base, catalog, "" if keep_cache else "kv=0&")
    turns = []
    for turn in range(TURNS):
        first_ms = page.evaluate(TIMED_TURN, user_message(turn))
        reply = page.locator(ASSISTANT).nth(turn)
        reply.and_(page.locator('[data-status="done"]')).wait_for()
        turns.append(
            {
                "first_token_ms": round(first_ms, 1),
                "prompt_tokens": int(reply.get_attribute("data-prompt-tokens") or 0),
                "reused_tokens": int(reply.get_attribute("data-reused-tokens") or 0),
                "reply": reply.get_by_test_id("message-content").inner_text().strip(),
            }
        )
        side = "kept" if keep_cache else "reread"
        figures = {k: v for k, v in turns[-1].items() if k != "reply"}
        print(f"{side} turn {turn + 1}: {figures}", flush=True)
    context.close()
    return turns


def run(rounds: int) -> dict[str, Any]:
    chats: dict[str, list[list[dict[str, Any]]]] = {"kept": [], "reread": []}
    load = [round(os.getloadavg()[0], 2)]
    with kv_site() as (base, catalog), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(rounds):
            chats["kept"].append(chat(browser, base, catalog, True))
            chats["reread"].append(chat(browser, base, catalog, False))
        browser.close()
    load.append(round(os.getloadavg()[0], 2))

    def per_turn(side: str, key: str) -> list[float]:
        return [round(statistics.median(c[t][key] for c in chats[side]), 1) for t in range(TURNS)]

    kept, reread = per_turn("kept", "first_token_ms"), per_turn("reread", "first_token_ms")
    replies_equal = [
        [a["reply"] == b["reply"] for a, b in zip(k, r, strict=True)]
        for k, r in zip(chats["kept"], chats["reread"], strict=True)
    ]
    return {
        "model": MODEL,
        "device": "wasm",
        "dtype": "q8",
        "rounds": rounds,
        "turns": TURNS,
        "reply_tokens": REPLY_TOKENS,
        "first_token_ms_kept": kept,
        "first_token_ms_reread": reread,
        "prompt_tokens": per_turn("kept", "prompt_tokens"),
        "reused_tokens": per_turn("kept", "reused_tokens"),
        "reused_tokens_reread": per_turn("reread", "reused_tokens"),
        "ratio_turn8_vs_turn1_kept": round(kept[-1] / kept[0], 3),
        "ratio_turn8_vs_turn1_reread": round(reread[-1] / reread[0], 3),
        "ratio_turn8_kept_vs_reread": round(kept[-1] / reread[-1], 3),
        "replies_equal": replies_equal,
        "replies_kept_first_round": [t["reply"] for t in chats["kept"][0]],
        "replies_reread_first_round": [t["reply"] for t in chats["reread"][0]],
        "load_average": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (ROOT / "models" / MODEL / "config.json").exists():
        raise SystemExit(f"{MODEL} is not built: run `make real-model` first")
    write_results("kv", run(args.rounds))


if __name__ == "__main__":
    main()
