"""The one KV cache the engine keeps between turns: its transformers.js tensors and their owner.

transformers.js's `generate` takes a `DynamicCache` as `past_key_values` and, with
`return_dict_in_generate`, hands back the cache it grew (the same object, updated in place:
`getPastKeyValues` in src/models/modeling_utils.js). Given the whole prompt's `input_ids` and
`attention_mask`, it reads only the ids past the cache's length (`decoder_prepare_inputs_for_
generation` slices them) and places them after it (`create_position_ids`). So the next turn only
needs the cache, and here is where it waits: one at a time, owned by the model it came from,
with the token ids it covers (app/core/kv_reuse.py decides how much of it a turn can use).

On WebGPU the cache's tensors are GPU buffers (transformers.js asks onnxruntime for `present*`
outputs as `gpu-buffer` unless it proxies onnxruntime), and they stay there between steps and
between turns; they are freed (`DynamicCache.dispose`) as soon as the cache is replaced, dropped
or its model unloaded, not left to a garbage collector that does not see GPU memory. On wasm they
are ordinary arrays.

Cropping cuts every `past_key_values.*` tensor ([batch, heads, tokens, head size]) back to its
first tokens, with `Tensor.slice` (a copy); a tensor on the GPU is read back first (onnxruntime's
`getData`), and onnxruntime uploads the cropped copy again on the next step. Caches of models
with other state (Mamba's `past_ssm`, LFM2's `past_conv`: not per token) cannot be cropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pyodide.code import run_js
from pyodide.ffi import JsException

from app.core.kv_reuse import Cached, CacheKey, Plan, after_turn, plan_reuse

_HELPERS_JS = """
({
  ids: (tensor) => Array.from(tensor.data, Number),
  length: (kv) => kv.get_seq_length(),
  croppable: (kv) => {
    const names = Object.keys(kv);
    return names.length > 0 && names.every((n) => n.startsWith('past_key_values.'));
  },
  crop: async (kv, length) => {
    for (const name of Object.keys(kv)) {
      let tensor = kv[name];
      const onGpu = tensor.location === 'gpu-buffer';
      if (onGpu) {
        const data = await tensor.ort_tensor.getData();
        const copy = new tensor.constructor(tensor.type, data, tensor.dims);
        tensor.dispose();
        tensor = copy;
      }
      const ranges = tensor.dims.map(() => null);
      ranges[ranges.length - 2] = [0, length];
      kv[name] = tensor.slice(...ranges);
    }
  },
})
"""


@cache
def _helpers() -> Any:
    return run_js(_HELPERS_JS)


def token_ids(tensor: Any) -> list[int]:
    """The ids of a [1, n] int64 tensor, as Python ints."""
    return [int(i) for i in _helpers().ids(tensor).to_py()]


@dataclass
class _Kept:
    owner: Any  # the model (pipeline handle) whose state it is
    cached: Cached
    kv: Any  # the transformers.js DynamicCache


@dataclass(frozen=True)
class Lease:
    """A cache taken for one turn (None: the turn starts afresh) and how much of it is used."""

    kv: Any
    plan: Plan


class KvSlot:
    """Holds at most one cache. A turn takes it (`take`), so no two turns share one, and hands
    back the cache it leaves (`keep`); the one it replaces is freed."""

    def __init__(self) -> None:
        self._kept: _Kept | None = None

    async def take(self, owner: Any, key: CacheKey, prompt: Sequence[int]) -> Lease:
        """The kept cache, cropped to what `prompt` can reuse, for `owner`'s turn with `key`;
        the slot is empty until `keep`. A cache of another model, or of no use, is freed."""
        kept, self._kept = self._kept, None
        if kept is None or kept.owner is not owner:
            if kept is not None:
                await _dispose(kept.kv)
            return Lease(None, plan_reuse(None, key, prompt))
        helpers = _helpers()
        plan = plan_reuse(kept.cached, key, prompt, can_crop=bool(helpers.croppable(kept.kv)))
        if plan.reuse == 0:
            await _dispose(kept.kv)
            return Lease(None, plan)
        if plan.crop:
            try:
                await helpers.crop(kept.kv, plan.reuse)
            except JsException:
                await _dispose(kept.kv)
                return Lease(None, Plan(0, False, "prefix"))
        return Lease(kept.kv, plan)

    async def keep(self, owner: Any, key: CacheKey, sequence: Sequence[int], kv: Any) -> None:
        """Keep the cache a turn left (`sequence`: its prompt and generated ids)."""
        await self.clear()
        try:
            length = int(_helpers().length(kv))
        except JsException:  # a cache without key/value tensors: nothing to go on from
            length = 0
        cached = after_turn(key, sequence, length)
        if cached is None:
            await _dispose(kv)
            return
        self._kept = _Kept(owner, cached, kv)

    async def clear(self, owner: Any = None) -> None:
        """Free the kept cache (only if it is `owner`'s, when given)."""
        kept = self._kept
        if kept is None or (owner is not None and kept.owner is not owner):
            return
        self._kept = None
        await _dispose(kept.kv)

    @property
    def tokens(self) -> int:
        """How many tokens the kept cache holds (0: none is kept)."""
        return len(self._kept.cached.tokens) if self._kept else 0


async def drop(kv: Any) -> None:
    """Free a cache that is not kept (a turn failed with it)."""
    await _dispose(kv)


async def _dispose(kv: Any) -> None:
    # GPU buffers are freed now; arrays on the CPU go with the last reference. A cache whose
    # session is already gone has nothing left to free.
    with contextlib.suppress(JsException):
        await kv.dispose()
