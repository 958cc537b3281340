"""Whether the next turn can go on from the keys and values the model computed last turn.

Without this, every turn re-reads the whole history: the first token of a long chat's reply
waits for the model to go over thousands of tokens it has already seen. The engine keeps the
model's KV cache after a reply (one cache, for the conversation being answered) together with
the token ids it covers, and before the next turn asks `plan_reuse` how much of it still holds.

What the cache holds is the model's state after reading exactly those tokens, so a new prompt
may start from it for as long as the two agree token by token: the longest common prefix. That
covers every way a history can change without a list of cases. An edit or a regenerate changes
the prompt from the edited turn on; a different system prompt from the start; a history trimmed
to fit the window from its oldest turn. The chat template re-rendering the previous reply
differently from the tokens the model generated (an added end-of-turn marker, a text that
tokenizes otherwise once decoded) ends the common prefix there. Nothing else about the
conversation needs to be known here.

What the token ids do not say is whose state it is: another model, the same model with other
weights (dtype) or on another device, or other generation settings. Those form the key, and a
different key discards the cache. (A cache's values do not depend on the sampling settings; the
settings are in the key so that a settings switch starts afresh, as users expect of it.)

At least one token of the prompt is always left to read: the model must compute the logits of
the prompt's last token to pick the reply's first one. A cache that covers more than what is
reused has to be cut back (cropped) to it first, or dropped when the engine cannot crop it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Options that do not change what the model computes for a given prompt and that change from
# turn to turn on their own: max_new_tokens shrinks as the history fills the window.
_NOT_IN_KEY = frozenset({"max_new_tokens"})


@dataclass(frozen=True)
class CacheKey:
    """Whose state a cache is: the model, its weights, where it runs, how it generates."""

    model: str
    dtype: str | None
    device: str
    settings: tuple[tuple[str, str], ...]


def cache_key(model: str, dtype: str | None, device: str, options: Mapping[str, Any]) -> CacheKey:
    """The key of a turn run with generation `options` (plain values: numbers, booleans)."""
    settings = tuple(
        sorted((name, repr(value)) for name, value in options.items() if name not in _NOT_IN_KEY)
    )
    return CacheKey(model, dtype, device, settings)


@dataclass(frozen=True)
class Cached:
    """A kept cache as the policy sees it: its key and the token ids it holds, in order."""

    key: CacheKey
    tokens: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """What to do with the kept cache before a turn.

    `reuse` tokens of it are kept (0: start afresh, and drop it if there is one); `crop` when it
    holds more than that and must be cut back to `reuse` tokens first.
    """

    reuse: int
    crop: bool
    # Why no cache is reused ("none", "key", "prefix"), or "" when one is.
    reason: str = ""


START_AFRESH = Plan(reuse=0, crop=False, reason="none")


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many tokens `a` and `b` share from their start."""
    limit = min(len(a), len(b))
    for i in range(limit):
        if a[i] != b[i]:
            return i
    return limit


def plan_reuse(
    cached: Cached | None, key: CacheKey, prompt: Sequence[int], *, can_crop: bool = True
) -> Plan:
    """How much of `cached` a turn with `key` whose prompt is the token ids `prompt` can use.

    `can_crop` says whether the engine can cut a cache back; when it cannot, a cache that holds
    more than the reusable prefix is dropped.
    """
    if cached is None:
        return START_AFRESH
    if cached.key != key:
        return Plan(reuse=0, crop=False, reason="key")
    # The prompt's last token is always read: its logits pick the reply's first token.
    reuse = min(common_prefix(cached.tokens, prompt), len(prompt) - 1)
    if reuse <= 0:
        return Plan(reuse=0, crop=False, reason="prefix")
    crop = reuse < len(cached.tokens)
    if crop and not can_crop:
        return Plan(reuse=0, crop=False, reason="prefix")
    return Plan(reuse=reuse, crop=crop)


def after_turn(key: CacheKey, sequence: Sequence[int], cache_length: int) -> Cached | None:
    """What a cache left by a turn holds: the first `cache_length` of the turn's `sequence`
    (its prompt and the tokens it generated; the last generated token was never read back, so
    it is usually not in the cache). None when the lengths cannot belong together."""
    if not 0 < cache_length <= len(sequence):
        return None
    return Cached(key, tuple(sequence[:cache_length]))
