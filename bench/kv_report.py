"""BENCHMARKS.md's row and section on the KV cache kept between turns (bench/kv.py)."""

from __future__ import annotations

from typing import Any


def kv_targets(k: dict[str, Any]) -> list[tuple[str, float, float, str]]:
    held = k["prompt_tokens"][-1]
    return [
        (f"first token, turn 8 ({held:,} tokens) / turn 1, cache kept",
         k["ratio_turn8_vs_turn1_kept"], 1.3, "max"),
    ]  # fmt: skip


def kv_section(k: dict[str, Any]) -> list[str]:
    rows = [
        f"| {t + 1} | {k['prompt_tokens'][t]:,} | {k['reused_tokens'][t]:,} "
        f"| {k['first_token_ms_kept'][t]:,.0f} | {k['first_token_ms_reread'][t]:,.0f} |"
        for t in range(k["turns"])
    ]
    equal = [all(r) for r in k["replies_equal"]]
    same = sum(equal)
    load = k["load_average"]
    return [
        "## The KV cache kept between turns (bench/kv.py)",
        "",
        f"`{k['model']}` on {k['device']}, {k['dtype']}, greedy. A chat of {k['turns']} turns,"
        f" each user message a paragraph of about 150 tokens, each reply {k['reply_tokens']}"
        " tokens; the first token timed in the page from the submit to the first text shown."
        f" Chats with the cache kept and with `?kv=0` (each turn re-reads its history)"
        f" alternate, each in a fresh page; medians of {k['rounds']} rounds.",
        "",
        "| turn | prompt tokens | reused from the cache | first token, kept (ms) |"
        " first token, re-read (ms) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"- turn 8 / turn 1: {k['ratio_turn8_vs_turn1_kept']} with the cache kept,"
        f" {k['ratio_turn8_vs_turn1_reread']} re-reading the history; turn 8 kept / re-read:"
        f" {k['ratio_turn8_kept_vs_reread']}",
        f"- greedy replies with the cache equal those without in {same} of {len(equal)} chats"
        " (all turns)",
        f"- 1-minute load average of the machine {load[0]} before and {load[1]} after (2 cores,"
        " shared with other work)",
        "",
    ]
