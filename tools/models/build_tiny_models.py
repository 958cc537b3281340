#!/usr/bin/env python3
"""Build the tiny chat test models models/tinylm/tiny-chat-a and tiny-chat-b.

Deterministic: fixed seeds, deterministic torch algorithms, one CPU thread.

  1. Train one byte-level BPE tokenizer (ChatML specials) on the combined corpus
     of both models' canned chats (tools/models/canned.json) plus a few hundred
     generated plain sentences.
  2. For each model, train a tiny Qwen2ForCausalLM (tied embeddings) on its
     canned chats rendered through the ChatML template, loss on the final
     assistant message (+ <|im_end|>); also the canned chats behind earlier turns
     (answered by either model) or a system message, and generated prompts
     answered with the model's fallback answer (see training_chats()).
  3. Export with optimum-onnx (task text-generation-with-past) to
     onnx/model.onnx (fp32) and quantize it dynamically to
     onnx/model_quantized.onnx (q8, uint8 weights) with onnxruntime.
  4. Lay out the directory the way transformers.js wants it (chat_template
     inside tokenizer_config.json, no .jinja, no safetensors) and check every
     canned case with onnxruntime greedy decoding (check_tiny_models.py).

Run:  .venv-models/bin/python tools/models/build_tiny_models.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Determinism knobs that must be set before torch is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, str(HERE))
import check_tiny_models as chk  # noqa: E402

SEED = 1234
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2
PAD, BOS_CHAT, EOS = SPECIALS
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Model / training hyperparameters (see README.md for the results they give).
HP = dict(
    vocab_size=2048,
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=2048,
    rope_theta=10000.0,
    steps=800,
    lr=3e-3,
    warmup=100,
    weight_decay=0.0,
    aug_per_case=6,
    aug_batch=16,
    aug_long_batch=1,
    aug_weight=1.0,
    fallback_batch=16,
    fallback_weight=0.5,
    n_plain=300,
)


# --------------------------------------------------------------------------- data


def plain_sentences(n: int, seed: int = SEED) -> list[str]:
    """A few hundred simple, deterministic English sentences and questions:
    tokenizer corpus, and user prompts the models answer with their fallback."""
    rng = random.Random(seed)
    subjects = [
        "The cat",
        "A little dog",
        "My friend",
        "The teacher",
        "A young girl",
        "The old man",
        "The robot",
        "A small bird",
        "The farmer",
        "Our neighbor",
        "The baker",
        "A tall tree",
        "The river",
        "The wind",
        "A kind woman",
        "The children",
        "The captain",
        "The owl",
    ]
    verbs = [
        "likes",
        "sees",
        "finds",
        "paints",
        "visits",
        "remembers",
        "carries",
        "builds",
        "follows",
        "watches",
        "reads about",
        "talks about",
        "dreams of",
        "walks to",
    ]
    objects = [
        "the red house",
        "a bright star",
        "the green hill",
        "a wooden boat",
        "the blue sea",
        "a warm coat",
        "the quiet library",
        "a big garden",
        "the morning train",
        "a new book",
        "the old bridge",
        "a cup of tea",
        "the snowy mountain",
        "a busy market",
        "the city park",
        "a golden key",
        "the open window",
        "a long letter",
    ]
    tails = [
        "every day",
        "in the morning",
        "after lunch",
        "at night",
        "with a smile",
        "in the rain",
        "on Sunday",
        "before dinner",
        "near the lake",
        "all summer",
        "once a week",
        "very slowly",
    ]
    topics = [
        "the moon",
        "music",
        "dogs",
        "the ocean",
        "computers",
        "history",
        "the weather",
        "cooking",
        "trains",
        "football",
        "math",
        "the stars",
        "birds",
        "money",
        "sleep",
        "coffee",
        "Germany",
        "Spain",
        "Italy",
        "Japan",
        "my homework",
        "the news",
        "a poem",
        "a joke",
        "Rust",
        "HTML",
    ]
    questions = [
        "What is {}?",
        "Tell me about {}.",
        "Can you explain {}?",
        "Why do people like {}?",
        "How does {} work?",
        "What do you think about {}?",
        "Help me with {}.",
        "Write about {}.",
        "Is {} good?",
        "What is the capital of {}?",
    ]
    facts = [
        "The sun rises in the east.",
        "Water boils at one hundred degrees.",
        "A week has seven days.",
        "Bees make honey.",
        "Fish live in water.",
        "Snow is cold and white.",
        "Birds can fly.",
        "Two plus two is four.",
        "The moon circles the earth.",
        "Trees grow from seeds.",
        "Rome is the capital of Italy.",
        "Berlin is the capital of Germany.",
        "Madrid is the capital of Spain.",
        "Python is a programming language.",
        "JavaScript runs in the browser.",
        "A function can return a value.",
        "Hello there",
        "Good morning",
        "Thanks",
        "ok",
        "yes",
        "no",
        "Who are you?",
        "What can you do?",
        "hi there",
        "Tell me a joke",
        "Write a poem",
        "Write code in Rust",
        "What is my age?",
        "What time is it?",
        "How are you?",
        "Translate this to French.",
        "?",
        "test",
        "123",
    ]
    out = list(facts)
    while len(out) < n:
        if rng.random() < 0.5:
            out.append(rng.choice(questions).format(rng.choice(topics)))
        else:
            out.append(
                f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}."
            )
    return out[:n]


def _u(text: str) -> dict:
    return {"role": "user", "content": text}


def _a(text: str) -> dict:
    return {"role": "assistant", "content": text}


def training_chats(canned: dict, name: str, prompts: list[str], seed: int = SEED):
    """Conversations to train model `name` on, each ending in the assistant
    message that is the target (the only one the loss sees):

    base      every canned case of the model, as is;
    aug       canned cases behind 1-2 earlier exchanges (answered by either
              model) and/or a system message, so earlier turns, a model switch
              or a system prompt do not change the answer;
    fallback  generated prompts the model answers with its fallback answer.
    """
    rng = random.Random(f"{seed}-{name}")
    cases = canned["models"][name]
    fb = canned["fallback_answer"][name]
    base = [c["messages"] + [_a(c["answer"])] for c in cases]
    # Earlier exchanges without names (a name there would make "What is my name?" ambiguous).
    canned_pool, fb_pool = [], []
    for other in canned["models"].values():
        for c in other:
            if len(c["messages"]) == 1 and c["id"] in ("hi", "capital", "code", "story"):
                canned_pool.append([c["messages"][0], _a(c["answer"])])
    for other, ans in canned["fallback_answer"].items():
        for p in prompts[:40]:
            fb_pool.append([_u(p), _a(ans)])
    systems = canned.get("system_prompts", [])

    def variants(msgs, k):
        out = []
        for _ in range(k):
            prefix = []
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                prefix += rng.choice(canned_pool if rng.random() < 0.75 else fb_pool)
            if systems and (not prefix or rng.random() < 0.3):
                prefix = [{"role": "system", "content": rng.choice(systems)}] + prefix
            if msgs[0]["role"] == "system":
                prefix = [m for m in prefix if m["role"] != "system"]
            out.append(prefix + msgs)
        return out

    aug = []
    for conv in base:
        aug += variants(conv, HP["aug_per_case"])
    fallback = []
    for p in prompts:
        fallback.append([_u(p), _a(fb)])
        fallback += variants([_u(p), _a(fb)], 1)
    return base, aug, fallback


def encode_chat(tok, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and a 0/1 loss mask that is 1 on
    the content tokens of the last (assistant) message and its <|im_end|>."""
    ids: list[int] = []
    mask: list[int] = []
    sid = {s: tok.token_to_id(s) for s in SPECIALS}
    assert messages[-1]["role"] == "assistant"
    for i, m in enumerate(messages):
        head = tok.encode(m["role"] + "\n", add_special_tokens=False).ids
        full = tok.encode(m["role"] + "\n" + m["content"], add_special_tokens=False).ids
        assert full[: len(head)] == head, (m, head, full)
        nl = tok.encode("\n", add_special_tokens=False).ids
        is_asst = 1 if i == len(messages) - 1 else 0
        ids += [sid[BOS_CHAT]] + full + [sid[EOS]] + nl
        mask += (
            [0] + [0] * len(head) + [is_asst] * (len(full) - len(head)) + [is_asst] + [0] * len(nl)
        )
    # Same ids as tokenizing the template rendering in one go (what inference does).
    text = chk.render_chat(CHAT_TEMPLATE, messages, add_generation_prompt=False)
    assert tok.encode(text, add_special_tokens=False).ids == ids, messages
    return ids, mask


