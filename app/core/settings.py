"""Generation settings as the user types them, and as the model runs with them.

A conversation's settings (conversations.ChatSettings) are what the user chose; a value left
None follows the model's own default (its catalog `generation`). Everything here is pure:

- `parse_settings` turns the settings form's raw strings into ChatSettings, or refuses them
  with one reason per field. Nothing is stored unless every field is valid.
- `generation_options` merges a conversation's settings over its model's catalog
  `generation`, into the options the engine gets.
- `ran_with` is what a reply records (ReplyInfo.settings): the values it really ran with.

The ranges, and why:
- temperature 0 to 2. 0 means greedy decoding (the likeliest token every time: do_sample
  off); above 0 turns sampling on. Past 2 the distribution is so flat that small models write
  noise (OpenAI's API stops at 2 for the same reason).
- top-p more than 0, at most 1 (a probability mass; 1 keeps every token). It shapes sampling
  only, so it does nothing at temperature 0.
- max new tokens a whole number from 1 to the model's context window (the prompt and the
  reply share the window: a reply is further cut to the room the prompt leaves), or to
  MAX_TOKENS when no single model is known (the app-wide defaults).
- repetition penalty from 1 to 2. 1 is no penalty (transformers.js then skips it); below 1
  rewards repeating, which in a chat only makes loops; past 2 a model can no longer reuse
  the words any sentence needs ("the", punctuation), since every token already seen, prompt
  included, is penalised. Catalog defaults of the models we ship sit at 1.05 to 1.1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .catalog import MAX_TOKENS
from .context import MAX_CHARS_PER_TOKEN, prompt_budget
from .conversations import ChatSettings

# The form's fields, in order: ChatSettings' field names.
Field = Literal["system_prompt", "temperature", "top_p", "max_new_tokens", "repetition_penalty"]
FIELDS: tuple[Field, ...] = (
    "system_prompt", "temperature", "top_p", "max_new_tokens", "repetition_penalty",
)  # fmt: skip
# What the user calls each field (reasons start with it).
FIELD_NAMES: dict[Field, str] = {
    "system_prompt": "The system prompt",
    "temperature": "Temperature",
    "top_p": "Top-p",
    "max_new_tokens": "Max new tokens",
    "repetition_penalty": "Repetition penalty",
}
TEMPERATURE_RANGE = (0.0, 2.0)
REPETITION_PENALTY_RANGE = (1.0, 2.0)
# The key of a reason about the form as a whole (the store refused it), not one field.
FORM = ""


@dataclass(frozen=True)
class SettingsLimits:
    """What bounds the form's values: the context window of the model the settings are for
    (None when no single model is known, or it does not say)."""

    context_tokens: int | None = None
    model_label: str | None = None

    @property
    def max_new_tokens(self) -> int:
        return self.context_tokens or MAX_TOKENS


@dataclass(frozen=True)
class Refused:
    """Settings the form may not store, with why: field name (or FORM) -> reason."""

    reasons: Mapping[str, str]


def parse_settings(raw: Mapping[str, str], limits: SettingsLimits) -> ChatSettings | Refused:
    """The settings the form's fields say (keyed by FIELDS; a missing or empty number field
    follows the model), or every reason they cannot be stored."""
    reasons: dict[str, str] = {}
    temperature = _number(raw, "temperature", reasons, _between(*TEMPERATURE_RANGE))
    top_p = _number(raw, "top_p", reasons, _top_p)
    max_new = _number(raw, "max_new_tokens", reasons, lambda v: _max_new_tokens(v, limits))
    penalty = _number(raw, "repetition_penalty", reasons, _between(*REPETITION_PENALTY_RANGE))
    system_prompt = raw.get("system_prompt", "").strip()
    too_long = _system_prompt_problem(system_prompt, limits, max_new)
    if too_long:
        reasons["system_prompt"] = too_long
    if reasons:
        return Refused(reasons)
    return ChatSettings(
        system_prompt=system_prompt,
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=int(max_new) if max_new is not None else None,
        repetition_penalty=penalty,
    )


def form_values(settings: ChatSettings) -> dict[str, str]:
    """Settings as the form shows them (None: an empty field)."""
    return {name: _shown(getattr(settings, name)) for name in FIELDS}


def _shown(value: str | float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(
    raw: Mapping[str, str],
    name: Field,
    reasons: dict[str, str],
    problem: Any,
) -> float | None:
    text = raw.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        example = "512" if name == "max_new_tokens" else "0.7"
        reasons[name] = f"{FIELD_NAMES[name]} must be a number, like {example}."
        return None
    why = problem(value)
    if why:
        reasons[name] = f"{FIELD_NAMES[name]} {why}."
        return None
    return value


def _between(low: float, high: float) -> Any:
    def problem(value: float) -> str | None:
        if low <= value <= high:
            return None
        return f"must be from {low:g} to {high:g}"

    return problem


def _top_p(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be more than 0 and at most 1"


def _max_new_tokens(value: float, limits: SettingsLimits) -> str | None:
    if not value.is_integer():
        return "must be a whole number of tokens"
    if value < 1:
        return "must be at least 1"
    limit = limits.max_new_tokens
    if value > limit:
        if limits.context_tokens and limits.model_label:
            return (
                f"must be at most {limit:,}, the context window of {limits.model_label} "
                "(the prompt and the reply share it)"
            )
        return f"must be at most {limit:,}"
    return None


def _system_prompt_problem(text: str, limits: SettingsLimits, max_new: float | None) -> str:
    """A system prompt that cannot fit the model's window whatever its tokenizer (it is sent
    with every turn and never left out, so every reply would be refused)."""
    if not text or not limits.context_tokens:
        return ""
    budget = prompt_budget(limits.context_tokens, int(max_new) if max_new else None)
    if len(text) <= max(budget, 0) * MAX_CHARS_PER_TOKEN:
        return ""
    return (
        f"The system prompt is too long: {limits.model_label or 'the model'} reads at most "
        f"{limits.context_tokens:,} tokens at once, and the prompt goes with every message"
    )


# -- running with them ------------------------------------------------------------------------


def generation_options(generation: Mapping[str, Any], settings: ChatSettings) -> dict[str, Any]:
    """The engine's options: the model's catalog `generation`, with what the user set over it.

    A temperature above 0 turns sampling on; 0 turns it off (greedy). A max new tokens below
    the catalog's min_new_tokens brings that minimum down with it.
    """
    options: dict[str, Any] = dict(generation)
    if settings.temperature is not None:
        if settings.temperature > 0:
            options["do_sample"] = True
            options["temperature"] = settings.temperature
        else:
            options["do_sample"] = False
            options.pop("temperature", None)
    if settings.top_p is not None:
        options["top_p"] = settings.top_p
    if settings.repetition_penalty is not None:
        options["repetition_penalty"] = settings.repetition_penalty
    if settings.max_new_tokens is not None:
        options["max_new_tokens"] = settings.max_new_tokens
    maximum, minimum = options.get("max_new_tokens"), options.get("min_new_tokens")
    if isinstance(maximum, int) and isinstance(minimum, int) and minimum > maximum:
        options["min_new_tokens"] = maximum
    return options


# A regenerate asks for another answer: a greedy model would give the same one again.
REGENERATE_TEMPERATURE = 0.7


def sampled(options: Mapping[str, Any], settings: ChatSettings) -> dict[str, Any]:
    """The options for a regenerate: sampling on (at REGENERATE_TEMPERATURE when nothing says
    otherwise), unless the user chose greedy decoding (temperature 0) for this chat."""
    changed = dict(options)
    if settings.temperature == 0 or changed.get("do_sample") is True:
        return changed
    changed["do_sample"] = True
    if not changed.get("temperature"):
        changed["temperature"] = REGENERATE_TEMPERATURE
    return changed


def model_defaults(generation: Mapping[str, Any]) -> ChatSettings:
    """What each empty field means for a model: its catalog `generation` (None where the
    catalog says nothing and the model's own files decide)."""
    return ran_with(ChatSettings(), generation)


def ran_with(settings: ChatSettings, options: Mapping[str, Any]) -> ChatSettings:
    """The settings a reply ran with, from the options the engine got: greedy decoding is
    temperature 0; None where the options left it to the model's own files."""
    if options.get("do_sample") is False:
        temperature: float | None = 0.0
    else:
        temperature = _float(options.get("temperature"))
    max_new = options.get("max_new_tokens")
    return ChatSettings(
        system_prompt=settings.system_prompt,
        temperature=temperature,
        top_p=_float(options.get("top_p")),
        max_new_tokens=max_new if isinstance(max_new, int) else None,
        repetition_penalty=_float(options.get("repetition_penalty")),
    )


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
