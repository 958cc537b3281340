"""Top-p (nucleus) sampling for transformers.js, which takes `top_p` but does not apply it.

transformers.js 4.3.1 leaves its top-p warper as a TODO (`_get_logits_processor` in
src/models/modeling_utils.js has `TopPLogitsWarper` commented out), so a `top_p` in the
generation options changes nothing there. `nucleus_options` adds it back as a logits
processor passed with the options (generate's `logits_processor`, run after the built-in
ones, so after the temperature), with Hugging Face transformers' meaning: among the `top_k`
likeliest tokens (the sampler keeps those; 50 unless the options say), keep the smallest set
of the likeliest whose probabilities add up to `top_p`; the others can no longer be drawn.

It runs in JavaScript, once per generated token and in place on the logits: only a token
count crosses into Python, never the logits. Greedy decoding needs none of it (the likeliest
token is always in the nucleus).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pyodide.code import run_js

# transformers.js's GenerationConfig default: the sampler draws from the 50 likeliest tokens.
DEFAULT_TOP_K = 50

_NUCLEUS_JS = """
(p, k) => (inputIds, logits) => {
  const vocab = logits.dims[logits.dims.length - 1];
  const rows = logits.data.length / vocab;
  const keep = Math.min(k > 0 ? k : vocab, vocab);
  const top = new Int32Array(keep);
  const weights = new Float64Array(keep);
  for (let r = 0; r < rows; r++) {
    const row = logits.data.subarray(r * vocab, (r + 1) * vocab);
    // The `keep` likeliest tokens, likeliest first.
    let n = 0;
    for (let i = 0; i < vocab; i++) {
      const v = row[i];
      if (n === keep && !(v > row[top[n - 1]])) continue;
      let j = n < keep ? n++ : n - 1;
      while (j > 0 && row[top[j - 1]] < v) { top[j] = top[j - 1]; j--; }
      top[j] = i;
    }
    if (n === 0 || !Number.isFinite(row[top[0]])) continue;
    // Their probabilities, and the shortest run of them that reaches p.
    let sum = 0;
    for (let j = 0; j < n; j++) {
      weights[j] = Math.exp(row[top[j]] - row[top[0]]);
      sum += weights[j];
    }
    let cut = n;
    for (let j = 0, mass = 0; j < n; j++) {
      mass += weights[j] / sum;
      if (mass >= p) { cut = j + 1; break; }
    }
    const kept = Array.from(top.subarray(0, cut), (i) => [i, row[i]]);
    row.fill(-Infinity);
    for (const [i, v] of kept) row[i] = v;
  }
  return logits;
}
"""


@cache
def _nucleus_factory() -> Any:
    return run_js(_NUCLEUS_JS)


def nucleus_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """What to add to generation options so that their `top_p` is applied: a logits processor
    when they sample (or may: the model's own config decides when they do not say) with a
    top-p below 1; nothing otherwise."""
    top_p = options.get("top_p")
    if options.get("do_sample") is False or isinstance(top_p, bool):
        return {}
    if not isinstance(top_p, int | float) or not 0 < top_p < 1:
        return {}
    top_k = options.get("top_k", DEFAULT_TOP_K)
    k = top_k if isinstance(top_k, int) and not isinstance(top_k, bool) else DEFAULT_TOP_K
    return {"logits_processor": [_nucleus_factory()(float(top_p), k)]}