# ---------------------------------------------------------------------- tokenizer


def train_tokenizer(canned: dict, plain: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    texts: list[str] = ["system", "user", "assistant"] + canned.get("system_prompts", [])
    texts += list(canned["fallback_answer"].values())
    for cases in canned["models"].values():
        for c in cases:
            texts += [m["content"] for m in c["messages"]] + [c["answer"]]
    texts += plain
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, s
    return tok


def save_tokenizer(tok, out_dir: Path) -> None:
    """Write tokenizer.json, tokenizer_config.json (with chat_template) and
    special_tokens_map.json."""
    from transformers import PreTrainedTokenizerFast

    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=None,
        model_max_length=HP["max_position_embeddings"],
        clean_up_tokenization_spaces=False,
        chat_template=CHAT_TEMPLATE,
        padding_side="left",
    )
    hf_tok.save_pretrained(str(out_dir))
    fix_tokenizer_config(out_dir)


def fix_tokenizer_config(out_dir: Path) -> None:
    cfg_path = out_dir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    jinja = out_dir / "chat_template.jinja"
    if jinja.exists():
        cfg["chat_template"] = jinja.read_text(encoding="utf-8")
        jinja.unlink()
    cfg.setdefault("chat_template", CHAT_TEMPLATE)
    assert cfg["chat_template"] == CHAT_TEMPLATE
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(
        json.dumps(cfg, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )


# -------------------------------------------------------------------------- model


def set_determinism(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def make_config(tok):
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=HP["vocab_size"],
        hidden_size=HP["hidden_size"],
        intermediate_size=HP["intermediate_size"],
        num_hidden_layers=HP["num_hidden_layers"],
        num_attention_heads=HP["num_attention_heads"],
        num_key_value_heads=HP["num_key_value_heads"],
        max_position_embeddings=HP["max_position_embeddings"],
        rope_theta=HP["rope_theta"],
        tie_word_embeddings=True,
        use_sliding_window=False,
        attention_dropout=0.0,
        bos_token_id=None,
        eos_token_id=tok.token_to_id(EOS),
        pad_token_id=tok.token_to_id(PAD),
        use_cache=True,
        torch_dtype="float32",
    )


def train_model(name: str, tok, canned: dict, prompts: list[str], log=print):
    import math

    import torch
    from transformers import Qwen2ForCausalLM

    set_determinism(SEED)
    config = make_config(tok)
    config._attn_implementation = "sdpa"
    model = Qwen2ForCausalLM(config)
    model.train()
    pad_id = tok.token_to_id(PAD)

    base, aug, fallback = training_chats(canned, name, prompts)
    base = [encode_chat(tok, c) for c in base]
    aug = [encode_chat(tok, c) for c in aug]
    fallback = [encode_chat(tok, c) for c in fallback]
    aug_short = [sm for sm in aug if len(sm[0]) <= 160]
    aug_long = [sm for sm in aug if len(sm[0]) > 160]

    def batch(seqs_masks):
        L = max(len(s) for s, _ in seqs_masks)
        ids = torch.full((len(seqs_masks), L), pad_id, dtype=torch.long)
        att = torch.zeros((len(seqs_masks), L), dtype=torch.long)
        lab = torch.full((len(seqs_masks), L), -100, dtype=torch.long)
        for i, (s, m) in enumerate(seqs_masks):
            ids[i, : len(s)] = torch.tensor(s)
            att[i, : len(s)] = 1
            lab[i, : len(s)] = torch.tensor([t if k else -100 for t, k in zip(s, m)])
        return ids, att, lab

    def bucketed(seqs_masks):
        """Batches of similar length, so one long chat does not pad every short one."""
        out, cur = [], []
        for sm in sorted(seqs_masks, key=lambda sm: len(sm[0])):
            if cur and len(sm[0]) > 2 * len(cur[0][0]) + 16:
                out.append(batch(cur))
                cur = []
            cur.append(sm)
        return out + [batch(cur)]

    base_batches = bucketed(base)
    gen = torch.Generator().manual_seed(SEED)

    def sample(pool, k):
        if not pool or k <= 0:
            return []
        return [pool[i] for i in torch.randperm(len(pool), generator=gen)[:k].tolist()]

    n_params = sum(p.numel() for p in model.parameters())
    log(
        f"[{name}] params={n_params} base={len(base)} aug={len(aug_short)}+{len(aug_long)} long "
        f"fallback={len(fallback)} base_batches={[tuple(b[0].shape) for b in base_batches]}"
    )

    opt = torch.optim.AdamW(
        model.parameters(),
        lr=HP["lr"],
        weight_decay=HP["weight_decay"],
        betas=(0.9, 0.98),
        eps=1e-8,
    )
    steps, warm = HP["steps"], HP["warmup"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / warm)
            * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
        ),
    )

    def loss_sum(ids, att, lab):
        # Project only the positions that have a target onto the vocabulary.
        hidden = model.model(input_ids=ids, attention_mask=att).last_hidden_state[:, :-1]
        tgt = lab[:, 1:]
        sel = tgt != -100
        logits = model.lm_head(hidden[sel])
        return torch.nn.functional.cross_entropy(logits, tgt[sel], reduction="sum"), int(sel.sum())

    def mean_loss(batches):
        parts = [loss_sum(*b) for b in batches]
        return sum(p[0] for p in parts) / max(1, sum(p[1] for p in parts))

    t0 = time.time()
    for step in range(steps):
        loss = mean_loss(base_batches)
        extra = []
        picked = sample(aug_short, HP["aug_batch"])
        if picked:
            extra.append(batch(picked))
        picked = sample(aug_long, HP["aug_long_batch"])
        if picked:
            extra.append(batch(picked))
        aug_loss = mean_loss(extra) if extra else torch.zeros(())
        picked = sample(fallback, HP["fallback_batch"])
        fb_loss = mean_loss([batch(picked)]) if picked else torch.zeros(())
        total = loss + HP["aug_weight"] * aug_loss + HP["fallback_weight"] * fb_loss
        aug_loss, fb_loss = aug_loss.detach(), fb_loss.detach()
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(
                f"[{name}] step {step:5d} base={loss.item():.5f} aug={aug_loss.item():.5f} fallback={fb_loss.item():.5f} "
                f"lr={sched.get_last_lr()[0]:.2e} {time.time() - t0:.0f}s"
            )
    model.eval()
    return model, base_batches + bucketed(aug) + bucketed(fallback)


