"""Generation settings: what the form may store, what the model runs with, what a reply records,
and how a chat gets and keeps its settings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.catalog import MAX_TOKENS, parse_catalog
from app.core.conversations import ChatSettings
from app.core.errors import CatalogError, StoreError
from app.core.events import (
    ConversationOpened,
    ErrorRaised,
    SettingsRefused,
    SettingsSaved,
    SettingsShown,
)
from app.core.memory import LocalBroadcast, LocalTurnLocks, MemoryStore
from app.core.records import reply_info_from, reply_info_record
from app.core.routes import NewChat, Page, Redirect, page_hash, parse_hash
from app.core.settings import (
    FORM,
    Refused,
    SettingsLimits,
    form_values,
    generation_options,
    model_defaults,
    parse_settings,
    ran_with,
)

from .fakes import ChatHarness

CATALOG = parse_catalog(
    {
        "default": "tiny/a",
        "presets": {"quick": ["tiny/b"]},
        "models": [
            {
                "id": "tiny/a",
                "label": "Tiny A",
                "source": "local",
                "dtype": "q8",
                "contextTokens": 2048,
                "generation": {"max_new_tokens": 256, "do_sample": False},
            },
            {
                "id": "tiny/b",
                "label": "Tiny B",
                "source": "local",
                "generation": {
                    "do_sample": True,
                    "temperature": 0.7,
                    "top_p": 0.8,
                    "repetition_penalty": 1.05,
                    "max_new_tokens": 512,
                    "min_new_tokens": 100,
                },
            },
        ],
    }
)
TINY = SettingsLimits(2048, "Tiny A")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def form(**fields: str) -> dict[str, str]:
    return {"system_prompt": "", "temperature": "", "top_p": "", "max_new_tokens": "",
            "repetition_penalty": "", **fields}  # fmt: skip


def refused(raw: dict[str, str], limits: SettingsLimits = TINY) -> dict[str, str]:
    parsed = parse_settings(raw, limits)
    assert isinstance(parsed, Refused), parsed
    return dict(parsed.reasons)


# -- the form's values --------------------------------------------------------------------------


def test_empty_fields_follow_the_model_and_a_blank_system_prompt_is_none() -> None:
    assert parse_settings(form(system_prompt="  \n "), TINY) == ChatSettings()
    assert parse_settings({}, TINY) == ChatSettings()


def test_valid_fields_become_settings() -> None:
    parsed = parse_settings(
        form(system_prompt="  Be brief.\n", temperature="0.7", top_p="0.9",
             max_new_tokens=" 512 ", repetition_penalty="1.1"),
        TINY,
    )  # fmt: skip
    assert parsed == ChatSettings("Be brief.", 0.7, 0.9, 512, 1.1)
    assert isinstance(parsed, ChatSettings) and isinstance(parsed.max_new_tokens, int)


@pytest.mark.parametrize("value", ["0", "2", "1e-1", "0.0"])
def test_temperature_from_0_to_2_is_taken(value: str) -> None:
    assert isinstance(parse_settings(form(temperature=value), TINY), ChatSettings)


@pytest.mark.parametrize("value", ["-1", "-0.01", "2.5", "100"])
def test_a_temperature_out_of_range_is_refused_with_the_range(value: str) -> None:
    assert refused(form(temperature=value)) == {"temperature": "Temperature must be from 0 to 2."}


@pytest.mark.parametrize("value", ["warm", "nan", "inf", "0,7", "1/2"])
def test_a_field_that_is_not_a_number_says_so(value: str) -> None:
    reasons = refused(form(temperature=value, max_new_tokens=value))
    assert reasons["temperature"] == "Temperature must be a number, like 0.7."
    assert reasons["max_new_tokens"] == "Max new tokens must be a number, like 512."


@pytest.mark.parametrize("value", ["0", "-0.5", "1.01"])
def test_top_p_must_be_more_than_0_and_at_most_1(value: str) -> None:
    assert refused(form(top_p=value)) == {"top_p": "Top-p must be more than 0 and at most 1."}
    assert parse_settings(form(top_p="1"), TINY) == ChatSettings(top_p=1.0)


def test_max_new_tokens_is_a_whole_number_from_1_to_the_models_context() -> None:
    assert refused(form(max_new_tokens="0")) == {
        "max_new_tokens": "Max new tokens must be at least 1."
    }
    assert refused(form(max_new_tokens="12.5")) == {
        "max_new_tokens": "Max new tokens must be a whole number of tokens."
    }
    too_many = refused(form(max_new_tokens="2049"))["max_new_tokens"]
    assert too_many == (
        "Max new tokens must be at most 2,048, the context window of Tiny A "
        "(the prompt and the reply share it)."
    )
    assert parse_settings(form(max_new_tokens="2048"), TINY) == ChatSettings(max_new_tokens=2048)
    assert parse_settings(form(max_new_tokens="64.0"), TINY) == ChatSettings(max_new_tokens=64)


def test_without_a_known_context_max_new_tokens_is_capped_at_the_catalog_maximum() -> None:
    anywhere = SettingsLimits()
    assert parse_settings(form(max_new_tokens=str(MAX_TOKENS)), anywhere) == ChatSettings(
        max_new_tokens=MAX_TOKENS
    )
    assert refused(form(max_new_tokens=str(MAX_TOKENS + 1)), anywhere) == {
        "max_new_tokens": f"Max new tokens must be at most {MAX_TOKENS:,}."
    }


@pytest.mark.parametrize("value", ["0.9", "2.01", "0"])
def test_a_repetition_penalty_outside_1_to_2_is_refused(value: str) -> None:
    assert refused(form(repetition_penalty=value)) == {
        "repetition_penalty": "Repetition penalty must be from 1 to 2."
    }


def test_every_bad_field_is_named_at_once() -> None:
    reasons = refused(form(temperature="-1", top_p="2", max_new_tokens="0", repetition_penalty="9"))
    assert set(reasons) == {"temperature", "top_p", "max_new_tokens", "repetition_penalty"}


def test_a_system_prompt_that_can_never_fit_the_window_is_refused() -> None:
    reasons = refused(form(system_prompt="x" * 200_000))
    assert "system prompt is too long" in reasons["system_prompt"]
    assert "2,048" in reasons["system_prompt"]
    # With no model known, the reply-time check is the one that says it.
    assert isinstance(
        parse_settings(form(system_prompt="x" * 200_000), SettingsLimits()), ChatSettings
    )


def test_the_form_shows_stored_settings_as_they_were_typed() -> None:
    shown = form_values(ChatSettings("Be brief.", 0.0, 0.95, 512, 1.0))
    assert shown == {"system_prompt": "Be brief.", "temperature": "0", "top_p": "0.95",
                     "max_new_tokens": "512", "repetition_penalty": "1"}  # fmt: skip
    assert form_values(ChatSettings())["temperature"] == ""


# -- what the model runs with -------------------------------------------------------------------


def test_a_temperature_above_0_turns_sampling_on_over_a_greedy_catalog() -> None:
    options = generation_options({"max_new_tokens": 256, "do_sample": False},
                                 ChatSettings(temperature=0.5, top_p=0.9))  # fmt: skip
    assert options == {"max_new_tokens": 256, "do_sample": True, "temperature": 0.5, "top_p": 0.9}


def test_temperature_0_is_greedy_whatever_the_catalog_samples_with() -> None:
    generation = CATALOG.models[1].generation
    options = generation_options(generation, ChatSettings(temperature=0.0))
    assert options["do_sample"] is False and "temperature" not in options
    assert ran_with(ChatSettings(temperature=0.0), options).temperature == 0.0


def test_settings_left_none_keep_the_catalog_values() -> None:
    generation = CATALOG.models[1].generation
    assert generation_options(generation, ChatSettings("Be brief.")) == dict(generation)


def test_a_max_below_the_catalogs_minimum_brings_the_minimum_down() -> None:
    options = generation_options(CATALOG.models[1].generation, ChatSettings(max_new_tokens=20))
    assert options["max_new_tokens"] == 20 and options["min_new_tokens"] == 20


def test_the_model_defaults_are_the_catalog_generation_greedy_reading_as_0() -> None:
    assert model_defaults(CATALOG.models[0].generation) == ChatSettings(
        temperature=0.0, max_new_tokens=256
    )
    assert model_defaults(CATALOG.models[1].generation) == ChatSettings(
        temperature=0.7, top_p=0.8, max_new_tokens=512, repetition_penalty=1.05
    )
    assert model_defaults({}) == ChatSettings()


def test_a_replys_settings_are_stored_and_read_back_with_it() -> None:
    info = reply_info_from({"model": "m", "settings": {"systemPrompt": "Hi", "temperature": 1}})
    assert info.settings == ChatSettings("Hi", temperature=1.0)
    record = reply_info_record(info)
    assert record["settings"] == {"systemPrompt": "Hi", "temperature": 1.0}
    assert reply_info_from({"model": "m"}).settings is None


# -- routes and catalog -------------------------------------------------------------------------


def test_settings_is_a_page_of_its_own_and_other_pages_go_to_a_new_chat() -> None:
    assert parse_hash("#/settings") == Page("settings")
    assert parse_hash("#/settings/") == Page("settings")
    assert parse_hash(page_hash("settings")) == Page("settings")
    assert parse_hash("#/chat") == NewChat()
    assert parse_hash("#/settings/x") == Redirect("#/chat")
    assert parse_hash("#/nowhere") == Redirect("#/chat")


def test_a_catalog_may_say_each_models_context_window() -> None:
    assert CATALOG.models[0].context_tokens == 2048
    assert CATALOG.models[1].context_tokens is None
    for bad in (0, -5, "lots", 1.5, True, 10**9):
        raw = {"default": "a/b", "models": [{"id": "a/b", "source": "local", "contextTokens": bad}]}
        with pytest.raises(CatalogError, match="contextTokens"):
            parse_catalog(raw)


# -- a chat's settings, end to end in core ------------------------------------------------------


class Harness(ChatHarness):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(CATALOG, {"tiny/a": "Hello from A", "tiny/b": "Greetings from B"},
                         **kwargs)  # fmt: skip


async def chat_with(h: Harness, settings: dict[str, str], text: str = "hi") -> None:
    await h.chat.open_new()
    assert await h.chat.save_settings("chat", form(**settings))
    await h.chat.send(text)


def test_the_system_prompt_goes_first_and_the_reply_records_what_it_ran_with() -> None:
    async def scenario() -> None:
        h = Harness()
        await chat_with(h, {"system_prompt": "Answer in French.", "temperature": "0.5"})
        _, turns = h.engine.generated[-1]
        assert [(t.role, t.content) for t in turns] == [
            ("system", "Answer in French."),
            ("user", "hi"),
        ]
        assert h.engine.options[-1] == {"max_new_tokens": 256, "do_sample": True,
                                        "temperature": 0.5}  # fmt: skip
        assert h.chat.conversation is not None
        stored = await h.store.list_messages(h.chat.conversation.id)
        assert stored[-1].info.settings == ChatSettings(
            "Answer in French.", temperature=0.5, max_new_tokens=256
        )
        conversation = await h.store.get_conversation(h.chat.conversation.id)
        assert conversation is not None
        assert conversation.settings == ChatSettings("Answer in French.", temperature=0.5)

    run(scenario())


def test_a_reply_records_the_models_defaults_when_nothing_was_set() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.first_exchange()
        _, turns = h.engine.generated[-1]
        assert [t.role for t in turns] == ["user"]  # no system prompt: no system turn
        assert h.chat.messages[-1].info.settings == ChatSettings(
            temperature=0.0, max_new_tokens=256
        )

    run(scenario())


def test_the_recorded_max_new_tokens_is_what_the_window_left_room_for() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.context_tokens = 600  # one token per word in the fake engine
        await chat_with(h, {"max_new_tokens": "500"}, " ".join(["word"] * 200))
        ran = h.engine.options[-1]["max_new_tokens"]
        assert ran < 500
        assert h.chat.messages[-1].info.settings == ChatSettings(
            temperature=0.0, max_new_tokens=ran
        )

    run(scenario())


def test_a_long_chat_is_trimmed_but_never_its_system_prompt() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.context_tokens = 700
        await chat_with(h, {"system_prompt": "Be kind. " * 20})
        await h.chat.send(" ".join(["old"] * 250))
        await h.chat.send(" ".join(["newer"] * 100))
        await h.chat.send("and now?")
        _, sent = h.engine.generated[-1]
        assert sent[0].role == "system" and sent[0].content.startswith("Be kind.")
        assert [t.content.split()[0] for t in sent[1:]] == ["newer", "Hello", "and"]
        assert h.chat.messages[-1].info.left_out == 4

    run(scenario())


def test_a_system_prompt_too_long_for_the_model_is_refused_before_generation() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        # Valid when saved for a model whose window is unknown; the model then says 600.
        h.chat.new_chat_settings = ChatSettings(" ".join(["rule"] * 900))
        h.engine.context_tokens = 600
        await h.chat.send("hi")
        assert h.engine.generated == []
        error = h.events.of(ErrorRaised)[-1].text
        assert "system prompt is too long" in error and "settings" in error
        assert h.chat.messages[-1].status == "error"
        assert h.chat.messages[-1].info.settings is not None

    run(scenario())


def test_regenerate_uses_the_settings_saved_since() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.first_exchange()
        assert await h.chat.save_settings("chat", form(temperature="1.5", top_p="0.5"))
        await h.chat.regenerate()
        assert h.engine.options[-1]["temperature"] == 1.5
        assert h.engine.options[-1]["top_p"] == 0.5
        settings = h.chat.messages[-1].info.settings
        assert settings is not None and settings.temperature == 1.5

    run(scenario())


def test_invalid_settings_store_nothing_and_say_why_per_field() -> None:
    async def scenario() -> None:
        h = Harness()
        cid = await h.first_exchange()
        for raw in (form(temperature="-1"), form(max_new_tokens="0"),
                    form(max_new_tokens="4096", system_prompt="Ignored too")):  # fmt: skip
            assert not await h.chat.save_settings("chat", raw)
        refusals = h.events.of(SettingsRefused)
        assert [list(r.reasons) for r in refusals] == [
            ["temperature"],
            ["max_new_tokens"],
            ["max_new_tokens"],
        ]
        assert "2,048" in refusals[-1].reasons["max_new_tokens"]
        stored = await h.store.get_conversation(cid)
        assert stored is not None and stored.settings == ChatSettings()
        assert h.events.of(SettingsSaved) == []

    run(scenario())


def test_a_loaded_models_own_context_window_bounds_max_new_tokens() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.chat.open_new()
        await h.chat.set_model("quick")  # tiny/b: the catalog does not say its window
        assert await h.chat.save_settings("chat", form(max_new_tokens="30000"))
        h.engine.context_tokens = 1024
        await h.chat.send("hi")  # loads tiny/b, which says 1024
        assert not await h.chat.save_settings("chat", form(max_new_tokens="2000"))
        assert "at most 1,024" in h.events.of(SettingsRefused)[-1].reasons["max_new_tokens"]
        await h.chat.show_settings()
        shown = h.events.of(SettingsShown)[-1]
        assert shown.limits == SettingsLimits(1024, "Tiny B")
        assert shown.model_defaults.temperature == 0.7

    run(scenario())


def test_new_chats_start_with_the_stored_defaults() -> None:
    async def scenario() -> None:
        h = Harness()
        assert await h.chat.save_settings("defaults", form(system_prompt="Be brief.",
                                                           max_new_tokens="64"))  # fmt: skip
        assert await h.store.get_defaults() == ChatSettings("Be brief.", max_new_tokens=64)
        await h.first_exchange()
        assert h.chat.conversation is not None
        assert h.chat.conversation.settings == ChatSettings("Be brief.", max_new_tokens=64)
        _, turns = h.engine.generated[-1]
        assert turns[0].content == "Be brief."
        assert h.engine.options[-1]["max_new_tokens"] == 64

    run(scenario())


def test_defaults_are_bounded_by_the_catalog_maximum_not_one_models_window() -> None:
    async def scenario() -> None:
        h = Harness()
        assert await h.chat.save_settings("defaults", form(max_new_tokens="4096"))
        assert not await h.chat.save_settings("defaults", form(temperature="3"))
        assert await h.store.get_defaults() == ChatSettings(max_new_tokens=4096)
        await h.chat.show_default_settings()
        shown = h.events.of(SettingsShown)[-1]
        assert shown.scope == "defaults" and shown.limits == SettingsLimits()
        assert shown.settings == ChatSettings(max_new_tokens=4096)
        # A chat of a smaller model asks for what its window leaves room for.
        h.engine.context_tokens = 2048
        await h.first_exchange()
        assert h.engine.options[-1]["max_new_tokens"] < 2048

    run(scenario())


def test_a_new_chats_panel_edits_what_it_will_be_created_with() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.store.put_defaults(ChatSettings("From defaults."))
        await h.chat.open_new()
        await h.chat.show_settings()
        shown = h.events.of(SettingsShown)[-1]
        assert shown.scope == "chat" and shown.settings == ChatSettings("From defaults.")
        assert shown.limits == SettingsLimits(2048, "Tiny A")
        assert shown.model_defaults == ChatSettings(temperature=0.0, max_new_tokens=256)
        assert await h.chat.save_settings("chat", form(system_prompt="Just this chat."))
        assert h.chat.conversation is None  # nothing created before the first message
        assert await h.store.list_conversations() == []
        await h.chat.show_settings()
        assert h.events.of(SettingsShown)[-1].settings == ChatSettings("Just this chat.")
        await h.chat.send("hi")
        assert h.chat.conversation is not None
        assert h.chat.conversation.settings == ChatSettings("Just this chat.")
        # The next new chat starts from the defaults again.
        await h.chat.open_new()
        await h.chat.send("again")
        assert h.chat.conversation.settings == ChatSettings("From defaults.")

    run(scenario())


def test_a_store_that_refuses_the_settings_says_so_in_the_form() -> None:
    async def scenario() -> None:
        h = Harness()
        await h.first_exchange()

        async def full(*_args: Any) -> Any:
            raise StoreError("The disk is full.")

        h.store.update_conversation = full  # type: ignore[method-assign,assignment]
        assert not await h.chat.save_settings("chat", form(temperature="1"))
        reasons = h.events.of(SettingsRefused)[-1].reasons
        assert reasons == {FORM: "The settings were not saved. The disk is full."}
        assert h.chat.conversation is not None
        assert h.chat.conversation.settings == ChatSettings()

    run(scenario())


def test_settings_saved_in_one_tab_reach_the_other_showing_that_chat() -> None:
    async def scenario() -> None:
        store, locks, hub = MemoryStore(), LocalTurnLocks(), LocalBroadcast()
        a = Harness(store=store, locks=locks, hub=hub, tab="a")
        b = Harness(store=store, locks=locks, hub=hub, tab="b")
        cid = await a.first_exchange()
        await b.chat.open(cid)
        assert await a.chat.save_settings("chat", form(system_prompt="Shared."))
        for _ in range(20):
            await asyncio.sleep(0)
        assert b.chat.conversation is not None
        assert b.chat.conversation.settings == ChatSettings("Shared.")
        assert b.events.of(ConversationOpened)[-1].refreshed
        await b.chat.send("and you?")
        _, turns = b.engine.generated[-1]
        assert turns[0].content == "Shared."

    run(scenario())


def test_leaving_for_the_settings_page_stops_a_reply_and_saves_it() -> None:
    async def scenario() -> None:
        h = Harness()
        h.engine.chunk_pause = asyncio.Event()
        await h.chat.open_new()
        sending = asyncio.ensure_future(h.chat.send("hi"))
        while not h.chat.streaming or not h.engine.generated:
            await asyncio.sleep(0)
        closing = asyncio.ensure_future(h.chat.close())
        await asyncio.sleep(0)
        h.engine.chunk_pause.set()
        await closing
        await sending
        assert h.chat.conversation is None and h.chat.messages == []
        stored = (await h.store.list_conversations())[0]
        reply = (await h.store.list_messages(stored.id))[-1]
        assert reply.status == "stopped"

    run(scenario())
