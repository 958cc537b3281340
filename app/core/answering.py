"""Producing one assistant reply: the model, the context that fits it, the stream, the record.

The Chat decides when a reply is due (a send or a regenerate) and owns the list on screen;
this module makes the reply: it waits for the model (or for Stop, whichever comes first),
applies the conversation's settings (settings.py: its system prompt as the first turn, its
values over the model's catalog `generation`), fits the history into the model's window
(context.py; the system prompt is never left out), streams the text through a ReplyWriter
(reply.py), and records what produced it (model, dtype, device, the settings it ran with,
figures, and how many earlier messages were left out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from .catalog import ModelEntry
from .context import TURN_OVERHEAD_TOKENS, DoesNotFit, fit_turns, surely_too_long
from .conversations import ChatSettings, Conversation, Message, MessageStatus, ReplyInfo
from .errors import ContextOverflow, GenerationError, ParlanceError, StoreError
from .events import EventSink, MessageAdded, ReplyMetrics
from .loader import Placement
from .ports import ChatTurn, Clock, Engine, Ids, LoadedModel, StopSignal, Store
from .reply import ReplyWriter
from .settings import generation_options, ran_with, sampled

T = TypeVar("T")


@dataclass(frozen=True)
class Prompt:
    turns: list[ChatTurn]
    left_out: int
    options: dict[str, object]
    # The settings it runs with (ReplyInfo.settings).
    settings: ChatSettings


class Answering:
    def __init__(
        self,
        *,
        store: Store,
        engine: Engine,
        clock: Clock,
        ids: Ids,
        emit: EventSink,
        request: Callable[[ModelEntry], Awaitable[LoadedModel]],
        placement: Callable[[ModelEntry], Placement],
    ) -> None:
        self._store = store
        self._engine = engine
        self._clock = clock
        self._ids = ids
        self._emit = emit
        self._request = request
        self._placement = placement
        # Token counts of message texts (by message id) and of system prompts (by text), per
        # model tokenizer: each text is counted once.
        self._token_counts: dict[tuple[str, str, str], int] = {}

    async def reply(
        self,
        *,
        conversation: Conversation,
        history: list[Message],
        entry: ModelEntry,
        created_at: int,
        stop: StopSignal,
        show: Callable[[Message], None],
        regenerating: bool = False,
        question_stored: Callable[[], Awaitable[object]] | None = None,
    ) -> Message:
        """Answer `history` (the branch on screen, which ends with the user's message) in
        `conversation`; when `regenerating`, the reply is a new sibling of the replies
        already given to that message.

        `show` is called with the reply whenever it changes (it was announced with
        MessageAdded first). Raises ParlanceError after storing the reply as an error.
        `question_stored`, when given, is the user's message still on its way to the store
        (sending.py): the reply's first write waits for it, and fails with its error.
        """
        placement = self._placement(entry)
        settings = conversation.settings
        options = generation_options(entry.generation, settings)
        if regenerating:
            options = sampled(options, settings)
        reply = Message(
            id=self._ids.new_id(),
            conversation_id=conversation.id,
            role="assistant",
            content="",
            created_at=created_at,
            status="streaming",
            info=ReplyInfo(
                model=entry.id,
                # A remote model's weights and device are its server's: the record names the
                # server instead.
                dtype=None if entry.remote else placement.dtype,
                device=None if entry.remote else placement.device,
                settings=ran_with(settings, options),
                host=entry.host,
            ),
            parent_id=history[-1].id if history else None,
        )
        history = [m for m in history if m.status != "error"]
        self._emit(MessageAdded(reply))
        writer = ReplyWriter(
            store=self._store,
            clock=self._clock,
            reply=reply,
            show=show,
            on_gone=stop.stop,
            branch=regenerating,
            after=question_stored,
        )
        try:
            loaded = await _unless_stopped(self._request(entry), stop)
            if loaded is None:
                return await self._end(writer, "stopped", writer.current.info, regenerating)
            prompt = await self._prompt(loaded, entry, history, settings, options)
        except ParlanceError as exc:
            await self._end(writer, "error", _failed(writer, exc), regenerating)
            raise
        return await self._stream(writer, loaded, entry, prompt, stop, regenerating)

    async def _prompt(
        self,
        loaded: LoadedModel,
        entry: ModelEntry,
        messages: list[Message],
        settings: ChatSettings,
        options: dict[str, object],
    ) -> Prompt:
        """The turns that fit the model's window (the system prompt first, always kept), how
        many were left out, and the options (max_new_tokens cut to the room left)."""
        options = dict(options)
        system = settings.system_prompt.strip()
        turns = [ChatTurn("system", system)] if system else []
        turns += [ChatTurn(m.role, m.content) for m in messages]
        context = loaded.context_tokens or entry.context_tokens
        if not context or not messages:
            return Prompt(turns, 0, options, ran_with(settings, options))
        asked = options.get("max_new_tokens")
        max_new = asked if isinstance(asked, int) else None
        if system and surely_too_long(system, context, max_new):
            raise ContextOverflow(entry.id, entry.label, len(system) // 4, context, "system")
        newest = messages[-1]
        if surely_too_long(newest.content, context, max_new):
            raise ContextOverflow(entry.id, entry.label, len(newest.content) // 4, context)
        # Each text with its cache key: a system prompt by its text, a message by its id.
        texts = [(("s", system), system)] if system else []
        texts += [(("m", m.id), m.content) for m in messages]
        counts = await self._count_tokens(loaded, texts)
        try:
            fitted = fit_turns(turns, counts, context, max_new)
        except DoesNotFit as exc:
            # The system prompt alone over the budget: that is what to shorten.
            alone = bool(system) and counts[0] + TURN_OVERHEAD_TOKENS > exc.limit
            part: Literal["message", "system"] = "system" if alone else "message"
            raise ContextOverflow(entry.id, entry.label, exc.tokens, exc.limit, part) from exc
        options["max_new_tokens"] = fitted.max_new_tokens
        return Prompt(fitted.turns, fitted.left_out, options, ran_with(settings, options))

    async def _count_tokens(
        self, loaded: LoadedModel, texts: list[tuple[tuple[str, str], str]]
    ) -> list[int]:
        cached = self._token_counts
        missing = [(key, text) for key, text in texts if (loaded.id, *key) not in cached]
        if missing:
            counts = await self._engine.count_tokens(loaded, [text for _, text in missing])
            for (key, _), count in zip(missing, counts, strict=True):
                cached[(loaded.id, *key)] = count
        return [cached[(loaded.id, *key)] for key, _ in texts]

    async def _stream(
        self,
        writer: ReplyWriter,
        loaded: LoadedModel,
        entry: ModelEntry,
        prompt: Prompt,
        stop: StopSignal,
        regenerating: bool,
    ) -> Message:
        started = self._clock.monotonic_ms()
        try:
            stats = await self._engine.generate(
                loaded, prompt.turns, prompt.options, writer.append, stop
            )
        except ParlanceError as exc:
            await self._end(writer, "error", _failed(writer, exc), regenerating)
            raise
        except Exception as exc:
            error = GenerationError(entry.id, f"{type(exc).__name__}: {exc}")
            await self._end(writer, "error", _failed(writer, error), regenerating)
            raise error from exc
        ended = self._clock.monotonic_ms()
        first_text_at = writer.first_text_at if writer.first_text_at is not None else ended
        response_ms = ended - started
        decode_ms = ended - first_text_at
        decode_tokens = max(stats.tokens - 1, 0)
        tokens_per_second = decode_tokens * 1000.0 / decode_ms if decode_ms > 0 else 0.0
        info = ReplyInfo(
            model=loaded.id,
            dtype=None if entry.remote else loaded.dtype,
            device=None if entry.remote else loaded.device,
            host=entry.host,
            completion_tokens=stats.completion_tokens,
            tokens=stats.tokens,
            tokens_per_second=round(tokens_per_second, 2),
            duration_ms=round(response_ms, 1),
            first_token_ms=round(first_text_at - started, 1),
            left_out=prompt.left_out,
            prompt_tokens=stats.prompt_tokens,
            # A server's cache is its own: only the browser's engine says what it reused.
            reused_tokens=(
                None if stats.prompt_tokens is None or entry.remote else stats.reused_tokens
            ),
            settings=prompt.settings,
        )
        status: MessageStatus = "stopped" if stats.stopped or stop.stopped else "done"
        final = await self._end(writer, status, info, regenerating)
        self._emit(ReplyMetrics(final.id, tokens_per_second, response_ms, first_text_at - started))
        return final

    async def _end(
        self,
        writer: ReplyWriter,
        status: MessageStatus,
        info: ReplyInfo,
        regenerating: bool,
    ) -> Message:
        try:
            return await writer.finish(status, info, self._clock.wall_ms())
        except StoreError as exc:
            if regenerating and type(exc) is StoreError:
                raise StoreError(f"{exc} The previous reply is kept.") from exc
            raise


def _failed(writer: ReplyWriter, exc: Exception) -> ReplyInfo:
    return replace(writer.current.info, error=str(exc))


async def _unless_stopped(work: Awaitable[T], stop: StopSignal) -> T | None:
    """The result of `work`, or None as soon as `stop` is set (the work goes on alone: a model
    load that others may want is not canceled)."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    stopped: asyncio.Future[T] = asyncio.get_running_loop().create_future()

    def on_stop() -> None:
        if not stopped.done():
            stopped.cancel()

    unsubscribe = stop.on_stop(on_stop)
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        unsubscribe()
        stopped.cancel()
    if task.done():
        return task.result()
    task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
    return None
