"""The local-models manifest: written from a folder listing, read back as which model has what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.catalog import ModelEntry
from app.core.local_models import (
    MANIFEST_URL,
    MANIFEST_VERSION,
    MODELS_FOLDER,
    ManifestError,
    manifest_from_paths,
    parse_manifest,
)
from tools.vendor import write_local_models

TINY = [
    "catalog.json",
    "tinylm/tiny-chat-a/config.json",
    "tinylm/tiny-chat-a/tokenizer.json",
    "tinylm/tiny-chat-a/onnx/model.onnx",
    "tinylm/tiny-chat-a/onnx/model_quantized.onnx",
]


def test_a_folder_with_a_config_is_listed_with_the_files_under_its_onnx_folder() -> None:
    assert manifest_from_paths(TINY) == {
        "version": MANIFEST_VERSION,
        "models": {"tinylm/tiny-chat-a": ["model.onnx", "model_quantized.onnx"]},
    }


def test_a_folder_without_a_config_is_not_a_model() -> None:
    manifest = manifest_from_paths([*TINY, "local-build/half/onnx/model.onnx"])
    assert list(manifest["models"]) == ["tinylm/tiny-chat-a"]


def test_a_builders_hidden_staging_folder_is_not_a_model_yet() -> None:
    staging = [
        "local-build/.SmolLM2.partial/config.json",
        "local-build/.SmolLM2.partial/onnx/model.onnx",
    ]
    assert manifest_from_paths(staging)["models"] == {}


def test_a_model_without_weights_is_listed_with_no_files() -> None:
    assert manifest_from_paths(["org/bare/config.json"])["models"] == {"org/bare": []}


def test_external_weight_data_is_listed_by_its_path_under_onnx() -> None:
    paths = ["org/big/config.json", "org/big/onnx/model.onnx", "org/big/onnx/model.onnx_data"]
    assert manifest_from_paths(paths)["models"]["org/big"] == ["model.onnx", "model.onnx_data"]


def test_a_listed_model_has_the_weights_its_onnx_folder_holds() -> None:
    local = parse_manifest(manifest_from_paths(TINY))
    assert local.has_weights("tinylm/tiny-chat-a", "model_quantized.onnx")
    assert not local.has_weights("tinylm/tiny-chat-a", "model_q4f16.onnx")


def test_a_model_that_is_not_listed_has_no_weights() -> None:
    local = parse_manifest(manifest_from_paths(TINY))
    assert not local.has_weights("local-build/SmolLM2-135M-Instruct", "model_quantized.onnx")


def test_the_weights_a_catalog_entry_needs_per_device_are_answered_from_the_manifest() -> None:
    local = parse_manifest({"version": 1, "models": {"org/m": ["model_quantized.onnx"]}})
    entry = ModelEntry("org/m", "M", "local", dtype={"wasm": "q8", "webgpu": "fp16"})
    assert local.has_weights(entry.id, entry.weights_file("wasm"))
    assert not local.has_weights(entry.id, entry.weights_file("webgpu"))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([], "not a JSON object"),
        ({"models": {}}, "version"),
        ({"version": 2, "models": {}}, "version"),
        ({"version": 1}, "models"),
        ({"version": 1, "models": {"org/m": "model.onnx"}}, "org/m"),
        ({"version": 1, "models": {"org/m": [1]}}, "org/m"),
    ],
)
def test_a_malformed_manifest_is_refused_with_its_reason(raw: Any, says: str) -> None:
    with pytest.raises(ManifestError, match=says):
        parse_manifest(raw)


def test_vendoring_writes_the_manifest_of_the_sites_models_folder(tmp_path: Path) -> None:
    for rel in TINY:
        path = tmp_path / MODELS_FOLDER / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    write_local_models(tmp_path)
    written = tmp_path / MANIFEST_URL
    assert json.loads(written.read_text()) == manifest_from_paths(TINY)
    local = parse_manifest(json.loads(written.read_text()))
    assert local.has_weights("tinylm/tiny-chat-a", "model.onnx")


def test_vendoring_leaves_an_unchanged_manifest_untouched(tmp_path: Path) -> None:
    config = tmp_path / MODELS_FOLDER / "org/m/config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{}")
    write_local_models(tmp_path)
    written = tmp_path / MANIFEST_URL
    before = written.stat().st_mtime_ns
    write_local_models(tmp_path)
    assert written.stat().st_mtime_ns == before
