"""A faulty OpenAI-compatible server on 127.0.0.1, for what a real one will not do on demand:
a stream that drops mid-reply, a stream that turns to garbage, a reply that runs until the
client hangs up (so a test sees that Stop really aborted the request), and an address that
answers, but not as an OpenAI-compatible server. It speaks HTTP/1.1 with chunked bodies and
answers CORS like llama.cpp's server does (every origin)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ["drop", "garble", "endless"]
FIRST_WORDS = ["Partial ", "answer"]


def _chunk(content: str) -> bytes:
    data = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content}}],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeOpenAIServer

    def log_message(self, *_args: Any) -> None:
        pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "authorization, content-type")

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self._cors()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            listing = {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]}
            self._answer(200, json.dumps(listing).encode())
        elif self.path == "/web/v1/models":
            self._answer(200, b"<!doctype html><title>A web site</title>", "text/html")
        else:
            self._answer(404, b'{"error": {"message": "not found"}}')

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.server.requests.append(body)
        self.send_response(200)
        self._cors()
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        model = body.get("model")
        for word in FIRST_WORDS:
            self._send(_chunk(word))
        # The pace of a model: the page has read the words before anything goes wrong (a
        # connection that breaks at once may take the words still in flight with it).
        time.sleep(0.5)
        if model == "garble":
            self._send(b"data: {this is not json\n\n")
            self._end()
        elif model == "endless":
            self._endless()
        # "drop": the connection closes without the body's last chunk: a dropped connection.
        self.close_connection = True

    def _send(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _endless(self) -> None:
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                self._send(_chunk(" more"))
                time.sleep(0.05)  # the pace of a slow model
        except OSError:
            self.server.hung_up.set()  # the client aborted the request


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.hung_up = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join()
        self.server_close()
