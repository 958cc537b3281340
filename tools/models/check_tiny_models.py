#!/usr/bin/env python3
"""Check the tiny chat models in models/tinylm/ with onnxruntime.

For every canned case in tools/models/canned.json, render the conversation with
the chat template stored in the model's tokenizer_config.json (as
transformers.js does, with add_generation_prompt), run greedy decoding with a
KV cache on onnx/model.onnx (fp32) and onnx/model_quantized.onnx (q8), decode
the new tokens with special tokens skipped and compare with the expected
answer, exactly.  Prints PASS/FAIL per case and exits non-zero on any FAIL.

Needs only numpy, onnxruntime, tokenizers and jinja2 (no torch).

    .venv-models/bin/python tools/models/check_tiny_models.py [--model tiny-chat-a] [--dtype q8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CANNED = HERE / "canned.json"
MODELS_DIR = REPO / "models" / "tinylm"
DTYPE_FILES = {"fp32": "model.onnx", "q8": "model_quantized.onnx"}


def load_canned(path: Path = CANNED) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def render_chat(template: str, messages: list[dict], add_generation_prompt: bool) -> str:
    """Render a chat template the way transformers does (sandboxed jinja2,
    trim_blocks + lstrip_blocks)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt
    )


class OnnxCausalLM:
    """Minimal greedy decoder for an optimum `text-generation-with-past` export."""

    def __init__(self, onnx_path: Path, config: dict):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.sess.get_inputs()]
        self.output_names = [o.name for o in self.sess.get_outputs()]
        self.n_layers = config["num_hidden_layers"]
        self.n_kv = config.get("num_key_value_heads", config["num_attention_heads"])
        self.head_dim = (
            config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        )

    def generate(self, input_ids: list[int], eos_ids: set[int], max_new_tokens: int) -> list[int]:
        past = {}
        for i in range(self.n_layers):
            for kind in ("key", "value"):
                past[f"past_key_values.{i}.{kind}"] = np.zeros(
                    (1, self.n_kv, 0, self.head_dim), dtype=np.float32
                )
        ids = list(input_ids)
        step_ids = ids
        out: list[int] = []
        for _ in range(max_new_tokens):
            n_past = len(ids) - len(step_ids)
            feeds = {
                "input_ids": np.array([step_ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
            }
            if "position_ids" in self.input_names:
                feeds["position_ids"] = np.arange(n_past, len(ids), dtype=np.int64)[None, :]
            feeds.update({k: v for k, v in past.items() if k in self.input_names})
            results = dict(zip(self.output_names, self.sess.run(None, feeds)))
            tok = int(np.argmax(results["logits"][0, -1]))
            for i in range(self.n_layers):
                for kind in ("key", "value"):
                    past[f"past_key_values.{i}.{kind}"] = results[f"present.{i}.{kind}"]
            if tok in eos_ids:
                break
            out.append(tok)
            ids.append(tok)
            step_ids = [tok]
        return out


def check_model(
    model_dir: Path, cases: list[dict], dtypes=("fp32", "q8"), verbose=True
) -> list[tuple]:
    """Returns a list of (dtype, case_id, ok, got) rows."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    with open(model_dir / "tokenizer_config.json", encoding="utf-8") as f:
        tcfg = json.load(f)
    with open(model_dir / "config.json", encoding="utf-8") as f:
        cfg = json.load(f)
    with open(model_dir / "generation_config.json", encoding="utf-8") as f:
        gcfg = json.load(f)
    template = tcfg["chat_template"]
    eos = gcfg["eos_token_id"]
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    rows = []
    for dtype in dtypes:
        lm = OnnxCausalLM(model_dir / "onnx" / DTYPE_FILES[dtype], cfg)
        for case in cases:
            prompt = render_chat(template, case["messages"], add_generation_prompt=True)
            ids = tok.encode(prompt, add_special_tokens=False).ids
            expected_len = len(tok.encode(case["answer"], add_special_tokens=False).ids)
            new = lm.generate(ids, eos_ids, max_new_tokens=expected_len + 20)
            got = tok.decode(new, skip_special_tokens=True)
            ok = got == case["answer"]
            rows.append((dtype, case["id"], ok, got))
            if verbose:
                line = f"{'PASS' if ok else 'FAIL'}  {model_dir.name:12s} {dtype:5s} {case['id']}"
                if not ok:
                    line += f"\n      expected: {case['answer']!r}\n      got:      {got!r}"
                print(line, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    ap.add_argument("--model", action="append", help="model name (default: all in canned.json)")
    ap.add_argument(
        "--dtype", action="append", choices=sorted(DTYPE_FILES), help="default: fp32 and q8"
    )
    args = ap.parse_args(argv)
    canned = load_canned()
    names = args.model or list(canned["models"])
    dtypes = args.dtype or ["fp32", "q8"]
    failed = passed = 0
    for name in names:
        rows = check_model(args.models_dir / name, canned["models"][name], dtypes)
        passed += sum(1 for r in rows if r[2])
        failed += sum(1 for r in rows if not r[2])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
