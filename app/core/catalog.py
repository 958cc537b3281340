"""The model catalog: which models exist, how to load them, and how a target resolves to one.

The format is fixed by UI-CONTRACT.md: `default` (a model id or preset name), `presets`
(name -> ordered model ids) and `models` (entries with id, label, source, dtype, generation).
An entry of `source: "openai"` is a model of an OpenAI-compatible server (`baseUrl` ending in
`/v1`, `model` the server's name for it): its text leaves the device, so wherever it is named
it says where it runs (`display_label`). A catalog never carries the server's key.
Everything here is pure: parsing returns data, resolution takes a predicate for "usable".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .endpoints import EndpointError, base_url_from, host_of, remote_words
from .errors import CatalogError

Source = Literal["local", "hub", "openai"]
SOURCES: tuple[Source, ...] = ("local", "hub", "openai")
# Fields that would hold a server's key: never read from a catalog (or a stored entry).
KEY_FIELDS = frozenset({"apiKey", "api_key", "key", "authorization", "headers"})
Device = Literal["webgpu", "wasm"]

# dtypes whose weights or activations are half precision: WebGPU needs `shader-f16` for them.
HALF_PRECISION_DTYPES = frozenset({"fp16", "q4f16"})
# The weights file transformers.js 4.x asks for, by dtype (None: its own default per device).
WEIGHTS_FILES = {
    "fp32": "model.onnx",
    "fp16": "model_fp16.onnx",
    "q8": "model_quantized.onnx",
    "int8": "model_int8.onnx",
    "uint8": "model_uint8.onnx",
    "q4": "model_q4.onnx",
    "q4f16": "model_q4f16.onnx",
    "bnb4": "model_bnb4.onnx",
}
DEFAULT_DTYPE = {"wasm": "q8", "webgpu": "fp32"}
# Each generation setting: its type and the range a model can sensibly be run with. A value
# outside it ("lots", 10**12) refuses the catalog rather than reaching transformers.js.
MAX_TOKENS = 32_768
# The largest context window a catalog may claim (2**21 tokens: far past any browser model).
MAX_CONTEXT = 2_097_152
GENERATION_RANGES: dict[str, tuple[type, float, float, bool]] = {
    # name: (type, lowest, highest, lowest allowed?)
    "max_new_tokens": (int, 1, MAX_TOKENS, True),
    "min_new_tokens": (int, 0, MAX_TOKENS, True),
    "temperature": (float, 0.0, 5.0, True),
    "top_p": (float, 0.0, 1.0, False),
    "repetition_penalty": (float, 0.0, 10.0, False),
}
GENERATION_KEYS = frozenset({*GENERATION_RANGES, "do_sample"})
# A remote model's id and server name: servers name models by paths ("org/name", a file path).
MAX_REMOTE_ID = 512


@dataclass(frozen=True)
class ModelEntry:
    id: str
    label: str
    source: Source
    dtype: str | Mapping[str, str] | None = None
    generation: Mapping[str, Any] = field(default_factory=dict)
    # The download size in bytes, when the catalog says (shown before a download starts).
    bytes: int | None = None
    # How many tokens the model reads at once, when the catalog says (`contextTokens`): the
    # settings form knows the limit before the model is loaded. The loaded model's own config
    # wins when it says.
    context_tokens: int | None = None
    # Added by the user in the model manager (kept in IndexedDB), not listed by the site.
    user_added: bool = False
    # `source: "openai"`: the server's API root (ending in /v1) and its name for the model.
    base_url: str | None = None
    model: str | None = None

    @property
    def remote(self) -> bool:
        """Its text is sent to a server (an OpenAI-compatible one) rather than run here."""
        return self.source == "openai"

    @property
    def host(self) -> str | None:
        """Where a remote model runs (host and port of its server); None for the others."""
        return host_of(self.base_url) if self.base_url else None

    @property
    def display_label(self) -> str:
        """Its name wherever a person reads it: a remote one says where it runs."""
        host = self.host
        return f"{self.label} · {remote_words(host)}" if host else self.label

    def dtype_for(self, device: Device) -> str | None:
        """The dtype to load on `device` (None lets transformers.js pick its default)."""
        if isinstance(self.dtype, Mapping):
            return self.dtype.get(device)
        return self.dtype

    def weights_file(self, device: Device) -> str:
        """The ONNX file (under onnx/) that loading on `device` fetches."""
        dtype = self.dtype_for(device) or DEFAULT_DTYPE[device]
        return WEIGHTS_FILES.get(dtype, f"model_{dtype}.onnx")


@dataclass(frozen=True)
class Catalog:
    default: str
    presets: Mapping[str, tuple[str, ...]]
    models: tuple[ModelEntry, ...]
    # The model offered first to someone with no usable model yet (the welcome panel).
    recommended: str | None = None

    def get(self, model_id: str) -> ModelEntry | None:
        return next((m for m in self.models if m.id == model_id), None)

    def with_user_models(self, entries: Sequence[ModelEntry]) -> Catalog:
        """This catalog plus the user's own models (after the site's; an id the site already
        lists keeps the site's entry)."""
        known = {m.id for m in self.models}
        extra = tuple(replace(e, user_added=True) for e in entries if e.id not in known)
        site = tuple(m for m in self.models if not m.user_added)
        return replace(self, models=site + extra)

    def resolve(
        self, target: str | None, usable: Callable[[ModelEntry], bool] = lambda _: True
    ) -> ModelEntry | None:
        """The concrete model for a conversation's target.

        `None` follows `default`; a preset name resolves to the first usable model of its list;
        a model id resolves to itself. Returns None when nothing matches (an unknown id, or a
        preset none of whose models is usable).
        """
        name = self.default if target is None else target
        if name in self.presets:
            for model_id in self.presets[name]:
                entry = self.get(model_id)
                if entry is not None and usable(entry):
                    return entry
            return None
        return self.get(name)


