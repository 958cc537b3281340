"""A synthetic 2,000-token reply, in tokens, for the rendering benchmarks (bench/render.py in the
page, bench/render_cpython.py in CPython).

Ten sections of 200 tokens each, the same mix in each (a heading, prose with inline code and a
link, a list, a Python code block, a table, a closing paragraph), so that the frames around token
100 and around token 2,000 render the same kinds of blocks and differ only in how much reply came
before them. Tokens are cut as a BPE tokenizer roughly does (a word with its leading space, a run
of punctuation, a line break), about four characters each.
"""

from __future__ import annotations

import re

SECTIONS = 10
TOKENS_PER_SECTION = 200
_TOKEN = re.compile(r"\n| ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+| +")

_SECTION = """## Part {n}: tides and harbours

The sea rises and falls twice a day; a harbour must work at both tides.
Engineers read `tide_gauge({n})` and [the charts](https://example.org/tides/{n}).

- **Spring tides** come with the new and the full moon.
- Neap tides fall between them.
- A *surge* adds wind and low pressure to the tide.

```python
def tide_height(hour: float, amplitude: float = {n}.5) -> float:
    \"\"\"Height of a simple semidiurnal tide, in metres.\"\"\"
    return amplitude * math.cos(2 * math.pi * hour / 12.42)
```

| port | range (m) |
|---|--:|
| Brest | {n}.1 |
| Dover | 6.{n} |

So boats wait for the flood.
"""


def tokens() -> list[str]:
    """The reply's tokens, in order: SECTIONS sections of exactly TOKENS_PER_SECTION each."""
    every: list[str] = []
    for n in range(1, SECTIONS + 1):
        section = _TOKEN.findall(_SECTION.format(n=n) + "\n")
        assert "".join(section) == _SECTION.format(n=n) + "\n", "the tokens lose text"
        # Pad the closing sentence (before its ".", "\n", "\n") to the same length for all.
        assert len(section) <= TOKENS_PER_SECTION, len(section)
        section[-3:-3] = [" calm"] * (TOKENS_PER_SECTION - len(section))
        every.extend(section)
    return every
