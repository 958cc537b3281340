"""transformers.js, driven from Python through transformers-js-py.

The module is imported from our own vendored copy (never a CDN), on first use, so the page is
ready before the 600 kB bundle is parsed. On wasm, onnxruntime-web runs in its proxy worker:
inference happens off the main thread and the page stays responsive while tokens stream,
without needing cross-origin-isolation headers that a static host may not send. WebGPU work
runs on the GPU timeline, so it needs no worker.

Replies are generated with the model's own `generate` rather than the text-generation pipeline,
on the same inputs the pipeline makes, so that the KV cache a turn leaves can be kept and the
next turn go on from it (kv_cache.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import js
from pyodide.ffi import JsException

from app.core.catalog import Device, ModelEntry
from app.core.errors import GenerationError, ModelLoadError
from app.core.kv_reuse import cache_key
from app.core.ports import ChatTurn, GenerationStats, LoadedModel, LoadProgress, StopSignal

from .interop import OwnedProxy, error_message, failing_file, is_nullish, js_value, py_value
from .kv_cache import KvSlot, token_ids
from .kv_cache import drop as drop_cache
from .sampling import nucleus_options
from .transformers import TransformersJs

WARM_UP_TURNS = [ChatTurn("user", "hi")]
# What the text-generation pipeline adds under the caller's options (its
# `_default_generation_config`): calling `generate` ourselves must not change replies.
PIPELINE_DEFAULTS = {"max_new_tokens": 256}
# What fetch() rejects with when the network is down, by browser engine.
NETWORK_FAILURES = frozenset(
    {"Failed to fetch", "NetworkError when attempting to fetch resource.", "Load failed"}
)


async def detect_device(forced: str | None) -> tuple[Device, bool]:
    """WebGPU when the browser gives an adapter, wasm otherwise; and whether it has shader-f16.

    `forced` ("wasm" or "webgpu", from `?device=`) lets a user or a test pick.
    """
    if forced == "wasm":
        return "wasm", False
    gpu: Any = getattr(js.navigator, "gpu", None)
    if is_nullish(gpu):
        return "wasm", False
    try:
        adapter = await gpu.requestAdapter()
    except JsException:
        adapter = None
    if is_nullish(adapter):
        return "wasm", False
    return "webgpu", bool(adapter.features.has("shader-f16"))


class TransformersJsEngine:
    """The Engine port on transformers.js. A reply goes on from the KV cache the previous turn
    left when its prompt extends that turn's (kv_cache.py, app/core/kv_reuse.py), unless
    `keep_cache` is False (`?kv=0`: every turn re-reads its whole prompt, as benchmarks compare).
    """

    def __init__(
        self, transformers: TransformersJs, *, keep_cache: bool = True, runs_in: str = "page"
    ) -> None:
        self._transformers = transformers
        self._keeps_cache = keep_cache
        self._kv = KvSlot()
        self.runs_in = runs_in

    @property
    def threads(self) -> int:
        return self._transformers.threads

    def start_import(self) -> None:
        """Begin importing transformers.js in the background."""
        self._transformers.start_import()

    # -- Engine port ----------------------------------------------------------------------

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel:
        try:
            tjs = await self._transformers.module()
        except JsException as exc:
            raise ModelLoadError(
                entry.id, f"transformers.js failed to start: {error_message(exc)}"
            ) from exc

        def progress(event: Any) -> None:
            info = py_value(event)
            status = info.get("status")
            if status == "progress_total":
                on_progress(
                    LoadProgress(
                        "downloading", int(info.get("loaded") or 0), int(info.get("total") or 0)
                    )
                )
            elif status == "done" and str(info.get("file", "")).endswith(".onnx"):
                on_progress(LoadProgress("compiling"))

        options: dict[str, Any] = {"device": device}
        if dtype:
            options["dtype"] = dtype
        with OwnedProxy(progress) as callback:
            options["progress_callback"] = callback
            try:
                # Each model from its own source only: a hub model is never looked for on this
                # site (which would answer 404), a local one never on the hub.
                async with self._transformers.for_source(entry.source):
                    pipe = await tjs.pipeline("text-generation", entry.id, options)
            except JsException as exc:
                message = error_message(exc)
                if entry.source == "hub" and message in NETWORK_FAILURES:
                    message = "the Hugging Face hub could not be reached (offline?)"
                raise ModelLoadError(entry.id, message, failing_file(message)) from exc
        return LoadedModel(
            id=entry.id, dtype=dtype, device=device, handle=pipe, context_tokens=_context(pipe)
        )

    async def warm_up(self, model: LoadedModel) -> None:
        """One token through the whole graph: kernels compile before the user waits. (It
        neither uses nor keeps a cache.)"""
        try:
            await self._run(
                model, WARM_UP_TURNS, {"max_new_tokens": 1, "do_sample": False}, None, None
            )
        except JsException as exc:
            raise ModelLoadError(model.id, f"warm-up failed: {error_message(exc)}") from exc

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        if stop.stopped:  # stopped before it began: nothing to run
            return GenerationStats(tokens=0, stopped=True)
        try:
            return await self._run(model, turns, options, on_text, stop, reuse=True)
        except JsException as exc:
            raise GenerationError(model.id, error_message(exc)) from exc

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        tokenizer = model.handle.tokenizer._js_obj
        no_specials = js_value({"add_special_tokens": False})
        try:
            return [int(tokenizer.encode(text, no_specials).length) for text in texts]
        except JsException as exc:
            raise GenerationError(
                model.id, f"could not count tokens: {error_message(exc)}"
            ) from exc

    async def dispose(self, model: LoadedModel) -> None:
        await self._kv.clear(model.handle)  # its GPU buffers too, before the session goes
        # A session that is already gone has nothing left to free.
        with contextlib.suppress(JsException):
            await model.handle.dispose()

    # -- internals ------------------------------------------------------------------------

    async def _run(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None] | None,
        stop: StopSignal | None,
        *,
        reuse: bool = False,
    ) -> GenerationStats:
        """Generate a reply to `turns`; when `reuse`, go on from the cache the last turn left
        (kv_cache.py) and keep the one this turn leaves."""
        raw = (await self._transformers.module()).js_obj
        pipe = model.handle
        tokenizer = pipe.tokenizer._js_obj
        inputs = _chat_inputs(tokenizer, turns)
        reuse = reuse and self._keeps_cache
        key = cache_key(model.id, model.dtype, model.device, options)
        prompt = token_ids(inputs.input_ids) if reuse else []
        lease = await self._kv.take(pipe, key, prompt) if reuse else None
        tokens = 0

        def count(_ids: Any) -> None:
            nonlocal tokens
            tokens += 1

        def text(chunk: Any) -> None:
            if on_text is not None:
                on_text(str(chunk))

        criteria = raw.InterruptableStoppingCriteria.new()
        with OwnedProxy(count) as on_token, OwnedProxy(text) as on_chunk:
            # TextStreamer is `class X extends Y`, which transformers-js-py does not construct:
            # build it on the raw JS class with a real JS options object.
            streamer = raw.TextStreamer.new(
                tokenizer,
                js_value(
                    {
                        "skip_prompt": True,
                        "skip_special_tokens": True,
                        "callback_function": on_chunk,
                        "token_callback_function": on_token,
                    }
                ),
            )
            kwargs: dict[str, Any] = {
                **PIPELINE_DEFAULTS,
                **options,
                **nucleus_options(options),  # top_p, which transformers.js does not apply
                "input_ids": inputs.input_ids,
                "attention_mask": inputs.attention_mask,
                "streamer": streamer,
                "stopping_criteria": criteria,
            }
            if reuse:
                kwargs["return_dict_in_generate"] = True  # hands back the cache it grew
                if lease is not None and lease.kv is not None:
                    kwargs["past_key_values"] = lease.kv
            # Stop pressed at any point of the call (even before its first step) interrupts it.
            unsubscribe = stop.on_stop(lambda: criteria.interrupt()) if stop else lambda: None
            try:
                result = await pipe._js_obj.model.generate(js_value(kwargs))
            except BaseException:
                if lease is not None and lease.kv is not None:
                    await drop_cache(lease.kv)  # updated in place halfway: of no use
                raise
            finally:
                unsubscribe()
        if reuse:
            await self._kv.keep(pipe, key, token_ids(result.sequences), result.past_key_values)
        return GenerationStats(
            tokens=tokens,
            stopped=stop is not None and stop.stopped,
            prompt_tokens=int(inputs.input_ids.dims[1]),
            reused_tokens=lease.plan.reuse if lease is not None else 0,
        )


def _chat_inputs(tokenizer: Any, turns: Sequence[ChatTurn]) -> Any:
    """`input_ids` and `attention_mask` of `turns` as the text-generation pipeline makes them
    (src/pipelines/text-generation.js): the chat template with the generation prompt, then the
    tokenizer without special tokens (the template has them), truncated as it truncates."""
    messages = [{"role": t.role, "content": t.content} for t in turns]
    text = tokenizer.apply_chat_template(
        js_value(messages), js_value({"tokenize": False, "add_generation_prompt": True})
    )
    return tokenizer._call(
        text, js_value({"add_special_tokens": False, "padding": True, "truncation": True})
    )


def _context(pipe: Any) -> int | None:
    """How many tokens the model reads at once, from its config (None when it does not say)."""
    try:
        value = pipe._js_obj.model.config.max_position_embeddings
    except (AttributeError, JsException):
        return None
    return int(value) if isinstance(value, int | float) and value > 0 else None
