"""The messages between the page and the engine worker, as data.

Inference runs in a Web Worker (a second Pyodide running the same engine module) so that only
text crosses threads, never a tensor. The page's Python and the worker's Python talk over
`postMessage` with the small, typed protocol below: each request carries an id, and the worker
answers it with progress or text (streamed) and then exactly one `Done` or `Failed`.

Messages travel as plain JSON-like dicts (`{"kind": ..., ...}`), built and read only here, so
both ends and the CPython tests share one definition. Errors cross as their fields and are
rebuilt as the app's own error types on the page: the view never parses a worker's string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from .catalog import Device, ModelEntry
from .errors import GenerationError, ModelLoadError, ParlanceError
from .ports import ChatTurn, GenerationStats, LoadedModel

# -- page -> worker ------------------------------------------------------------------------


@dataclass(frozen=True)
class Configure:
    """Sent once, first: where transformers.js and the models are, and how to run them."""

    id: int
    transformers_url: str
    ort_files: Mapping[str, str]
    models_path: str
    device: Device
    threads: int
    keep_cache: bool = True  # keep the KV cache between turns (`?kv=0` turns it off)


@dataclass(frozen=True)
class Load:
    id: int
    model_id: str
    source: str
    dtype: str | None
    device: Device


@dataclass(frozen=True)
class WarmUp:
    id: int
    model: str  # the worker's key for a loaded model


@dataclass(frozen=True)
class Generate:
    id: int
    model: str
    turns: tuple[ChatTurn, ...]
    options: Mapping[str, Any]


@dataclass(frozen=True)
class Stop:
    """Stop the generation whose request id is `target` (no answer of its own)."""

    id: int
    target: int


@dataclass(frozen=True)
class CountTokens:
    id: int
    model: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Dispose:
    id: int
    model: str


Request = Configure | Load | WarmUp | Generate | Stop | CountTokens | Dispose

# -- worker -> page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    id: int
    phase: Literal["downloading", "compiling"]
    loaded_bytes: int = 0
    total_bytes: int = 0


@dataclass(frozen=True)
class Text:
    id: int
    text: str


@dataclass(frozen=True)
class Done:
    """The request's answer: a loaded model, generation stats, token counts, or nothing."""

    id: int
    value: Any = None


@dataclass(frozen=True)
class Failed:
    id: int
    error: Literal["load", "generation", "engine"]  # which of the app's errors it was
    reason: str
    model: str = ""
    file: str | None = None


Reply = Progress | Text | Done | Failed

_REQUESTS: dict[str, type[Any]] = {
    "configure": Configure,
    "load": Load,
    "warm_up": WarmUp,
    "generate": Generate,
    "stop": Stop,
    "count_tokens": CountTokens,
    "dispose": Dispose,
}
_REPLIES: dict[str, type[Any]] = {
    "progress": Progress,
    "text": Text,
    "done": Done,
    "failed": Failed,
}
_KINDS = {cls: kind for kind, cls in (_REQUESTS | _REPLIES).items()}


class ProtocolError(ValueError):
    """A message that is not one of the protocol's (a version mix-up, a bug)."""


def encode(message: Request | Reply) -> dict[str, Any]:
    """A message as a plain dict, ready for `postMessage`."""
    data = {f.name: getattr(message, f.name) for f in fields(message)}
    if isinstance(message, Generate):
        data["turns"] = [[t.role, t.content] for t in message.turns]
        data["options"] = dict(message.options)
    elif isinstance(message, CountTokens):
        data["texts"] = list(message.texts)
    elif isinstance(message, Configure):
        data["ort_files"] = dict(message.ort_files)
    return {"kind": _KINDS[type(message)], **data}


def decode_request(data: Mapping[str, Any]) -> Request:
    message = _decode(data, _REQUESTS)
    if isinstance(message, Generate):
        raw: Any = message.turns
        turns = tuple(ChatTurn(role, content) for role, content in raw)
        return Generate(message.id, message.model, turns, dict(message.options))
    if isinstance(message, CountTokens):
        return CountTokens(message.id, message.model, tuple(message.texts))
    return message  # type: ignore[no-any-return]