def generation_problem(key: str, value: Any) -> str | None:
    """What is wrong with one generation setting, or None when it is fine."""
    if key == "do_sample":
        return None if isinstance(value, bool) else "must be true or false"
    kind, low, high, low_allowed = GENERATION_RANGES[key]
    wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
    if wrong_type or (kind is int and not isinstance(value, int)):
        return "must be a whole number" if kind is int else "must be a number"
    if value != value or value < low or value > high or (value == low and not low_allowed):
        lowest = f"at least {low}" if low_allowed else f"more than {low}"
        return f"must be {lowest} and at most {high:g}"
    return None


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise CatalogError(message)


def _generation(raw: dict[str, Any], model_id: str) -> dict[str, Any]:
    generation = raw.get("generation") or {}
    _require(isinstance(generation, dict), f"{model_id}: generation must be an object")
    unknown = set(generation) - GENERATION_KEYS
    _require(not unknown, f"{model_id}: unknown generation keys {sorted(unknown)}")
    for key, value in generation.items():
        problem = generation_problem(key, value)
        _require(problem is None, f"{model_id}: generation.{key} {problem}")
    low, high = generation.get("min_new_tokens"), generation.get("max_new_tokens")
    _require(
        low is None or high is None or low <= high,
        f"{model_id}: generation.min_new_tokens is more than max_new_tokens",
    )
    return dict(generation)


