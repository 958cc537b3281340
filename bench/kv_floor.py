"""What a kept KV cache can give at best: plain transformers.js, no app (issue 12, target 4).

bench/kv.py times the first token of turn 8 of a chat against turn 1 in Parlance. This measures
the same two prefills with transformers.js called directly from JavaScript in the baseline page
(bench/baseline/index.html, one wasm thread, SmolLM2 q8), with no app, no worker and no Python:

- "turn 1": the first token of a fresh 228-token prompt (nothing cached);
- "turn 8": the first token of the 214 new tokens of a 1,937-token prompt whose first 1,723
  tokens are in `past_key_values` (kept from a call on them), what Parlance's turn 8 computes;
- "re-read": the first token of the whole 1,937-token prompt, nothing cached.

The token counts are those of bench/kv.py's chat. Their ratio is the floor of that bench's
turn-8 / turn-1 figure on this machine: attention over 1,937 keys instead of 228 costs what it
costs, whoever calls the model. Medians over the rounds, alternating.

Writes bench/results/kv_floor.json. Usage: .venv/bin/python bench/kv_floor.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from common import ARGS, CHROMIUM, serve, write_results
from playwright.sync_api import sync_playwright

MODEL = "local-build/SmolLM2-135M-Instruct"
FIRST, CACHED, TOTAL = 228, 1723, 1937  # bench/kv.py: turn 1's prompt; turn 8's reused, whole

# In the page: token ids of a long text, then the three timed prefills (one new token each).
PREFILLS = """async ([first, cached, total]) => {
  const url = new URL('../../vendor/transformers/transformers.min.js', location.href);
  const t = await import(url.href);
  const model = window.generatorForBench.model;
  const tokenizer = window.generatorForBench.tokenizer;
  const words = [];
  for (let i = 0; words.length < total * 2; i++) {
    words.push(`The harbour at dawn, note ${i}: boats, tides, gulls and a red sail over the bay.`);
  }
  const ids = Array.from(tokenizer.encode(words.join(' '))).slice(0, total).map(BigInt);
  const tensor = (n) => new t.Tensor('int64', BigInt64Array.from(ids.slice(0, n)), [1, n]);
  const mask = (n) => new t.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const run = async (n, past) => {
    const started = performance.now();
    const out = await model.generate({
      input_ids: tensor(n), attention_mask: mask(n), max_new_tokens: 1, do_sample: false,
      return_dict_in_generate: true, ...(past ? { past_key_values: past } : {}),
    });
    return [performance.now() - started, out.past_key_values];
  };
  const dispose = (past) => past?.dispose?.();
  const [turn1, cache1] = await run(first, null);
  dispose(cache1);
  const [, kept] = await run(cached, null);  // the cache turn 8 starts from (not timed)
  // generate() returns the cache of prompt + 1 new token: crop it to the prompt's `cached`
  // entries in place, as the app does (app/browser/kv_cache.py).
  for (const name of Object.keys(kept)) {
    const ranges = kept[name].dims.map(() => null);
    ranges[ranges.length - 2] = [0, cached];
    const cropped = kept[name].slice(...ranges);
    kept[name].dispose();
    kept[name] = cropped;
  }
  const [turn8, cache8] = await run(total, kept);
  dispose(cache8);
  if (cache8 !== kept) dispose(kept);
  const [reread, cache9] = await run(total, null);
  dispose(cache9);
  return { turn1, turn8, reread };
}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: list[dict[str, float]] = []
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(600_000)
        page.goto(f"{base}bench/baseline/index.html?model={MODEL}&bench=kv")
        page.wait_for_selector("body[data-ready=true]")
        for _ in range(args.rounds):
            row = page.evaluate(PREFILLS, [FIRST, CACHED, TOTAL])
            rows.append({k: round(v, 1) for k, v in row.items()})
            print(rows[-1], flush=True)
        browser.close()
    medians = {k: round(statistics.median(r[k] for r in rows), 1) for k in rows[0]}
    result: dict[str, Any] = {
        "model": MODEL,
        "tokens": {"turn1_prompt": FIRST, "turn8_cached": CACHED, "turn8_prompt": TOTAL},
        "rounds": args.rounds,
        "first_token_ms": medians,
        "ratio_turn8_vs_turn1": round(medians["turn8"] / medians["turn1"], 3),
        "ratio_reread_vs_turn1": round(medians["reread"] / medians["turn1"], 3),
        "samples": rows,
    }
    write_results("kv_floor", result)


if __name__ == "__main__":
    main()