def decode_reply(data: Mapping[str, Any]) -> Reply:
    return _decode(data, _REPLIES)  # type: ignore[no-any-return]


def _decode(data: Mapping[str, Any], kinds: Mapping[str, type[Any]]) -> Any:
    cls = kinds.get(str(data.get("kind")))
    if cls is None:
        raise ProtocolError(f"unknown engine message {data.get('kind')!r}")
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise ProtocolError(f"malformed engine message {data.get('kind')!r}: {exc}") from exc


# -- how the engine runs -------------------------------------------------------------------

# Most wasm threads worth starting: onnxruntime-web's own cap.
MAX_THREADS = 4


def thread_count(*, isolated: bool, cores: int, asked: int | None = None) -> int:
    """How many wasm threads onnxruntime gets in the engine worker.

    One where the page is not cross-origin isolated (no SharedArrayBuffer). Otherwise one per
    core but one, up to MAX_THREADS: the page's own thread renders the reply as it streams and
    needs a core too. Measured on 2 cores (BENCHMARKS.md): a second wasm thread there made
    replies slower (0.91x), the page and two threads sharing two cores. `asked` (`?threads=`)
    overrides the count, within the same cap, where threads are possible at all.
    """
    if not isolated:
        return 1
    wanted = asked if asked is not None and asked > 0 else cores - 1
    return max(1, min(wanted, MAX_THREADS))


# -- values carried by Done ----------------------------------------------------------------


def load_request(request_id: int, entry: ModelEntry, dtype: str | None, device: Device) -> Load:
    return Load(request_id, entry.id, entry.source, dtype, device)


def model_value(model: LoadedModel, key: str) -> dict[str, Any]:
    """A loaded model as the page sees it: everything but the worker's own handle."""
    return {
        "key": key,
        "id": model.id,
        "dtype": model.dtype,
        "device": model.device,
        "context_tokens": model.context_tokens,
    }


def loaded_model(value: Mapping[str, Any]) -> LoadedModel:
    """The page's LoadedModel for a worker's answer; its handle is the worker's key."""
    return LoadedModel(
        id=str(value["id"]),
        dtype=value.get("dtype"),
        device=value["device"],
        handle=str(value["key"]),
        context_tokens=value.get("context_tokens"),
    )


def stats_value(stats: GenerationStats) -> dict[str, Any]:
    return asdict(stats)


def generation_stats(value: Mapping[str, Any]) -> GenerationStats:
    names = {f.name for f in fields(GenerationStats)}
    return GenerationStats(**{k: v for k, v in value.items() if k in names})


def failure(request_id: int, error: BaseException, model: str = "") -> Failed:
    """How an error in the worker crosses: its kind and the fields a user needs."""
    if isinstance(error, ModelLoadError):
        return Failed(request_id, "load", error.reason, error.model, error.file)
    if isinstance(error, GenerationError):
        return Failed(request_id, "generation", error.reason, error.model)
    reason = error.reason if isinstance(error, ParlanceError) else f"{error}" or repr(error)
    return Failed(request_id, "engine", reason, model)


def error_for(failed: Failed, model: str) -> ParlanceError:
    """The app's own error for a worker's `Failed`, as if the engine had raised it here."""
    if failed.error == "load":
        return ModelLoadError(failed.model or model, failed.reason, failed.file)
    return GenerationError(failed.model or model, failed.reason)


__all__ = [
    "Configure",
    "CountTokens",
    "Dispose",
    "Done",
    "Failed",
    "Generate",
    "Load",
    "Progress",
    "ProtocolError",
    "Reply",
    "Request",
    "Stop",
    "Text",
    "WarmUp",
    "decode_reply",
    "decode_request",
    "encode",
    "error_for",
    "failure",
    "generation_stats",
    "load_request",
    "loaded_model",
    "model_value",
    "stats_value",
]