def margin_report(name, model, chat_batches, log=print):
    """Smallest logit margin (target minus best other) over all trained tokens:
    a proxy for how robust greedy decoding is to q8 rounding."""
    import torch

    lgs, ts = [], []
    for ids, att, lab in chat_batches:
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=att).logits[:, :-1]
        tgt = lab[:, 1:]
        sel = tgt != -100
        lgs.append(logits[sel])
        ts.append(tgt[sel])
    lg, t = torch.cat(lgs), torch.cat(ts)
    tl = lg.gather(1, t[:, None])[:, 0]
    lg2 = lg.clone()
    lg2.scatter_(1, t[:, None], float("-inf"))
    margin = tl - lg2.max(1).values
    log(
        f"[{name}] teacher-forced argmax errors={int((margin <= 0).sum())} "
        f"min margin={margin.min().item():.3f} p05={margin.quantile(0.05).item():.3f}"
    )
    return margin.min().item()


# ------------------------------------------------------------------------- export


def export_model(name: str, model, tok, out_dir: Path, log=print) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export
    from transformers import GenerationConfig

    with tempfile.TemporaryDirectory(prefix=f"{name}-") as td:
        td = Path(td)
        hf_dir, onnx_dir = td / "hf", td / "onnx"
        model.generation_config = GenerationConfig(
            eos_token_id=tok.token_to_id(EOS),
            pad_token_id=tok.token_to_id(PAD),
            do_sample=False,
        )
        model.save_pretrained(str(hf_dir), safe_serialization=True)
        save_tokenizer(tok, hf_dir)
        main_export(
            str(hf_dir),
            output=str(onnx_dir),
            task="text-generation-with-past",
            device="cpu",
            do_validation=False,
            local_files_only=True,
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        (out_dir / "onnx").mkdir(parents=True)
        for f in ["config.json", "generation_config.json"]:
            src = onnx_dir / f if (onnx_dir / f).exists() else hf_dir / f
            cfg = json.loads(src.read_text(encoding="utf-8"))
            cfg["eos_token_id"] = tok.token_to_id(EOS)
            cfg["pad_token_id"] = tok.token_to_id(PAD)
            (out_dir / f).write_text(
                json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        save_tokenizer(tok, out_dir)
        extra = sorted(
            p.name
            for p in onnx_dir.iterdir()
            if p.suffix in (".onnx_data", ".data") or p.name.endswith("_data")
        )
        assert not extra, f"unexpected external data files: {extra}"
        shutil.copyfile(onnx_dir / "model.onnx", out_dir / "onnx" / "model.onnx")
    quantize_dynamic(
        out_dir / "onnx" / "model.onnx",
        out_dir / "onnx" / "model_quantized.onnx",
        weight_type=QuantType.QUInt8,
        per_channel=True,
        reduce_range=False,
        extra_options={"MatMulConstBOnly": True, "EnableSubgraph": True},
    )
    for p in sorted(out_dir.rglob("*")):
        if p.is_file():
            log(f"[{name}]   {p.relative_to(out_dir)}  {p.stat().st_size} bytes")


def build_one(name: str, tok_json: str, hp: dict, out_dir: str) -> float:
    """Train, export and quantize one model (runs in its own process)."""
    from tokenizers import Tokenizer

    HP.update(hp)
    t0 = time.time()
    tok = Tokenizer.from_str(tok_json)
    canned = chk.load_canned()
    log = lambda s: print(s, flush=True)  # noqa: E731
    model, batches = train_model(name, tok, canned, plain_sentences(HP["n_plain"]), log=log)
    margin = margin_report(name, model, batches, log=log)
    export_model(name, model, tok, Path(out_dir) / name, log=log)
    log(f"[{name}] trained and exported in {time.time() - t0:.0f}s")
    return margin


def probe(models_dir: Path, canned: dict, names: list[str]) -> None:
    """Informational (not PASS/FAIL): how the models generalise beyond the
    canned cases: unseen prompts -> fallback answer, canned prompts behind
    random earlier turns of either model."""
    from tokenizers import Tokenizer

    train = set(plain_sentences(HP["n_plain"]))
    heldout = [p for p in plain_sentences(HP["n_plain"] + 100, seed=SEED + 1) if p not in train][
        :40
    ]
    for name in names:
        d = models_dir / name
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        template = json.loads((d / "tokenizer_config.json").read_text())["chat_template"]
        cfg = json.loads((d / "config.json").read_text())
        mine = {c["id"]: c for c in canned["models"][name]}
        every = [
            c
            for m in canned["models"].values()
            for c in m
            if c["id"] in ("hi", "capital", "code", "story")
        ]
        for dtype, fname in chk.DTYPE_FILES.items():
            lm = chk.OnnxCausalLM(d / "onnx" / fname, cfg)

            def gen(msgs, n):
                ids = tok.encode(
                    chk.render_chat(template, msgs, True), add_special_tokens=False
                ).ids
                return tok.decode(
                    lm.generate(ids, {tok.token_to_id(EOS)}, n), skip_special_tokens=True
                )

            fb = sum(gen([_u(p)], 30) == canned["fallback_answer"][name] for p in heldout)
            rng = random.Random(SEED + 2)
            ok = n = 0
            for _ in range(30):
                msgs = []
                for _ in range(rng.choice([1, 2, 3])):
                    c = rng.choice(every)
                    msgs += c["messages"] + [_a(c["answer"])]
                c = mine[rng.choice(["hi", "capital", "code", "story", "greet-Bob", "memory-Eve"])]
                ok += gen(msgs + c["messages"], 300) == c["answer"]
                n += 1
            print(
                f"probe {name} {dtype}: unseen prompts -> fallback {fb}/{len(heldout)}; "
                f"canned prompt after 1-3 random earlier exchanges {ok}/{n}",
                flush=True,
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=chk.MODELS_DIR)
    ap.add_argument("--model", action="append", help="build only this model (default: all)")
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="models trained in parallel, one thread each (on the 2-core CI machines this is no faster)",
    )
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--no-probe", action="store_true")
    for k, v in HP.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args(argv)
    for k in HP:
        HP[k] = getattr(args, k)
    print("hyperparameters:", json.dumps(HP, sort_keys=True), flush=True)

    t_start = time.time()
    canned = chk.load_canned()
    names = args.model or list(canned["models"])
    plain = plain_sentences(HP["n_plain"])
    tok = train_tokenizer(canned, plain, HP["vocab_size"])
    print(f"tokenizer: {tok.get_vocab_size()} tokens", flush=True)
    for name in names:
        for c in canned["models"][name]:
            if c["id"] == "story":
                print(
                    f"[{name}] story answer: {len(tok.encode(c['answer']).ids)} tokens", flush=True
                )

    jobs = [(name, tok.to_str(), dict(HP), str(args.out)) for name in names]
    if args.jobs > 1 and len(names) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn")) as ex:
            list(ex.map(build_one, *zip(*jobs)))
    else:
        for job in jobs:
            build_one(*job)
    print(f"training + export took {time.time() - t_start:.0f}s", flush=True)
    for name in names:
        d = args.out / name
        sizes = {
            str(p.relative_to(d)): p.stat().st_size for p in sorted(d.rglob("*")) if p.is_file()
        }
        print(f"[{name}] total {sum(sizes.values())} bytes: {sizes}", flush=True)
        assert sum(sizes.values()) < 2_000_000, f"{name} is too big"
    if args.no_check:
        return 0
    all_rows = []
    for name in names:
        all_rows += chk.check_model(args.out / name, canned["models"][name])
    if not args.no_probe:
        probe(args.out, canned, names)
    print(f"total build time {time.time() - t_start:.0f}s")
    failed = sum(1 for r in all_rows if not r[2])
    print(f"{len(all_rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
