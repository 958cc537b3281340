"""The page <-> engine worker protocol: every message survives the trip as plain data."""

from __future__ import annotations

import json

import pytest

from app.core.catalog import ModelEntry
from app.core.engine_protocol import (
    Configure,
    CountTokens,
    Dispose,
    Done,
    Failed,
    Generate,
    Load,
    Progress,
    ProtocolError,
    Stop,
    Text,
    WarmUp,
    decode_reply,
    decode_request,
    encode,
    error_for,
    failure,
    generation_stats,
    load_request,
    loaded_model,
    model_value,
    stats_value,
    thread_count,
)
from app.core.errors import GenerationError, LoadCanceled, ModelLoadError
from app.core.ports import ChatTurn, GenerationStats, LoadedModel

REQUESTS = [
    Configure(1, "http://x/t.js", {"mjs": "http://x/o.mjs"}, "/models/", "wasm", 2, False),
    Load(2, "tiny/a", "local", "q8", "wasm"),
    WarmUp(3, "m1"),
    Generate(
        4,
        "m1",
        (ChatTurn("system", "Be brief."), ChatTurn("user", "hi")),
        {"max_new_tokens": 8, "do_sample": False, "temperature": 0.7},
    ),
    Stop(5, 4),
    CountTokens(6, "m1", ("a", "b c")),
    Dispose(7, "m1"),
]
REPLIES = [
    Progress(2, "downloading", 10, 100),
    Progress(2, "compiling"),
    Text(4, "Hel"),
    Done(4, {"tokens": 3, "stopped": False}),
    Done(7),
    Failed(2, "load", "404", "tiny/a", "/models/tiny/a/onnx/model.onnx"),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
def test_every_request_comes_back_equal_after_a_json_trip(request_: object) -> None:
    wire = json.loads(json.dumps(encode(request_)))  # type: ignore[arg-type]
    assert decode_request(wire) == request_


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: type(r).__name__)
def test_every_reply_comes_back_equal_after_a_json_trip(reply: object) -> None:
    wire = json.loads(json.dumps(encode(reply)))  # type: ignore[arg-type]
    assert decode_reply(wire) == reply


def test_a_message_says_its_kind() -> None:
    assert encode(WarmUp(3, "m1")) == {"kind": "warm_up", "id": 3, "model": "m1"}


def test_an_unknown_kind_is_a_protocol_error_not_a_crash() -> None:
    with pytest.raises(ProtocolError, match="unknown engine message 'explode'"):
        decode_request({"kind": "explode", "id": 1})
    with pytest.raises(ProtocolError, match="unknown"):
        decode_reply({"id": 1})


def test_a_request_missing_a_field_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="malformed engine message 'load'"):
        decode_request({"kind": "load", "id": 2, "model_id": "tiny/a"})


def test_a_reply_is_never_read_as_a_request() -> None:
    with pytest.raises(ProtocolError):
        decode_request(encode(Text(1, "x")))


def test_a_load_request_carries_what_the_worker_needs_of_the_entry() -> None:
    entry = ModelEntry("org/m", "M", "hub", dtype={"wasm": "q8"}, generation={"top_k": 5})
    assert load_request(9, entry, "q8", "wasm") == Load(9, "org/m", "hub", "q8", "wasm")


def test_the_page_sees_a_loaded_model_with_the_workers_key_as_its_handle() -> None:
    in_worker = LoadedModel("tiny/a", "q8", "wasm", handle=object(), context_tokens=512)
    value = json.loads(json.dumps(model_value(in_worker, "m3")))
    assert loaded_model(value) == LoadedModel("tiny/a", "q8", "wasm", "m3", 512)


def test_generation_stats_cross_whole() -> None:
    stats = GenerationStats(tokens=12, stopped=True)
    assert generation_stats(json.loads(json.dumps(stats_value(stats)))) == stats


def test_fields_a_newer_worker_adds_to_the_stats_are_ignored() -> None:
    assert generation_stats({"tokens": 1, "stopped": False, "later": 3}) == GenerationStats(
        1, False
    )


def test_a_load_error_crosses_with_its_model_and_file() -> None:
    error = ModelLoadError("tiny/a", "404", "/models/tiny/a/onnx/model.onnx")
    rebuilt = error_for(failure(2, error), "ignored")
    assert isinstance(rebuilt, ModelLoadError)
    assert (rebuilt.model, rebuilt.reason, rebuilt.file) == (
        "tiny/a",
        "404",
        "/models/tiny/a/onnx/model.onnx",
    )


def test_a_generation_error_crosses_as_one() -> None:
    rebuilt = error_for(failure(4, GenerationError("tiny/a", "out of memory")), "x")
    assert isinstance(rebuilt, GenerationError)
    assert str(rebuilt) == "tiny/a failed while replying: out of memory"


def test_any_other_error_in_the_worker_reaches_the_page_with_its_reason() -> None:
    failed = failure(4, RuntimeError("the engine worker was not configured"), "tiny/a")
    assert failed == Failed(4, "engine", "the engine worker was not configured", "tiny/a")
    rebuilt = error_for(failed, "tiny/a")
    assert isinstance(rebuilt, GenerationError)
    assert rebuilt.reason == "the engine worker was not configured"


def test_an_app_error_keeps_its_own_reason() -> None:
    assert failure(1, LoadCanceled("tiny/a")).reason == "canceled"


def test_an_error_with_no_message_still_says_what_it_was() -> None:
    assert failure(1, KeyError()).reason == "KeyError()"


@pytest.mark.parametrize(
    ("isolated", "cores", "asked", "threads"),
    [
        (False, 8, None, 1),  # no SharedArrayBuffer: one thread, whatever is asked
        (False, 8, 4, 1),
        (True, 1, None, 1),
        (True, 2, None, 1),  # the page keeps a core for itself
        (True, 4, None, 3),
        (True, 16, None, 4),  # onnxruntime's cap
        (True, 2, 2, 2),  # ?threads=2
        (True, 2, 9, 4),
        (True, 2, 0, 1),
    ],
)
def test_the_engine_gets_a_thread_per_core_but_one_where_the_page_is_isolated(
    isolated: bool, cores: int, asked: int | None, threads: int
) -> None:
    assert thread_count(isolated=isolated, cores=cores, asked=asked) == threads
