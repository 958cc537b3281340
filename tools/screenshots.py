"""README screenshots, taken from the real app: desktop, phone (drawer open) and dark mode.

It serves the site, opens it in headless Chromium, asks the locally built SmolLM2 (or, when it is
not built, the bundled tiny test model) two questions, and saves docs/screenshots/*.png.

Usage: .venv/bin/python tools/screenshots.py   (or `make screenshots`)
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.chromium import CHROMIUM, QUIET_ARGS  # noqa: E402
from tools.serve import make_server  # noqa: E402

OUT = ROOT / "docs/screenshots"
REAL = ROOT / "models/local-build/SmolLM2-135M-Instruct/onnx/model_quantized.onnx"
READY = '[data-testid=app][data-ready="true"]'


def converse(page: Page, query: str, questions: list[str]) -> None:
    page.goto(f"{query}#/chat")
    page.wait_for_selector(READY)
    for question in questions:
        replies = page.locator('[data-testid=message][data-role="assistant"]')
        before = replies.count()
        page.get_by_test_id("chat-input").fill(question)
        page.get_by_test_id("chat-input").press("Enter")
        expect(replies).to_have_count(before + 1)
        expect(replies.last).to_have_attribute("data-status", "done", timeout=180_000)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if REAL.exists():
        query, questions = (
            "?device=wasm",
            [
                "What is the capital of France?",
                "Write a Python function that adds two numbers.",
            ],
        )
    else:
        query, questions = "?device=wasm&catalog=models/test-catalog.json", ["hi", "Write code"]
    server = make_server(ROOT, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    args = {"args": QUIET_ARGS}
    if CHROMIUM.exists():
        args["executable_path"] = str(CHROMIUM)  # type: ignore[assignment]
    with sync_playwright() as p:
        browser = p.chromium.launch(**args)  # type: ignore[arg-type]
        shots = [
            ("desktop", {"viewport": {"width": 1280, "height": 800}}, "light"),
            ("phone", {"viewport": {"width": 390, "height": 844}}, "light"),
            ("dark", {"viewport": {"width": 1280, "height": 800}}, "dark"),
        ]  # fmt: skip
        for name, options, scheme in shots:
            context = browser.new_context(base_url=base, color_scheme=scheme, **options)  # type: ignore[arg-type]
            page = context.new_page()
            converse(page, query, questions)
            if name == "phone":
                page.get_by_test_id("menu").click()
                expect(page.get_by_test_id("conversation-list")).to_be_visible()
                # The drawer slides in: take the picture once it is all in view.
                page.wait_for_function(
                    "() => document.querySelector('.sidebar').getBoundingClientRect().left >= 0"
                )
            page.screenshot(path=str(OUT / f"{name}.png"))
            print(f"docs/screenshots/{name}.png")
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
