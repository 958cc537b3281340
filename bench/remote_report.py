"""BENCHMARKS.md's row and section on a remote model: Parlance against a plain client of the
same llama.cpp server (bench/remote.py)."""

from __future__ import annotations

from typing import Any


def remote_targets(r: dict[str, Any]) -> list[tuple[str, float, float, str]]:
    return [
        ("remote model: tokens/s through Parlance / plain client", r["ratio_tokens_per_second"],
         0.95, "min"),
    ]  # fmt: skip


def remote_section(r: dict[str, Any]) -> list[str]:
    p, c = r["parlance"], r["client"]
    rows = [
        ("tokens per second (first token to end)", "tokens_per_second"),
        ("first token (ms, from the request)", "first_token_ms"),
        ("tokens in the reply", "tokens"),
        ("the server's own decoding speed meanwhile (tokens/s, its log)",
         "server_decode_tokens_per_second"),
    ]  # fmt: skip
    own_p = p["tokens_per_second"] / p["server_decode_tokens_per_second"]
    own_c = c["tokens_per_second"] / c["server_decode_tokens_per_second"]
    return [
        "## A remote model (bench/remote.py)",
        "",
        f"{r['model']}, {r['server_threads']} server thread, on 127.0.0.1; prompt "
        f'"{r["prompt"]}", greedy, at most {r["max_tokens"]} new tokens; {r["runs"]} '
        "alternating runs. Parlance: the real page, a new chat on the server's model, the reply "
        "streamed and rendered; client: Python's http.client reading the same stream.",
        "",
        "| figure | Parlance | plain client |",
        "|---|---|---|",
        *[f"| {label} | {p[key]:g} | {c[key]:g} |" for label, key in rows],
        "",
        f"- throughput ratio Parlance / client: {r['ratio_tokens_per_second']:g} (goal >= 0.95); "
        f"first token {r['first_token_ms_added']:+g} ms",
        f"- the server decoded at {r['ratio_server_decode']:g}x its speed while the page "
        "streamed, against while the plain client read: on this 2-core machine the page's work "
        "(Pyodide, the SSE parser, rendering Markdown, Chromium's own processes) takes CPU "
        "from the server. Against the server's own decoding speed in the same run, the client "
        f"saw {own_c:.3f} of it and Parlance {own_p:.3f}: the rest of the gap is the server's "
        "HTTP and streaming work per token (Python, uvicorn), slowed the same way",
        f"- the page's main thread worked {p['main_thread_task_ms_per_token']:g} ms per token "
        f"(script {p['main_thread_script_ms_per_token']:g}, layout "
        f"{p['main_thread_layout_ms_per_token']:g}, style "
        f"{p['main_thread_recalcstyle_ms_per_token']:g}; DevTools Performance metrics): at "
        f"{p['tokens_per_second']:g} tokens/s that is "
        f"{p['main_thread_task_ms_per_token'] * p['tokens_per_second'] / 10:.0f}% of a core, "
        "taken from the server on this machine",
        f"- the page's ceiling, a burst server sending {r['burst_parlance']['tokens']:,.0f} "
        f"tokens as fast as the socket takes them: Parlance took "
        f"{r['burst_parlance']['tokens_per_second']:,.0f} tokens/s (the plain client "
        f"{r['burst_client']['tokens_per_second']:,.0f}): the page shows what arrived at most "
        "every 50 ms, so a page that falls behind catches up in bigger steps instead of slowing "
        "the stream. The page does not limit a server's throughput; sharing 2 cores with it "
        "does, which a server on its own machine (the case this provider is for) does not",
        f"- 1-minute load average {r['load_average'][0]} before and {r['load_average'][1]} "
        "after (2 cores shared with other test runs)",
        "",
    ]
