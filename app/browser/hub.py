"""What the Hugging Face hub says about a repo, asked through transformers.js (app/core/hub_models
decides what to make of it).

transformers.js reads the repo's config.json (`AutoConfig`), knows which model types its
text-generation classes run (`AutoModelForCausalLM`'s mapping), which dtypes have every ONNX
session file present (`ModelRegistry.get_available_dtypes`, by ranged requests, nothing
downloaded) and which files a pipeline loads per dtype and how big each is
(`get_pipeline_files`, `get_file_metadata`). The hub is contacted only here, when the user adds
a model by id.
"""

from __future__ import annotations

from typing import Any

from pyodide.ffi import JsException

from app.core.hub_models import HubModelError, HubModelInfo

from .interop import error_message, is_nullish, js_value, py_value
from .transformers import TransformersJs

TASK = "text-generation"


class HubModels:
    def __init__(self, transformers: TransformersJs) -> None:
        self._transformers = transformers

    async def inspect(self, repo_id: str) -> HubModelInfo:
        try:
            async with self._transformers.for_source("hub") as tjs:
                return await self._inspect(tjs, repo_id)
        except JsException as exc:
            raise HubModelError(repo_id, _reason(exc)) from exc

    async def _inspect(self, tjs: Any, repo_id: str) -> HubModelInfo:
        config = await tjs.AutoConfig.from_pretrained(repo_id)
        model_type = str(getattr(config, "model_type", "") or "")
        mapping = tjs.AutoModelForCausalLM.MODEL_CLASS_MAPPINGS[0]
        if not model_type or not mapping.has(model_type):
            return HubModelInfo(repo_id, model_type, generates_text=False)
        registry = tjs.ModelRegistry
        dtypes = [str(d) for d in py_value(await registry.get_available_dtypes(repo_id))]
        sizes: dict[str, int] = {}
        for dtype in dtypes:
            options = js_value({"dtype": dtype, "device": "wasm"})
            files = py_value(await registry.get_pipeline_files(TASK, repo_id, options))
            total = 0
            for name in files:
                meta = await registry.get_file_metadata(repo_id, str(name))
                size: Any = getattr(meta, "size", None)
                total += 0 if is_nullish(size) else int(size)
            sizes[dtype] = total
        context: Any = getattr(config, "max_position_embeddings", None)
        return HubModelInfo(
            repo_id,
            model_type,
            generates_text=True,
            dtype_bytes=sizes,
            context_tokens=int(context) if isinstance(context, int) and context > 0 else None,
        )


def _reason(exc: JsException) -> str:
    message = error_message(exc)
    js_error: Any = getattr(exc, "js_error", None)
    if str(getattr(js_error, "name", "")) == "ModelFileNotFoundError" or message.startswith(
        ("Unauthorized access", "Forbidden access", "Could not locate")
    ):
        return "the Hugging Face hub has no such model, or it is private or gated"
    if message in ("Failed to fetch", "Load failed") or "NetworkError" in message:
        return "the Hugging Face hub could not be reached (offline?)"
    return message
