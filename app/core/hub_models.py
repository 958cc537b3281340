"""Adding a Hugging Face model by its id: what the hub says about it, checked, becomes a catalog
entry of the user's own.

The browser adapter (app/browser/hub.py) asks transformers.js what it knows (the config's
model type, whether its text-generation classes support it, which dtypes have ONNX files, how
big they are); everything that decides is here, pure: the id's form, the architecture, the
dtype each device runs, the size a browser can hold. A refusal is a `HubModelError` whose reason
a person can act on, and nothing is added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import Device, ModelEntry
from .errors import ParlanceError

# Hugging Face repo ids: "<owner>/<name>", letters, digits, '-', '_', '.', no '--' or '..'.
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_ID = re.compile(rf"^{_PART}/{_PART}$")
EXAMPLE_ID = "onnx-community/Qwen2.5-0.5B-Instruct"
HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")

# What each device runs best first. WebGPU without shader-f16 cannot run half precision.
DTYPE_PREFERENCE: Mapping[Device, tuple[str, ...]] = {
    "wasm": ("q8", "int8", "uint8", "q4", "bnb4", "fp32", "fp16"),
    "webgpu": ("q4f16", "fp16", "q4", "fp32", "q8"),
}
HALF = frozenset({"fp16", "q4f16"})
# onnxruntime-web on WebAssembly has a 32-bit heap: weights past about 2 GB cannot load there.
WASM_LIMIT_BYTES = 2_000_000_000


class HubModelError(ParlanceError):
    """A hub model that cannot join the catalog, and why."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(reason)
        self.model = model

    def __str__(self) -> str:
        return f"Could not add {self.model}: {self.reason}"


@dataclass(frozen=True)
class HubModelInfo:
    """What the hub (through transformers.js) says about a repo."""

    repo_id: str
    model_type: str
    # Whether transformers.js has a text-generation (causal LM) class for it.
    generates_text: bool
    # The dtypes whose ONNX files are all present, and the bytes each would download.
    dtype_bytes: Mapping[str, int] = field(default_factory=dict)
    context_tokens: int | None = None
    has_chat_template: bool = True


def repo_id_from(text: str) -> str:
    """The repo id a person typed or pasted (a bare id, or its hub page's URL), or
    HubModelError saying what an id looks like."""
    raw = text.strip().split("?", 1)[0].split("#", 1)[0]
    for prefix in HUB_PREFIXES:
        if raw.lower().startswith(prefix):
            raw = raw[len(prefix) :]
            break
    parts = [p for p in raw.split("/") if p]
    # A page of the repo ("owner/name/tree/main", "owner/name/blob/main/x") names the repo.
    if len(parts) > 2 and parts[2] in ("tree", "blob", "resolve"):
        parts = parts[:2]
    candidate = "/".join(parts)
    if not candidate:
        raise HubModelError("(empty)", f"type a model id such as {EXAMPLE_ID}")
    if not REPO_ID.match(candidate) or ".." in candidate or "--" in candidate:
        raise HubModelError(candidate, f"a model id looks like owner/name, e.g. {EXAMPLE_ID}")
    return candidate


def pick_dtype(available: Sequence[str], device: Device, has_shader_f16: bool) -> str | None:
    """The dtype `device` runs best among those the repo has files for (None: none fits)."""
    for dtype in DTYPE_PREFERENCE[device]:
        if dtype in available and (device == "wasm" or has_shader_f16 or dtype not in HALF):
            return dtype
    return None


def plan_entry(
    info: HubModelInfo,
    device: Device,
    has_shader_f16: bool,
    *,
    free_bytes: int | None = None,
) -> ModelEntry:
    """The catalog entry for a checked repo, or HubModelError saying why it cannot run here."""
    name = info.repo_id
    if not info.generates_text:
        raise HubModelError(
            name,
            f"its architecture ({info.model_type or 'unknown'}) is not a text-generation model "
            "that transformers.js can run",
        )
    if not info.dtype_bytes:
        raise HubModelError(name, "the repo has no ONNX weights (an onnx/ folder) for the browser")
    wasm = pick_dtype(list(info.dtype_bytes), "wasm", False)
    gpu = pick_dtype(list(info.dtype_bytes), "webgpu", has_shader_f16)
    chosen = gpu if device == "webgpu" else wasm
    if chosen is None:
        have = ", ".join(sorted(info.dtype_bytes))
        raise HubModelError(name, f"none of its ONNX weights ({have}) runs on this device")
    size = info.dtype_bytes[chosen]
    if device == "wasm" and size > WASM_LIMIT_BYTES:
        raise HubModelError(
            name,
            f"its {chosen} weights are {size / 1e9:.1f} GB, more than WebAssembly can hold "
            "(about 2 GB); a browser with WebGPU may run it",
        )
    if free_bytes is not None and size > free_bytes:
        need, free = size / 1e9, free_bytes / 1e9
        raise HubModelError(name, f"it needs {need:.1f} GB and this browser has {free:.1f} GB free")
    dtype: dict[str, str] = {"wasm": wasm} if wasm else {}
    if gpu:
        dtype["webgpu"] = gpu
    return ModelEntry(
        id=name,
        label=name.split("/", 1)[1],
        source="hub",
        dtype=dtype,
        bytes=size,
        context_tokens=info.context_tokens,
        user_added=True,
    )


def entry_record(entry: ModelEntry) -> dict[str, Any]:
    """A user-added entry as it is stored: the catalog's own format, so one parser reads both."""
    record: dict[str, Any] = {"id": entry.id, "label": entry.label, "source": entry.source}
    if entry.base_url is not None:  # a server's model: where, and its name there (no key)
        record["baseUrl"] = entry.base_url
        record["model"] = entry.model
    if entry.dtype is not None:
        record["dtype"] = dict(entry.dtype) if isinstance(entry.dtype, Mapping) else entry.dtype
    if entry.bytes is not None:
        record["bytes"] = entry.bytes
    if entry.context_tokens is not None:
        record["contextTokens"] = entry.context_tokens
    if entry.generation:
        record["generation"] = dict(entry.generation)
    return record
