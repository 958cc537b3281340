"""The Markdown renderer alone, in CPython: one render per frame of a 2,000-token reply, whole
text every time (`render_markdown`, as before) against block by block (`MarkdownStream`).

It complements bench/render.py (the real message list in the page, with DOMPurify and the DOM):
this isolates the Python side. A frame is every TOKENS_PER_FRAME tokens; the figures are the
median time per frame over the first section (tokens 1-200) and the last (1,801-2,000), which
render the same kinds of blocks (bench/reply_sample.py).

Writes bench/results/render_cpython.json. Usage: .venv/bin/python bench/render_cpython.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from common import write_results
from reply_sample import TOKENS_PER_SECTION, tokens

from app.core.markdown import render_markdown
from app.core.markdown_stream import MarkdownStream

TOKENS_PER_FRAME = 3


def frame_times(render: Callable[[str, bool], object]) -> list[tuple[int, float]]:
    """(tokens so far, ms) for each frame of one streamed reply."""
    text, times = "", []
    every = tokens()
    for count, token in enumerate(every, 1):
        text += token
        if count % TOKENS_PER_FRAME and count != len(every):
            continue
        start = time.perf_counter()
        render(text, count == len(every))
        times.append((count, (time.perf_counter() - start) * 1000))
    return times


def figures(times: list[tuple[int, float]]) -> dict[str, float]:
    total = max(count for count, _ in times)
    first = [ms for count, ms in times if count <= TOKENS_PER_SECTION]
    last = [ms for count, ms in times if total - TOKENS_PER_SECTION < count < total]
    return {
        "median_frame_ms_at_100": round(statistics.median(first), 3),
        "median_frame_ms_at_2000": round(statistics.median(last), 3),
        "ratio_2000_vs_100": round(statistics.median(last) / statistics.median(first), 2),
        "longest_frame_ms": round(max(ms for _, ms in times), 3),
        "final_render_ms": round(times[-1][1], 3),
    }


def incremental() -> Callable[[str, bool], object]:
    stream = MarkdownStream()
    return lambda text, done: stream.update(text, done=done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    runs: dict[str, list[dict[str, float]]] = {"whole_text": [], "incremental": []}
    render_markdown("```python\nx = 1\n```")  # Pygments imported before anything is timed
    for _ in range(rounds):  # alternating
        runs["whole_text"].append(figures(frame_times(lambda text, _done: render_markdown(text))))
        runs["incremental"].append(figures(frame_times(incremental())))
    results = {
        name: {key: round(statistics.median(r[key] for r in rs), 3) for key in rs[0]}
        for name, rs in runs.items()
    }
    write_results(
        "render_cpython",
        {
            "tokens": len(tokens()),
            "tokens_per_frame": TOKENS_PER_FRAME,
            "rounds": rounds,
            **results,
        },
    )


if __name__ == "__main__":
    main()
