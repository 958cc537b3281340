"""Fitting a conversation into the model's context window.

A model reads at most `context_tokens` tokens at once, and its reply counts against the same
window. A history longer than that used to reach the model whole, and the model answered with
garbage for every later turn. Here the prompt keeps the system prompt and the newest turns that
fit, leaving out the oldest ones first (whole exchanges: the kept history starts with a user
turn), and the reply is told how many were left out. A newest message that cannot fit even
alone is refused before generation.

Token counts are the tokenizer's counts of each message's text plus a fixed allowance per turn
for the chat template's markers, and one for the template's own preamble: an estimate with a
margin, which keeps counting linear (each message is counted once and the counts are cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .ports import ChatTurn

TURN_OVERHEAD_TOKENS = 8
PROMPT_OVERHEAD_TOKENS = 64
# No tokenizer in use packs more characters than this into one token, so a text longer than
# this many characters per token of room cannot fit and need not be tokenized to know it.
MAX_CHARS_PER_TOKEN = 64
DEFAULT_MAX_NEW_TOKENS = 256


class DoesNotFit(Exception):
    """The newest message alone does not fit the window."""

    def __init__(self, tokens: int, limit: int) -> None:
        super().__init__(f"{tokens} tokens, {limit} allowed")
        self.tokens = tokens
        self.limit = limit


@dataclass(frozen=True)
class Fitted:
    turns: list[ChatTurn]
    left_out: int
    prompt_tokens: int
    max_new_tokens: int


def reply_reserve(context_tokens: int, max_new_tokens: int | None) -> int:
    """The part of the window kept for the reply: what generation asks for, at most half."""
    wanted = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
    return max(1, min(wanted, context_tokens // 2))


def prompt_budget(context_tokens: int, max_new_tokens: int | None) -> int:
    return context_tokens - reply_reserve(context_tokens, max_new_tokens) - PROMPT_OVERHEAD_TOKENS


def surely_too_long(text: str, context_tokens: int, max_new_tokens: int | None) -> bool:
    """True when `text` cannot fit whatever the tokenizer (no need to tokenize it)."""
    return len(text) > prompt_budget(context_tokens, max_new_tokens) * MAX_CHARS_PER_TOKEN


def fit_turns(
    turns: Sequence[ChatTurn],
    counts: Sequence[int],
    context_tokens: int,
    max_new_tokens: int | None,
) -> Fitted:
    """The turns to send: system turns and the newest turns that fit, oldest left out first.

    `counts[i]` is the token count of `turns[i].content`. Raises DoesNotFit when the newest
    turn (with the system turns) is over the budget.
    """
    budget = prompt_budget(context_tokens, max_new_tokens)
    cost = [count + TURN_OVERHEAD_TOKENS for count in counts]
    system = [i for i, t in enumerate(turns) if t.role == "system"]
    rest = [i for i, t in enumerate(turns) if t.role != "system"]
    used = sum(cost[i] for i in system)
    kept: list[int] = []
    for i in reversed(rest):
        if used + cost[i] > budget:
            break
        used += cost[i]
        kept.append(i)
    if rest and (not kept or kept[0] != rest[-1]):
        newest = rest[-1]
        raise DoesNotFit(sum(cost[i] for i in system) + cost[newest], max(budget, 0))
    kept.reverse()
    while kept and turns[kept[0]].role != "user" and len(kept) > 1:
        used -= cost[kept.pop(0)]  # a history starts with a question, not half an exchange
    chosen = sorted(system + kept)
    prompt_tokens = used + PROMPT_OVERHEAD_TOKENS
    room = context_tokens - prompt_tokens
    asked = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
    return Fitted(
        turns=[turns[i] for i in chosen],
        left_out=len(rest) - len(kept),
        prompt_tokens=prompt_tokens,
        max_new_tokens=max(1, min(asked, room)),
    )
