"""OpenAI-compatible servers the user adds in `#/models` (vLLM, llama.cpp's server, Ollama, TGI,
SGLang): what a server address must look like, what its model list means, and the catalog
entries it becomes.

Everything that decides is here, pure; the browser adapter (app/browser/openai_engine.py) only
fetches. A refusal is an `EndpointError` whose reason a person can act on, and nothing is added.

Where text may go: a server on this machine (`localhost`, `127.0.0.1`) may speak plain HTTP;
any other server must use HTTPS, because the conversation's text travels to it and plain HTTP
lets anyone on the way read it. It is the browser's rule too (an HTTPS page cannot reach an
HTTP server except on the loopback), and the page's Content-Security-Policy (`connect-src`)
says the same, so a setting here cannot widen what the page may contact.

The server's key stays on this device: it is kept apart from the catalog entries (which an
export or a catalog file could carry) in `EndpointKeys`, by server address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ParlanceError

EXAMPLE_URL = "http://127.0.0.1:8080/v1"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
# A model list past this is not a server's answer we can show.
MAX_MODELS = 500
MAX_KEY_CHARS = 4096


class EndpointError(ParlanceError):
    """A server that cannot be added (or reached), and why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url

    def __str__(self) -> str:
        return f"Could not add {self.url}: {self.reason}"


def remote_words(host: str) -> str:
    """How a remote model is marked wherever it is named: its text leaves the device."""
    return f"runs on {host}"


def host_of(base_url: str) -> str:
    """The host (and port, when it has one) of a server address."""
    from urllib.parse import urlsplit  # imported when needed: see app/core/routes.py

    return urlsplit(base_url).netloc.rsplit("@", 1)[-1]


def base_url_from(text: str) -> str:
    """The API root a person typed (`http://127.0.0.1:8080/v1`, a trailing slash allowed), or
    EndpointError saying what one looks like."""
    from urllib.parse import urlsplit

    raw = text.strip()
    if not raw:
        raise EndpointError("(empty)", f"type the server's address, e.g. {EXAMPLE_URL}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise EndpointError(raw, f"it is not a web address ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(raw, f"it is not a web address such as {EXAMPLE_URL}")
    if parts.username is not None or parts.password is not None:
        raise EndpointError(raw, "put the key in the key field, not in the address")
    if parts.query or parts.fragment:
        raise EndpointError(raw, "the address of the API ends in /v1, with nothing after it")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        raise EndpointError(raw, f"the address of the API ends in /v1, e.g. {EXAMPLE_URL}")
    host = parts.hostname.lower()
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise EndpointError(
            raw,
            "a server on another machine must use https: plain http would let anyone on the way "
            "read your conversation (or reach it through an SSH tunnel to localhost)",
        )
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{path}"


def checked_key(text: str) -> str | None:
    """The key a person typed (None when the field is empty), or EndpointError."""
    key = text.strip()
    if not key:
        return None
    if len(key) > MAX_KEY_CHARS or not key.isprintable() or any(c.isspace() for c in key):
        raise EndpointError("the key", "a key is one word of printable characters")
    return key


def status_reason(status: int, message: str = "") -> str:
    """Why a server's HTTP status refuses what was asked, in words a person can act on."""
    said = f" ({message})" if message else ""
    if status in (401, 403):
        return f"the server refused the key (HTTP {status}){said}: check the key"
    if status == 404:
        return (
            "it has no OpenAI-compatible API there (HTTP 404): check that the address ends in /v1"
        )
    if status == 429:
        return f"the server is busy (HTTP 429){said}: try again later"
    return f"the server answered HTTP {status}{said}"


UNREACHABLE = (
    "it did not answer: check that the server is running at that address and that it lets "
    "this page in (CORS: vLLM --allowed-origins, llama.cpp --cors, Ollama OLLAMA_ORIGINS)"
)


def model_names(raw: Any, url: str) -> list[str]:
    """The model names of a `GET /v1/models` answer (`{"data": [{"id": ...}, ...]}`), or
    EndpointError when the answer is not an OpenAI-compatible model list."""
    data = raw.get("data") if isinstance(raw, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(m, Mapping) for m in data):
        raise EndpointError(
            url, "it did not answer like an OpenAI-compatible server (no model list at /models)"
        )
    names: list[str] = []
    for item in data[:MAX_MODELS]:
        name = item.get("id")
        if isinstance(name, str) and name.strip() and name.isprintable() and name not in names:
            names.append(name)
    if not names:
        raise EndpointError(url, "the server lists no models")
    return names


@dataclass(frozen=True)
class RemoteModel:
    """A remote model as the engine holds it once its server listed it (the `handle` of a
    LoadedModel): where to send the chat, and the server's name for the model."""

    base_url: str
    model: str

    @property
    def host(self) -> str:
        return host_of(self.base_url)


def entry_id(base_url: str, name: str) -> str:
    """A remote model's catalog id: its server's address (without the scheme and /v1) and its
    name there, so two servers' models of one name stay apart."""
    where = base_url.split("://", 1)[-1].removesuffix("/v1")
    return f"{where}/{name}"


def entry_label(name: str) -> str:
    """What a person reads for a server's model name: llama.cpp names models by file path."""
    return name.rstrip("/").rsplit("/", 1)[-1] or name


def new_entries(base_url: str, names: Sequence[str], known_ids: set[str]) -> list[dict[str, Any]]:
    """The catalog records (the catalog's own format) of a server's models not listed yet."""
    records = []
    for name in names:
        model_id = entry_id(base_url, name)
        if model_id not in known_ids:
            records.append(
                {
                    "id": model_id,
                    "label": entry_label(name),
                    "source": "openai",
                    "baseUrl": base_url,
                    "model": name,
                }
            )
    return records


class EndpointKeys:
    """Each server's key (by its address), kept on this device only: stored apart from the
    catalog entries, never exported, sent only to the server it belongs to."""

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._keys = dict(keys or {})

    def get(self, base_url: str) -> str | None:
        return self._keys.get(base_url)

    def with_key(self, base_url: str, key: str | None) -> dict[str, str]:
        """The keys as they would be with `base_url`'s set (None: removed)."""
        keys = dict(self._keys)
        if key is None:
            keys.pop(base_url, None)
        else:
            keys[base_url] = key
        return keys

    def replace(self, keys: Mapping[str, str]) -> None:
        self._keys = dict(keys)

    def as_record(self) -> dict[str, str]:
        return dict(self._keys)


def keys_from(record: Any) -> dict[str, str]:
    """Stored keys, forgiving: a field of the wrong type is dropped."""
    if not isinstance(record, Mapping):
        return {}
    return {k: v for k, v in record.items() if isinstance(k, str) and isinstance(v, str)}
