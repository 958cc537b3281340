"""The JSON Schema of Parlance's export file, and its refusals in words a person can act on.

The schema says what each field of an export must be (app/core/transfer.py writes the file from
the same records the store keeps, app/core/records.py). It is checked by fastjsonschema, which
compiles the schema once into a plain Python function: no hand-written type checks, and fast
enough in Pyodide for a file of tens of megabytes. What a schema cannot say (a parent in the
same conversation, no cycles, ids unique in the file) is checked after it, in transfer.py.

Fields the schema does not name are allowed and ignored, so a file from a later version that
only adds fields still imports; a change that old readers would misread raises `version`.

Numbers are bounded by what survives the trip into JavaScript and IndexedDB: an integer above
2**53 - 1 would cross as a BigInt, which IndexedDB cannot index.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from .conversations import MESSAGE_STATUSES, ROLES

FORMAT = "parlance"
VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1
ID_LENGTH = 200

_ID = {"type": "string", "minLength": 1, "maxLength": ID_LENGTH}
_TIME = {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INTEGER}
_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INTEGER}
_AMOUNT = {"type": "number", "minimum": 0}

# ChatSettings as records.settings_record writes them (every field optional: none set means
# the model's own defaults).
SETTINGS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "systemPrompt": {"type": "string"},
        "temperature": _AMOUNT,
        "topP": {"type": "number", "minimum": 0, "maximum": 1},
        "maxNewTokens": {"type": "integer", "minimum": 1, "maximum": MAX_SAFE_INTEGER},
        "repetitionPenalty": _AMOUNT,
    },
}

# ReplyInfo as records.reply_info_record writes it.
METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "dtype": {"type": "string"},
        "device": {"type": "string"},
        "tokens": _COUNT,
        "tokensPerSecond": _AMOUNT,
        "durationMs": _AMOUNT,
        "firstTokenMs": _AMOUNT,
        "leftOut": _COUNT,
        "promptTokens": _COUNT,
        "reusedTokens": _COUNT,
        "error": {"type": "string"},
        "host": {"type": "string"},
        "completionTokens": _COUNT,
        "settings": SETTINGS,
    },
}

MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "parentId", "role", "content", "createdAt"],
    "properties": {
        "id": _ID,
        # null: the first message of its branch.
        "parentId": {"type": ["string", "null"], "minLength": 1, "maxLength": ID_LENGTH},
        "role": {"enum": ["user", "assistant"]},
        "content": {"type": "string"},
        "createdAt": _TIME,
        "status": {"enum": ["done", "stopped", "error", "streaming"]},
        "metadata": METADATA,
    },
}
assert set(MESSAGE["properties"]["role"]["enum"]) == ROLES
assert set(MESSAGE["properties"]["status"]["enum"]) == MESSAGE_STATUSES

CONVERSATION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "createdAt", "messages"],
    "properties": {
        "id": _ID,
        "title": {"type": "string"},
        # null: the catalog's default model; else a preset name or a model id.
        "model": {"type": ["string", "null"]},
        "createdAt": _TIME,
        "updatedAt": _TIME,
        "settings": SETTINGS,
        # The branch shown last (app/core/tree.py): the id of a message of this conversation.
        "lane": _ID,
        "messages": {"type": "array", "items": MESSAGE},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Parlance export",
    "type": "object",
    "required": ["format", "version", "conversations"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "exportedAt": {"type": "string"},
        "conversations": {"type": "array", "items": CONVERSATION},
    },
}


@cache
def _validator() -> Callable[[Any], Any]:
    """The compiled schema. Compiled on first use (a few milliseconds), so starting the app
    costs nothing for a feature most sessions never touch."""
    import fastjsonschema

    return fastjsonschema.compile(SCHEMA)


def schema_problem(document: Any) -> str | None:
    """What is wrong with `document` by the schema (its first problem), or None."""
    from fastjsonschema import JsonSchemaValueException

    try:
        _validator()(document)
    except JsonSchemaValueException as exc:
        return _describe(exc.name or "data", exc.rule, exc.value, exc.definition or {})
    return None


_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    type(None): "null",
}
_WANTED = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "null": "null",
    "boolean": "true or false",
}


def shown(value: Any, limit: int = 40) -> str:
    """A value as the refusal quotes it: short, one line."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where(path: str) -> str:
    """fastjsonschema's `data.conversations[0].title` as `conversations[0].title`."""
    trimmed = path.removeprefix("data").removeprefix(".")
    return trimmed or "the file"


def _describe(path: str, rule: str | None, value: Any, definition: dict[str, Any]) -> str:
    at = where(path)
    match rule:
        case "type":
            wanted = definition["type"]
            names = [_WANTED[t] for t in (wanted if isinstance(wanted, list) else [wanted])]
            found = _JSON_TYPES.get(type(value), "something else")
            return f"{at}: must be {' or '.join(names)}, not {found}"
        case "required":
            missing = [k for k in definition["required"] if k not in value]
            return f"{where(path + '.' + missing[0])}: missing"
        case "enum":
            allowed = ", ".join(str(v) for v in definition["enum"])
            return f"{at}: {shown(value)} is not one of {allowed}"
        case "const":
            return f"{at}: must be {shown(definition['const'])}, not {shown(value)}"
        case "minLength":
            return f"{at}: must not be empty"
        case "maxLength":
            return f"{at}: longer than {definition['maxLength']} characters"
        case "minimum":
            return f"{at}: {shown(value)} is below {definition['minimum']}"
        case "maximum":
            return f"{at}: {shown(value)} is above {definition['maximum']}"
    return f"{at}: {shown(value)} is not allowed here"