def parse_entry(raw: Any, index: int = 0) -> ModelEntry:
    """One catalog entry, checked (CatalogError says what is wrong)."""
    _require(isinstance(raw, dict), f"models[{index}] is not an object")
    model_id = raw.get("id")
    source = raw.get("source")
    if source == "openai":
        return _remote_entry(raw, index)
    _require(
        isinstance(model_id, str) and model_id.count("/") == 1 and all(model_id.split("/")),
        f"models[{index}].id must look like 'org/name'",
    )
    _require(source in SOURCES, f"{model_id}: source must be 'local', 'hub' or 'openai'")
    dtype = raw.get("dtype")
    _require(
        dtype is None
        or isinstance(dtype, str)
        or (isinstance(dtype, dict) and all(isinstance(v, str) for v in dtype.values())),
        f"{model_id}: dtype must be a string or a map of device to string",
    )
    generation = _generation(raw, model_id)
    size = raw.get("bytes")
    _require(
        size is None or (isinstance(size, int) and not isinstance(size, bool) and size > 0),
        f"{model_id}: bytes must be a positive whole number",
    )
    context = raw.get("contextTokens")
    _require(
        context is None
        or (
            isinstance(context, int)
            and not isinstance(context, bool)
            and 0 < context <= MAX_CONTEXT
        ),
        f"{model_id}: contextTokens must be a whole number from 1 to {MAX_CONTEXT}",
    )
    return ModelEntry(
        id=model_id,
        label=str(raw.get("label") or model_id),
        source=source,
        dtype=dict(dtype) if isinstance(dtype, dict) else dtype,
        generation=dict(generation),
        bytes=size,
        context_tokens=context,
    )


def _remote_entry(raw: dict[str, Any], index: int) -> ModelEntry:
    """An entry of an OpenAI-compatible server: its id, label, baseUrl and model name."""
    model_id = raw.get("id")
    if not isinstance(model_id, str):
        raise CatalogError(f"models[{index}].id must be a name")
    _require(
        0 < len(model_id) <= MAX_REMOTE_ID
        and model_id.isprintable()
        and model_id.strip() == model_id,
        f"models[{index}].id must be a name of at most {MAX_REMOTE_ID} characters",
    )
    found = sorted(KEY_FIELDS & set(raw))
    _require(
        not found,
        f"{model_id}: a catalog never holds a server's key ({', '.join(found)}); "
        "add the key in the model manager, where it stays on this device",
    )
    try:
        base_url = base_url_from(str(raw.get("baseUrl") or ""))
    except EndpointError as exc:
        raise CatalogError(f"{model_id}: baseUrl {exc.reason}") from exc
    name = raw.get("model")
    _require(
        isinstance(name, str) and bool(name.strip()) and len(name) <= MAX_REMOTE_ID,
        f"{model_id}: model must be the server's name for the model",
    )
    generation = _generation(raw, model_id)
    return ModelEntry(
        id=model_id,
        label=str(raw.get("label") or name),
        source="openai",
        generation=dict(generation),
        base_url=base_url,
        model=name,
    )


def parse_catalog(raw: Any) -> Catalog:
    """Validate a decoded catalog.json; raise CatalogError saying what is wrong."""
    _require(isinstance(raw, dict), "the catalog is not a JSON object")
    models_raw = raw.get("models")
    _require(isinstance(models_raw, list) and bool(models_raw), "the catalog lists no models")
    models = tuple(parse_entry(m, i) for i, m in enumerate(models_raw))
    ids = [m.id for m in models]
    _require(len(set(ids)) == len(ids), "the catalog lists a model id twice")
    presets_raw = raw.get("presets") or {}
    _require(isinstance(presets_raw, dict), "presets must be an object")
    presets: dict[str, tuple[str, ...]] = {}
    for name, members in presets_raw.items():
        _require(
            isinstance(members, list) and all(isinstance(m, str) for m in members),
            f"preset {name!r} must be a list of model ids",
        )
        presets[name] = tuple(members)
    default = raw.get("default")
    _require(isinstance(default, str) and bool(default), "the catalog has no default")
    _require(
        default in presets or default in ids, f"default {default!r} is neither a preset nor a model"
    )
    recommended = raw.get("recommended")
    _require(
        recommended is None or recommended in ids,
        f"recommended {recommended!r} is not a model of the catalog",
    )
    return Catalog(default=default, presets=presets, models=models, recommended=recommended)


# What the page runs with when no catalog can be read: stored chats stay readable, and a reply
# fails saying that no model is available.
EMPTY_CATALOG = Catalog(default="", presets={}, models=())
