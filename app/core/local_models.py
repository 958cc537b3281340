"""The local-models manifest: which models the site's `models/` folder holds, known at build time.

Why: the app used to find out whether a local model is present by sending HEAD requests for its
files at every start, which cost a round trip per file and left a 404 in the log for every model
that is not built (`models/local-build/...` on a fresh clone). The folder only changes when
someone builds or copies a model, so `tools/vendor.py` (run by every `make run` and `make test`)
lists it into `vendor/local-models.json`, and the app reads that one file instead.

Format, version 1: `{"version": 1, "models": {"<org>/<name>": ["model.onnx", ...]}}`. Every
folder under `models/` that holds a `config.json` is listed by its path (the catalog id of a
local model), with the files under its `onnx/` (paths relative to `onnx/`, sorted). Hidden
folders are skipped: a builder's staging area (`.<name>.partial`) is not a model yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

MANIFEST_VERSION = 1
# Both relative to the page: where the manifest is served, and the folder it describes.
MANIFEST_URL = "vendor/local-models.json"
MODELS_FOLDER = "models/"


class ManifestError(ValueError):
    """The manifest is not in the documented format (the app then asks the server instead)."""


@dataclass(frozen=True)
class LocalModels:
    """The models present in the site's models folder, with the ONNX files each one has."""

    onnx_files: Mapping[str, frozenset[str]]

    def has_weights(self, model_id: str, weights_file: str) -> bool:
        """Whether the model's folder holds its config and `onnx/<weights_file>`."""
        return weights_file in self.onnx_files.get(model_id, frozenset())


def manifest_from_paths(paths: Iterable[str]) -> dict[str, Any]:
    """The manifest of a models folder, from the paths of the files it holds.

    `paths` are relative to the folder, with `/` separators (`tinylm/tiny-chat-a/config.json`).
    """
    files = [PurePosixPath(p) for p in paths]
    files = [p for p in files if not any(part.startswith(".") for part in p.parts)]
    folders = {p.parent for p in files if p.name == "config.json" and p.parent.parts}
    models: dict[str, list[str]] = {str(folder): [] for folder in folders}
    for path in files:
        for folder in path.parents:
            if folder in folders:
                rest = path.relative_to(folder)
                if len(rest.parts) > 1 and rest.parts[0] == "onnx":
                    models[str(folder)].append(rest.relative_to("onnx").as_posix())
                break
    return {
        "version": MANIFEST_VERSION,
        "models": {name: sorted(models[name]) for name in sorted(models)},
    }


def parse_manifest(raw: Any) -> LocalModels:
    """Read a decoded manifest; raise ManifestError saying what is wrong."""
    if not isinstance(raw, dict):
        raise ManifestError("the local-models manifest is not a JSON object")
    if raw.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"unknown local-models manifest version {raw.get('version')!r}")
    models = raw.get("models")
    if not isinstance(models, dict):
        raise ManifestError("the local-models manifest has no `models` object")
    onnx_files: dict[str, frozenset[str]] = {}
    for model_id, files in models.items():
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ManifestError(f"{model_id}: the files of a model must be a list of names")
        onnx_files[model_id] = frozenset(files)
    return LocalModels(onnx_files)
