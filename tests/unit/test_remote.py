"""Models of OpenAI-compatible servers in core: server addresses and keys (endpoints.py), the
protocol's request and stream (openai_api.py), catalog entries, the engine router, the model
manager adding and removing a server, a reply's record, and an export that never holds a key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from app.core.catalog import ModelEntry, parse_catalog, parse_entry
from app.core.conversations import Message, ReplyInfo
from app.core.endpoints import (
    EndpointError,
    EndpointKeys,
    RemoteModel,
    base_url_from,
    checked_key,
    entry_id,
    model_names,
    new_entries,
    status_reason,
)
from app.core.engine_router import EngineRouter
from app.core.errors import CatalogError
from app.core.events import (
    CatalogChanged,
    EndpointAdded,
    EndpointRefused,
    ErrorRaised,
    ModelStatusChanged,
)
from app.core.hub_models import entry_record
from app.core.openai_api import (
    ReplyStream,
    StreamError,
    TextPacer,
    Usage,
    chat_body,
    error_message,
)
from app.core.ports import ChatTurn, GenerationStats, LoadedModel, StopSignal
from app.core.records import reply_info_from, reply_info_record
from app.core.targets import ModelChoice
from app.ui.format import describe_reply, reply_details
from app.ui.model_bar import ModelBar

from .fakes import ChatHarness, FakeEngine
from .test_model_manager import Harness
from .test_transfer import exported
from .test_widgets import model_bar_page

URL = "http://127.0.0.1:8080/v1"
REMOTE = {"id": "127.0.0.1:8080/big", "label": "Big", "source": "openai", "baseUrl": URL,
          "model": "org/Big-70B"}  # fmt: skip


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(scenario())


# -- server addresses and keys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("  http://LOCALHOST:11434/v1/ ", "http://localhost:11434/v1"),
        ("https://gpu.example.org/vllm/v1", "https://gpu.example.org/vllm/v1"),
    ],
)
def test_a_server_address_is_its_api_root_ending_in_v1(typed: str, base: str) -> None:
    assert base_url_from(typed) == base


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "type the server's address"),
        ("gpu.example.org/v1", "not a web address"),
        ("ftp://gpu.example.org/v1", "not a web address"),
        ("http://127.0.0.1:8080", "ends in /v1"),
        ("http://127.0.0.1:8080/v1?x=1", "nothing after it"),
        ("https://user:sk-1@gpu.example.org/v1", "key in the key field"),
        ("http://192.168.1.20:8000/v1", "must use https"),
        ("http://127.0.0.1:99999/v1", "not a web address"),
    ],
)
def test_a_bad_server_address_is_refused_saying_what_one_looks_like(
    typed: str, reason: str
) -> None:
    with pytest.raises(EndpointError) as refused:
        base_url_from(typed)
    assert reason in str(refused.value)


def test_a_key_is_one_printable_word_and_an_empty_one_is_none() -> None:
    assert checked_key("  sk-abc ") == "sk-abc"
    assert checked_key("   ") is None
    for bad in ("sk abc", "sk-\x00", "k" * 5000):
        with pytest.raises(EndpointError):
            checked_key(bad)


def test_http_statuses_read_as_what_to_do() -> None:
    assert "refused the key (HTTP 401)" in status_reason(401)
    assert "check the key" in status_reason(403, "forbidden")
    assert "ends in /v1" in status_reason(404)
    assert status_reason(500, "out of memory") == "the server answered HTTP 500 (out of memory)"


def test_a_model_list_gives_the_names_and_anything_else_is_not_openai() -> None:
    listed = {"object": "list", "data": [{"id": "a"}, {"id": "b/c"}, {"id": "a"}, {"id": 3}]}
    assert model_names(listed, URL) == ["a", "b/c"]
    answers: list[Any] = [{"models": []}, [], "<html>", {"data": ["a"]}]
    for answer in answers:
        with pytest.raises(EndpointError, match="OpenAI-compatible"):
            model_names(answer, URL)
    with pytest.raises(EndpointError, match="lists no models"):
        model_names({"data": []}, URL)


def test_a_server_s_models_become_entries_named_by_server_and_name_skipping_known_ones() -> None:
    records = new_entries(URL, ["/models/Smol.gguf", "org/Big-70B"], {entry_id(URL, "org/Big-70B")})
    assert records == [
        {
            "id": "127.0.0.1:8080//models/Smol.gguf",
            "label": "Smol.gguf",
            "source": "openai",
            "baseUrl": URL,
            "model": "/models/Smol.gguf",
        }
    ]
    assert entry_id("https://h.org/a/v1", "m") != entry_id("https://h.org/b/v1", "m")


def test_keys_change_by_server_without_touching_the_others() -> None:
    keys = EndpointKeys({URL: "sk-1"})
    assert keys.with_key("https://x/v1", "sk-2") == {URL: "sk-1", "https://x/v1": "sk-2"}
    assert keys.with_key(URL, None) == {}
    assert keys.get(URL) == "sk-1"  # with_key changes nothing until replaced


# -- catalog entries -----------------------------------------------------------------------


def test_a_catalog_may_list_a_server_s_model_which_says_where_it_runs() -> None:
    catalog = parse_catalog({"default": REMOTE["id"], "models": [REMOTE]})
    entry = catalog.models[0]
    assert (entry.source, entry.base_url, entry.model) == ("openai", URL, "org/Big-70B")
    assert entry.remote and entry.host == "127.0.0.1:8080"
    assert entry.display_label == "Big · runs on 127.0.0.1:8080"
    assert entry_record(entry) == REMOTE  # stored as the catalog's own format
    local = parse_entry({"id": "a/b", "label": "B", "source": "local"})
    assert local.display_label == "B" and local.host is None and not local.remote


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"apiKey": "sk-1"}, "never holds a server's key"),
        ({"baseUrl": "http://127.0.0.1:8080"}, "baseUrl the address of the API ends in /v1"),
        ({"baseUrl": "http://10.0.0.2/v1"}, "must use https"),
        ({"model": ""}, "model must be the server's name"),
        ({"id": " padded"}, "must be a name"),
        ({"generation": {"temperature": "hot"}}, "generation.temperature"),
    ],
)
def test_a_bad_server_entry_refuses_the_catalog_saying_why(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(CatalogError) as refused:
        parse_entry({**REMOTE, **change})
    assert reason in str(refused.value)


# -- the protocol --------------------------------------------------------------------------


def test_a_reply_request_streams_the_turns_with_the_settings_in_the_protocol_s_names() -> None:
    turns = [ChatTurn("system", "Be brief."), ChatTurn("user", "hi")]
    options = {"max_new_tokens": 64, "temperature": 0.7, "top_p": 0.9, "min_new_tokens": 4,
               "repetition_penalty": 1.1, "do_sample": True}  # fmt: skip
    body = chat_body("org/Big", turns, options)
    assert body == {
        "model": "org/Big",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.7,
        "top_p": 0.9,
        "repetition_penalty": 1.1,
        "max_tokens": 64,
    }
    assert chat_body("m", turns, {"do_sample": False, "temperature": 0.8})["temperature"] == 0.0


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> str:
    delta = {} if content is None else {"content": content}
    return json.dumps({"choices": [{"delta": delta, "finish_reason": finish}], **extra})


def test_a_stream_gives_its_text_then_ends_with_the_usage_the_server_reports() -> None:
    stream = ReplyStream()
    texts = [stream.take(d) for d in (chunk(), chunk("Hel"), chunk("lo"), chunk(finish="stop"))]
    assert texts == ["", "Hel", "lo", ""] and stream.finish_reason == "stop"
    usage = {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}
    assert stream.take(json.dumps({"choices": [], "usage": usage})) == ""
    assert stream.take("[DONE]") == "" and stream.done
    stream.check_ended()
    assert stream.usage == Usage(12, 2) and stream.tokens == 2


def test_without_usage_the_tokens_are_the_chunks_of_text() -> None:
    stream = ReplyStream()
    for data in (chunk("a"), chunk("b"), chunk("c", finish="length")):
        stream.take(data)
    stream.check_ended()  # a finish reason and the body's end: a whole reply without [DONE]
    assert stream.usage is None and stream.tokens == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a chat completion"),
        (json.dumps({"object": "x"}), "not a chat completion"),
        (json.dumps({"choices": [{"delta": {"content": 5}}]}), "text is not text"),
        (json.dumps({"error": {"message": "CUDA out of memory"}}), "CUDA out of memory"),
    ],
)
def test_a_bad_event_is_a_stream_error_saying_what_came(data: str, reason: str) -> None:
    stream = ReplyStream()
    stream.take(chunk("kept"))
    with pytest.raises(StreamError) as refused:
        stream.take(data)
    assert reason in refused.value.reason


def test_a_body_that_ends_mid_reply_is_a_dropped_connection() -> None:
    stream = ReplyStream()
    stream.take(chunk("Partial"))
    with pytest.raises(StreamError, match="ended before the reply did"):
        stream.check_ended()


def test_an_error_body_s_message_is_read_short_and_anything_else_says_nothing() -> None:
    assert error_message('{"error": {"message": "Invalid  API\\nkey"}}') == "Invalid API key"
    assert error_message('{"detail": "Not authenticated"}') == "Not authenticated"
    assert error_message("<html>502</html>") == ""
    assert len(error_message(json.dumps({"error": "x" * 1000}))) == 300


# -- the engine router ---------------------------------------------------------------------


class RemoteFake(FakeEngine):
    """A remote engine: its loaded models hold a RemoteModel; it reports usage."""

    async def load(self, entry: ModelEntry, *args: Any) -> LoadedModel:
        loaded = await super().load(entry, *args)
        assert entry.base_url and entry.model
        return LoadedModel(loaded.id, None, loaded.device, RemoteModel(entry.base_url, entry.model))

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        stats = await super().generate(model, turns, options, on_text, stop)
        return GenerationStats(stats.tokens, stats.stopped, prompt_tokens=9, completion_tokens=3)


def test_the_router_sends_server_models_to_the_remote_engine_and_the_rest_to_the_local() -> None:
    async def scenario() -> None:
        local, remote = FakeEngine(), RemoteFake()
        router = EngineRouter(local=local, remote=remote)
        far = await router.load(parse_entry(REMOTE), None, "wasm", lambda _p: None)
        near = await router.load(parse_entry({"id": "a/b", "source": "local"}), "q8", "wasm",
                                 lambda _p: None)  # fmt: skip
        assert (local.loads, remote.loads) == (["a/b"], [REMOTE["id"]])
        await router.generate(far, [ChatTurn("user", "hi")], {}, lambda _t: None, StopSignal())
        await router.count_tokens(near, ["one two"])
        await router.dispose(far)
        await router.dispose(near)
        assert [m for m, _ in remote.generated] == [REMOTE["id"]] and local.generated == []
        assert local.counted == ["one two"] and remote.counted == []
        assert (local.disposed, remote.disposed) == (["a/b"], [REMOTE["id"]])

    run(scenario)


# -- a reply from a server: its record -------------------------------------------------------


def remote_chat() -> ChatHarness:
    catalog = parse_catalog({"default": REMOTE["id"], "models": [REMOTE]})
    h = ChatHarness(catalog, {})
    router = EngineRouter(local=h.engine, remote=RemoteFake({REMOTE["id"]: "Hello from afar"}))
    h.chat._answering._engine = router
    h.chat._loader._engine = router
    return h


def test_a_reply_from_a_server_records_the_model_its_host_and_the_usage_it_reported() -> None:
    async def scenario() -> None:
        h = remote_chat()
        cid = await h.first_exchange("hi")
        reply = (await h.store.list_messages(cid))[-1]
        assert reply.content == "Hello from afar" and reply.status == "done"
        info = reply.info
        assert (info.model, info.host) == (REMOTE["id"], "127.0.0.1:8080")
        assert (info.prompt_tokens, info.completion_tokens) == (9, 3)
        assert info.device is None and info.dtype is None  # the server's, unknown here
        stored = reply_info_record(info)
        assert stored["host"] == "127.0.0.1:8080" and stored["completionTokens"] == 3
        assert reply_info_from(stored) == info

    run(scenario)


def test_a_reply_line_says_where_the_model_ran_even_once_it_left_the_list() -> None:
    info = ReplyInfo(model=REMOTE["id"], host="127.0.0.1:8080", tokens=3, tokens_per_second=30.0,
                     duration_ms=400.0, prompt_tokens=9, completion_tokens=3)  # fmt: skip
    message = Message("r", "c", "assistant", "Hello", 1, info=info)
    listed = {REMOTE["id"]: parse_entry(REMOTE).display_label}
    assert describe_reply(message, listed) == "Big · runs on 127.0.0.1:8080 · 30 tok/s · 0.4 s"
    assert describe_reply(message, {}).startswith(f"{REMOTE['id']} · runs on 127.0.0.1:8080")
    details = reply_details(message)
    assert "Server: 127.0.0.1:8080" in details
    assert "Usage reported by the server: 9 prompt + 3 reply tokens" in details


# -- the model manager: adding a server --------------------------------------------------------


class FakeServers:
    def __init__(self, listing: Mapping[str, list[str]], refuse: str | None = None) -> None:
        self.listing = listing
        self.refuse = refuse
        self.asked: list[tuple[str, str | None]] = []

    async def list_models(self, base_url: str, key: str | None) -> list[str]:
        self.asked.append((base_url, key))
        if self.refuse:
            raise EndpointError(base_url, self.refuse)
        return self.listing[base_url]


def with_servers(servers: FakeServers) -> Harness:
    h = Harness()
    h.manager._endpoints = servers
    return h


def test_a_server_s_models_join_the_catalog_and_its_key_is_kept_apart() -> None:
    async def scenario() -> None:
        servers = FakeServers({URL: ["org/Big-70B", "small"]})
        h = with_servers(servers)
        await h.manager.add_endpoint(URL + "/", " sk-secret ")
        assert servers.asked == [(URL, "sk-secret")]
        added = h.events.of(EndpointAdded)[-1]
        assert added.base_url == URL
        assert [e.id for e in added.entries] == [
            entry_id(URL, "org/Big-70B"),
            entry_id(URL, "small"),
        ]
        catalog = h.events.of(CatalogChanged)[-1].catalog
        assert catalog.get(entry_id(URL, "small")) == added.entries[1]
        stored = await h.store.get_user_models()
        assert [r["source"] for r in stored] == ["openai", "openai"]
        assert "sk-secret" not in json.dumps(stored)
        assert await h.store.get_endpoint_keys() == {URL: "sk-secret"}
        assert h.manager.keys.get(URL) == "sk-secret"
        assert h.files.deleted == [] and not h.rows()[entry_id(URL, "small")].downloaded

        # Another page reads the models and the key back.
        again = with_servers(servers)
        again.manager._store = h.store
        await again.manager.load_user_models()
        assert again.choice.catalog.get(entry_id(URL, "small")) is not None
        assert again.manager.keys.get(URL) == "sk-secret"

        # Its models leave one by one; the key goes with the last.
        await h.manager.remove_user_model(entry_id(URL, "small"))
        assert await h.store.get_endpoint_keys() == {URL: "sk-secret"}
        await h.manager.remove_user_model(entry_id(URL, "org/Big-70B"))
        assert await h.store.get_endpoint_keys() == {} and h.manager.keys.get(URL) is None
        assert h.files.deleted == []  # a server's model has no files here

    run(scenario)


@pytest.mark.parametrize(
    ("typed", "servers", "reason"),
    [
        ("http://127.0.0.1:8080", FakeServers({}), "ends in /v1"),
        (URL, FakeServers({}, refuse="the server refused the key (HTTP 401)"), "HTTP 401"),
        (URL, FakeServers({}, refuse="it did not answer"), "it did not answer"),
    ],
)
def test_a_refused_server_adds_nothing_and_says_why(
    typed: str, servers: FakeServers, reason: str
) -> None:
    async def scenario() -> None:
        h = with_servers(servers)
        await h.manager.add_endpoint(typed, "sk-1")
        assert reason in h.events.of(EndpointRefused)[-1].reason
        assert reason in h.events.of(ErrorRaised)[-1].text
        assert h.events.of(CatalogChanged) == [] and h.events.of(EndpointAdded) == []
        assert await h.store.get_user_models() == []
        assert await h.store.get_endpoint_keys() == {}

    run(scenario)


def test_adding_a_server_again_adds_only_its_new_models_and_updates_its_key() -> None:
    async def scenario() -> None:
        servers = FakeServers({URL: ["a"]})
        h = with_servers(servers)
        await h.manager.add_endpoint(URL, "")
        servers.listing = {URL: ["a", "b"]}
        await h.manager.add_endpoint(URL, "sk-new")
        assert [e.id for e in h.events.of(EndpointAdded)[-1].entries] == [entry_id(URL, "b")]
        assert [r["id"] for r in await h.store.get_user_models()] == [
            entry_id(URL, "a"),
            entry_id(URL, "b"),
        ]
        assert await h.store.get_endpoint_keys() == {URL: "sk-new"}

    run(scenario)


def test_a_server_s_model_is_usable_without_a_download_and_resolves_by_id() -> None:
    choice = ModelChoice(parse_catalog({"default": REMOTE["id"], "models": [REMOTE]}))
    entry = choice.resolve(None)
    assert entry is not None and entry.remote


# -- an export never holds a key --------------------------------------------------------------


def test_an_export_of_a_chat_with_a_server_s_model_has_its_record_and_never_the_key() -> None:
    async def scenario() -> None:
        h = remote_chat()
        await h.store.put_endpoint_keys({URL: "sk-very-secret"})
        await h.first_exchange("hi")
        document = await exported(h.store)
        text = json.dumps(document)
        assert "sk-very-secret" not in text
        reply = document["conversations"][0]["messages"][-1]
        assert reply["metadata"]["host"] == "127.0.0.1:8080"
        assert reply["metadata"]["promptTokens"] == 9

    run(scenario)


# -- where a model is named --------------------------------------------------------------------


def test_the_picker_and_the_status_say_where_a_server_s_model_runs() -> None:
    dom = model_bar_page()
    catalog = parse_catalog({"default": "a/b", "models": [
        {"id": "a/b", "label": "Here", "source": "local"}, REMOTE]})  # fmt: skip
    bar = ModelBar(dom, catalog)  # type: ignore[arg-type]
    options = dom.by_testid("model-select").children
    assert [o.textContent for o in options[1:]] == ["Here", "Big · runs on 127.0.0.1:8080"]
    assert options[2].getAttribute("data-host") == "127.0.0.1:8080"
    text = dom.by_testid("model-status").querySelector(".model-status-text")
    assert text is not None
    bar.handle(ModelStatusChanged(REMOTE["id"], "downloading"))
    assert text.textContent == "Connecting · Big · runs on 127.0.0.1:8080"
    bar.handle(ModelStatusChanged(REMOTE["id"], "failed", reason="the server at x did not answer"))
    assert text.textContent.startswith("Failed · Big · runs on 127.0.0.1:8080: the server at x")


def test_a_fast_stream_is_shown_a_few_tokens_at_a_time_and_a_slow_one_token_by_token() -> None:
    pacer = TextPacer(50)
    assert pacer.add("Hel", 0) == "Hel"  # the first text at once
    assert pacer.add("lo", 10) == "" and pacer.add(",", 30) == ""  # fast: gathered
    assert pacer.add(" w", 55) == "lo, w"
    assert pacer.add("or", 200) == "or"  # slow: each as it comes
    assert pacer.add("", 205) == ""
    assert pacer.add("ld", 215) == ""
    assert pacer.flush() == "ld" and pacer.flush() == ""  # the end shows what waits
