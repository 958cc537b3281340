from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.catalog import ModelEntry, parse_catalog
from app.core.errors import CatalogError
from app.core.loader import place

ROOT = Path(__file__).resolve().parents[2]


def catalog_dict(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "default": "smart",
        "presets": {"smart": ["org/big", "org/small"], "quick": ["org/small"]},
        "models": [
            {
                "id": "org/big",
                "label": "Big",
                "source": "hub",
                "dtype": {"webgpu": "q4f16", "wasm": "q8"},
            },
            {"id": "org/small", "label": "Small", "source": "local", "dtype": "q8"},
        ],
    }
    raw.update(overrides)
    return raw


def test_the_shipped_catalog_parses_and_its_presets_name_models_it_lists() -> None:
    catalog = parse_catalog(json.loads((ROOT / "models/catalog.json").read_text()))
    assert catalog.default == "smart"
    assert {"smart", "quick"} <= set(catalog.presets)
    for members in catalog.presets.values():
        assert all(catalog.get(m) is not None for m in members)


def test_the_shipped_local_models_have_the_files_their_dtypes_need() -> None:
    catalog = parse_catalog(json.loads((ROOT / "models/catalog.json").read_text()))
    names = {"fp32": "model.onnx", "q8": "model_quantized.onnx", "q4": "model_q4.onnx"}
    for entry in catalog.models:
        # local-build/ holds models that `make real-model` builds; they are not in git.
        if entry.source != "local" or entry.id.startswith("local-build/"):
            continue
        folder = ROOT / "models" / entry.id
        for required in [
            "config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "generation_config.json",
        ]:
            assert (folder / required).is_file(), f"{entry.id} lacks {required}"
        for device in ("wasm", "webgpu"):
            dtype = entry.dtype_for(device)
            assert dtype is not None
            assert (folder / "onnx" / names[dtype]).is_file(), f"{entry.id} lacks {dtype} weights"


def test_a_null_target_follows_the_default_preset_to_its_first_usable_model() -> None:
    catalog = parse_catalog(catalog_dict())
    assert catalog.resolve(None) == catalog.get("org/big")
    only_local = catalog.resolve(None, usable=lambda m: m.source == "local")
    assert only_local is not None and only_local.id == "org/small"


def test_a_model_id_target_resolves_to_itself_and_an_unknown_one_to_nothing() -> None:
    catalog = parse_catalog(catalog_dict())
    small = catalog.resolve("org/small")
    assert small is not None and small.id == "org/small"
    assert catalog.resolve("org/missing") is None


def test_a_preset_with_no_usable_model_resolves_to_nothing() -> None:
    catalog = parse_catalog(catalog_dict())
    assert catalog.resolve("quick", usable=lambda _m: False) is None


def test_dtype_can_be_one_for_every_device_or_a_map_per_device() -> None:
    catalog = parse_catalog(catalog_dict())
    big, small = catalog.get("org/big"), catalog.get("org/small")
    assert big is not None and small is not None
    assert big.dtype_for("webgpu") == "q4f16" and big.dtype_for("wasm") == "q8"
    assert small.dtype_for("webgpu") == "q8"


def test_half_precision_models_fall_back_to_wasm_on_webgpu_without_shader_f16() -> None:
    entry = ModelEntry("org/big", "Big", "hub", {"webgpu": "q4f16", "wasm": "q8"})
    assert place(entry, "webgpu", has_shader_f16=True) == place(entry, "webgpu", True)
    assert place(entry, "webgpu", has_shader_f16=True).device == "webgpu"
    fallback = place(entry, "webgpu", has_shader_f16=False)
    assert (fallback.device, fallback.dtype) == ("wasm", "q8")
    fp32 = ModelEntry("org/x", "X", "local", {"webgpu": "fp32", "wasm": "q8"})
    assert place(fp32, "webgpu", has_shader_f16=False).device == "webgpu"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"models": []}, "no models"),
        ({"default": "nothing"}, "neither a preset nor a model"),
        ({"models": [{"id": "no-slash", "source": "local"}]}, "org/name"),
        ({"models": [{"id": "a/b", "source": "ftp"}]}, "source"),
        (
            {"models": [{"id": "a/b", "source": "hub", "generation": {"evil": 1}}]},
            "unknown generation",
        ),
        ({"presets": {"smart": "org/big"}}, "list of model ids"),
    ],
)
def test_a_malformed_catalog_is_rejected_with_a_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(catalog_dict(**overrides))


def test_a_catalog_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(CatalogError):
        parse_catalog(["not", "an", "object"])


def test_generation_values_out_of_type_or_range_refuse_the_catalog() -> None:
    def catalog_with(generation: Any) -> dict[str, object]:
        entry = {"id": "a/b", "label": "B", "source": "local", "generation": generation}
        return {"default": "a/b", "models": [entry]}

    cases: list[tuple[dict[str, Any], str]] = [
        ({"max_new_tokens": "lots"}, "max_new_tokens must be a whole number"),
        ({"max_new_tokens": 10**12}, "max_new_tokens must be at least 1 and at most 32768"),
        ({"max_new_tokens": 0}, "at least 1"),
        ({"max_new_tokens": 2.5}, "whole number"),
        ({"temperature": -0.1}, "temperature must be at least 0"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_p": 0}, "top_p must be more than 0"),
        ({"top_p": 1.5}, "top_p"),
        ({"do_sample": "yes"}, "do_sample must be true or false"),
        ({"repetition_penalty": True}, "must be a number"),
        ({"min_new_tokens": 20, "max_new_tokens": 10}, "min_new_tokens is more than"),
    ]
    for bad, words in cases:
        with pytest.raises(CatalogError, match=words):
            parse_catalog(catalog_with(bad))
    fine = {"max_new_tokens": 512, "temperature": 0.7, "top_p": 1, "do_sample": True}
    assert parse_catalog(catalog_with(fine)).models[0].generation == fine


def test_the_shipped_catalog_lists_only_models_a_person_would_want_with_sizes() -> None:
    shipped = parse_catalog(json.loads((ROOT / "models/catalog.json").read_text()))
    assert not [m.id for m in shipped.models if m.id.startswith("tinylm/")]
    assert all(m.bytes for m in shipped.models), "every model says its download size"
    assert shipped.recommended is not None and shipped.get(shipped.recommended) is not None
    assert {"smart", "quick"} <= set(shipped.presets) and shipped.default == "smart"
    tiny = parse_catalog(json.loads((ROOT / "models/test-catalog.json").read_text()))
    local = {m.id for m in tiny.models if m.source == "local"}
    assert local == {"tinylm/tiny-chat-a", "tinylm/tiny-chat-b"}
