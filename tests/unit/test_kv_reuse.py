"""Whether a turn goes on from the KV cache the previous turn left (app/core/kv_reuse.py).

Token ids here stand for a ChatML rendering: 1 <|im_start|>, 2 <|im_end|>, 3 "\\n", 4 "user",
5 "assistant", 6 "system"; words from 10 up.
"""

from __future__ import annotations

from app.core.kv_reuse import (
    Cached,
    Plan,
    after_turn,
    cache_key,
    common_prefix,
    plan_reuse,
)

GREEDY = {"max_new_tokens": 64, "do_sample": False}
KEY = cache_key("tiny", "q8", "wasm", GREEDY)

SYSTEM = [1, 6, 3, 10, 11, 2, 3]
ASK = [1, 4, 3, 20, 21, 2, 3]  # a user turn
ANSWER_PROMPT = [1, 5, 3]  # the generation prompt
REPLY = [30, 31, 32]
ASK_AGAIN = [1, 4, 3, 22, 2, 3]


def first_turn() -> tuple[list[int], Cached]:
    """The first turn's prompt, and what its cache holds once the reply ended with <|im_end|>
    (the last generated token is not read back, so not in the cache)."""
    prompt = SYSTEM + ASK + ANSWER_PROMPT
    sequence = prompt + REPLY + [2]
    cached = after_turn(KEY, sequence, len(sequence) - 1)
    assert cached is not None
    return prompt, cached


def test_the_next_turn_reuses_everything_the_cache_holds() -> None:
    _, cached = first_turn()
    # The template renders the reply with its <|im_end|> and a newline, then the new turn.
    prompt = SYSTEM + ASK + ANSWER_PROMPT + REPLY + [2, 3] + ASK_AGAIN + ANSWER_PROMPT
    plan = plan_reuse(cached, KEY, prompt)
    assert plan == Plan(reuse=len(cached.tokens), crop=False)
    assert plan.reuse == len(SYSTEM + ASK + ANSWER_PROMPT + REPLY)


def test_a_reply_that_tokenizes_otherwise_once_rendered_is_reused_up_to_where_it_differs() -> None:
    _, cached = first_turn()
    prompt = SYSTEM + ASK + ANSWER_PROMPT + [30, 33] + [2, 3] + ASK_AGAIN + ANSWER_PROMPT
    plan = plan_reuse(cached, KEY, prompt)
    assert plan == Plan(reuse=len(SYSTEM + ASK + ANSWER_PROMPT) + 1, crop=True)


def test_a_cache_that_cannot_be_cropped_is_dropped_when_it_holds_more_than_the_prefix() -> None:
    _, cached = first_turn()
    prompt = SYSTEM + ASK + ANSWER_PROMPT + [30, 33] + [2, 3] + ASK_AGAIN + ANSWER_PROMPT
    assert plan_reuse(cached, KEY, prompt, can_crop=False) == Plan(0, False, "prefix")


def test_an_edited_message_reuses_only_what_comes_before_it() -> None:
    _, cached = first_turn()
    edited = [*SYSTEM, 1, 4, 3, 20, 99, 2, 3, *ANSWER_PROMPT]
    plan = plan_reuse(cached, KEY, edited)
    assert plan == Plan(reuse=len(SYSTEM) + 4, crop=True)


def test_a_regenerate_rereads_at_least_the_prompts_last_token() -> None:
    prompt, cached = first_turn()
    plan = plan_reuse(cached, KEY, prompt)  # the same prompt again: the whole of it is cached
    assert plan == Plan(reuse=len(prompt) - 1, crop=True)


def test_another_system_prompt_shares_nothing_and_the_cache_is_dropped() -> None:
    _, cached = first_turn()
    prompt = [7, 8, *ASK, *ANSWER_PROMPT]
    assert plan_reuse(cached, KEY, prompt) == Plan(0, False, "prefix")


def test_a_history_trimmed_to_fit_keeps_only_the_system_prompt() -> None:
    _, cached = first_turn()
    # The oldest exchange was left out: the prompt goes from the system prompt to the new turn.
    prompt = SYSTEM + ASK_AGAIN + ANSWER_PROMPT
    assert plan_reuse(cached, KEY, prompt) == Plan(reuse=len(SYSTEM) + 3, crop=True)


def test_another_model_dtype_device_or_settings_discards_the_cache() -> None:
    prompt, cached = first_turn()
    longer = prompt + REPLY + [2, 3] + ASK_AGAIN + ANSWER_PROMPT
    others = [
        cache_key("other", "q8", "wasm", GREEDY),
        cache_key("tiny", "fp32", "wasm", GREEDY),
        cache_key("tiny", "q8", "webgpu", GREEDY),
        cache_key("tiny", "q8", "wasm", {**GREEDY, "repetition_penalty": 1.1}),
        cache_key("tiny", "q8", "wasm", {"max_new_tokens": 64, "do_sample": True}),
    ]
    for key in others:
        assert plan_reuse(cached, key, longer) == Plan(0, False, "key"), key


def test_the_room_left_for_the_reply_is_not_a_settings_switch() -> None:
    # max_new_tokens shrinks as the history fills the window: the same settings still.
    assert cache_key("tiny", "q8", "wasm", {**GREEDY, "max_new_tokens": 12}) == KEY


def test_the_keys_settings_do_not_depend_on_the_options_order() -> None:
    backwards = dict(reversed(list(GREEDY.items())))
    assert cache_key("tiny", "q8", "wasm", backwards) == KEY


def test_without_a_cache_a_turn_starts_afresh() -> None:
    assert plan_reuse(None, KEY, [1, 2, 3]) == Plan(0, False, "none")


def test_a_one_token_prompt_is_always_read() -> None:
    cached = Cached(KEY, (1,))
    assert plan_reuse(cached, KEY, [1]) == Plan(0, False, "prefix")


def test_a_stopped_turn_leaves_a_cache_of_what_it_read() -> None:
    prompt, _ = first_turn()
    sequence = [*prompt, 30]  # stopped after one token, never read back
    cached = after_turn(KEY, sequence, len(prompt))
    assert cached is not None and cached.tokens == tuple(prompt)
    # The stored partial reply is rendered as [30] then <|im_end|>: all of the cache holds.
    later = [*prompt, 30, 2, 3, *ASK_AGAIN, *ANSWER_PROMPT]
    assert plan_reuse(cached, KEY, later) == Plan(reuse=len(prompt), crop=False)


def test_a_cache_length_that_does_not_fit_the_sequence_keeps_nothing() -> None:
    assert after_turn(KEY, [1, 2, 3], 4) is None
    assert after_turn(KEY, [1, 2, 3], 0) is None


def test_the_common_prefix_of_token_lists() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5], [6]) == 0
