"""The chat: opening conversations, sending, streaming a reply, stopping, and what gets saved.

A DOM event becomes a call here; this changes state, calls the ports (store, loader, engine)
and reports every change as an event. The user's message is stored before generation starts;
the reply is stored when it ends and, while it streams, at least once a second.

Each conversation owns its model target. Opening a conversation queues the model it needs;
switching the target mid-chat is stored at once (without moving the conversation in the
sidebar) and the next reply uses the new model with the whole conversation as context. A
switch whose model fails to load rolls the target back to the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import replace

from .catalog import Catalog, ModelEntry
from .conversations import Conversation, Message, MessageStatus, title_from
from .errors import GenerationError, LoadCanceled, ModelLoadError, ParlanceError
from .events import (
    ConversationNotFound,
    ConversationOpened,
    ConversationsListed,
    ErrorRaised,
    EventSink,
    MessageAdded,
    MessageRemoved,
    MessageUpdated,
    ModelWanted,
    ReplyMetrics,
    StreamingChanged,
    TargetChanged,
)
from .loader import ModelLoader
from .ports import ChatTurn, Clock, Engine, Ids, LoadedModel, Store
from .targets import ModelChoice


class _Keep:
    """`send(model=KEEP)`: keep the conversation's own target for this turn."""


KEEP = _Keep()

AUTOSAVE_INTERVAL_MS = 1000.0


class Chat:
    def __init__(
        self,
        *,
        catalog: Catalog,
        store: Store,
        loader: ModelLoader,
        engine: Engine,
        clock: Clock,
        ids: Ids,
        emit: EventSink,
        choice: ModelChoice | None = None,
    ) -> None:
        # The catalog lives in the choice: one source for resolving and for naming models.
        self.choice = choice or ModelChoice(catalog)
        self._store = store
        self._loader = loader
        self._engine = engine
        self._clock = clock
        self._ids = ids
        self._emit = emit
        self.conversation: Conversation | None = None
        self.messages: list[Message] = []
        # The model a new chat will ask for (None: the catalog default).
        self.new_chat_target: str | None = None
        self._streaming = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._preload: asyncio.Task[None] | None = None
        self._list_refresh: asyncio.Future[None] | None = None

    @property
    def streaming(self) -> bool:
        return self._streaming

    @property
    def target(self) -> str | None:
        """The model the open conversation asks for (a preset, an id, or None for default)."""
        return self.conversation.model if self.conversation else self.new_chat_target

    # -- opening -------------------------------------------------------------------------

    async def open_new(self) -> None:
        """`#/chat`: an empty chat that targets the default model."""
        await self._halt()
        self.conversation = None
        self.messages = []
        self.new_chat_target = None
        self._emit(ConversationOpened(None, ()))
        self._announce_target()
        await self.refresh_list()
        self._queue_target_model()

    async def open(self, conversation_id: str) -> bool:
        """Show a stored conversation and queue its model; False (nothing written) if unknown."""
        await self._halt()
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None:
            self.conversation = None
            self.messages = []
            self._emit(ConversationNotFound(conversation_id))
            await self.refresh_list()
            return False
        self.conversation = conversation
        self.messages = await self._settle_interrupted(
            await self._store.list_messages(conversation_id)
        )
        self._emit(ConversationOpened(conversation, tuple(self.messages)))
        self._announce_target()
        await self.refresh_list()
        self._queue_target_model()
        return True

    async def _settle_interrupted(self, messages: list[Message]) -> list[Message]:
        """A reply still marked streaming was cut off (the page closed): it ends stopped."""
        settled = []
        for message in messages:
            if message.status == "streaming":
                message = replace(message, status="stopped")
                await self._store.update_message(message)
            settled.append(message)
        return settled

    async def _halt(self) -> None:
        """Stop a streaming reply (it is saved as stopped) before the view changes chats."""
        if self._streaming:
            self._engine.interrupt()
            await self._idle.wait()

    async def refresh_list(self) -> None:
        conversations = await self._store.list_conversations()
        current = self.conversation.id if self.conversation else None
        self._emit(ConversationsListed(tuple(conversations), current))

    # -- managing conversations ----------------------------------------------------------

    async def rename(self, conversation_id: str, title: str) -> None:
        """Give a conversation the user's title (blank keeps the old one); order is kept."""
        title = " ".join(title.split())
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None or not title or title == conversation.title:
            return
        renamed = replace(conversation, title=title)
        await self._store.save_conversation(renamed)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = renamed
        await self.refresh_list()

    async def delete(self, conversation_id: str) -> bool:
        """Delete a conversation and its messages. True when it was the open one."""
        was_open = self.conversation is not None and self.conversation.id == conversation_id
        if was_open:
            await self._halt()
        await self._store.delete_conversation(conversation_id)
        if was_open:
            self.conversation = None
            self.messages = []
        await self.refresh_list()
        return was_open

    # -- the model target -----------------------------------------------------------------

    async def set_model(self, target: str | None) -> None:
        """Point the open chat at another model (None: the default) and load it.

        The target is stored at once; if its model then fails to load, the previous target
        comes back and the error says why. Setting does not validate: a target that is not in
        the catalog stays set, and the next reply fails saying so.
        """
        previous = self.target
        if target == previous:
            return
        await self._apply_target(target)
        entry = self.choice.resolve(target)
        if entry is None:
            return
        try:
            await self._request(entry)
        except LoadCanceled:
            return
        except ParlanceError as exc:
            if self.target == target:
                await self._apply_target(previous)
                back_to = self.choice.describe(previous)
                self._emit(ErrorRaised(f"{exc}. Staying with {back_to}."))

    async def _apply_target(self, target: str | None) -> None:
        """Store a target; writing it never changes updatedAt (sidebar order is message-driven)."""
        if self.conversation is None:
            self.new_chat_target = target
        else:
            self.conversation = replace(self.conversation, model=target)
            await self._store.save_conversation(self.conversation)
        self._announce_target()

    def _announce_target(self) -> None:
        self._emit(TargetChanged(self.target, self.choice.describe(None)))

    async def refresh_availability(self) -> None:
        """Check which models are usable now, and show what the default resolves to."""
        await self.choice.refresh()
        self._announce_target()

    def _queue_target_model(self) -> None:
        """Start loading what the open chat needs, so the first reply does not wait for it."""
        entry = self.choice.resolve(self.target)
        if entry is None:
            return
        self._preload = asyncio.ensure_future(self._preload_model(entry))

    async def _preload_model(self, entry: ModelEntry) -> None:
        # A failure shows in the model status; a send reports it in the chat.
        with contextlib.suppress(ParlanceError):
            await self._request(entry)

    async def _request(self, entry: ModelEntry) -> LoadedModel:
        self._emit(ModelWanted(entry.id))
        loaded = await self._loader.request(entry)
        self.choice.mark_usable(entry.id)
        return loaded

    # -- sending -------------------------------------------------------------------------

    async def send(self, text: str, model: str | _Keep | None = KEEP) -> bool:
        """Send a user message and stream the reply. False when there was nothing to send.

        `model`, when given, answers this turn and becomes the conversation's target.
        """
        if not text.strip() or self._streaming:
            return False
        self._set_streaming(True)
        stored = False
        try:
            conversation = await self._ensure_conversation(text)
            if not isinstance(model, _Keep) and model != conversation.model:
                await self._apply_target(model)
            user = Message(
                id=self._ids.new_id(),
                conversation_id=conversation.id,
                role="user",
                content=text,
                created_at=self._timestamp(),
            )
            await self._store.append_message(user)
            stored = True
            self.messages.append(user)
            await self._touch(user.created_at)
            self._emit(MessageAdded(user))
            await self._reply()
        except ParlanceError as exc:
            self._emit(ErrorRaised(str(exc), unsent=None if stored else text))
        finally:
            self._set_streaming(False)
        return True

    def stop(self) -> None:
        if self._streaming:
            self._engine.interrupt()

    @property
    def can_regenerate(self) -> bool:
        return not self._streaming and bool(self.messages) and self.messages[-1].role == "assistant"

    async def regenerate(self) -> bool:
        """Replace the last reply with a new one for the same user message."""
        if not self.can_regenerate:
            return False
        self._set_streaming(True)
        try:
            old = self.messages.pop()
            await self._store.delete_message(old)
            self._emit(MessageRemoved(old.id))
            await self._reply()
        except ParlanceError as exc:
            self._emit(ErrorRaised(str(exc)))
        finally:
            self._set_streaming(False)
        return True

    def _timestamp(self) -> int:
        """Now, but strictly after the open conversation's last message (stable order)."""
        now = self._clock.wall_ms()
        if self.messages:
            now = max(now, self.messages[-1].created_at + 1)
        return now

    async def _ensure_conversation(self, first_text: str) -> Conversation:
        if self.conversation is not None:
            return self.conversation
        now = self._clock.wall_ms()
        conversation = Conversation(
            id=self._ids.new_id(),
            title=title_from(first_text),
            model=self.new_chat_target,
            created_at=now,
            updated_at=now,
        )
        await self._store.save_conversation(conversation)
        self.conversation = conversation
        self._emit(ConversationOpened(conversation, tuple(self.messages), created=True))
        self._refresh_list_soon()
        return conversation

    async def _touch(self, when: int) -> None:
        """Message activity moves the conversation up the sidebar."""
        assert self.conversation is not None
        self.conversation = replace(self.conversation, updated_at=when)
        await self._store.save_conversation(self.conversation)
        self._refresh_list_soon()

    def _refresh_list_soon(self) -> None:
        """Refresh the sidebar off the reply's critical path (one refresh at a time)."""
        if self._list_refresh is None or self._list_refresh.done():
            self._list_refresh = asyncio.ensure_future(self._refresh_list_quietly())

    async def _refresh_list_quietly(self) -> None:
        try:
            await self.refresh_list()
        except ParlanceError as exc:
            self._emit(ErrorRaised(str(exc)))

    async def _reply(self) -> None:
        assert self.conversation is not None
        target = self.conversation.model
        entry = self.choice.resolve(target)
        if entry is None:
            name = target or self.choice.catalog.default
            raise ModelLoadError(name, "this model is not in the catalog")
        placement = self._loader.placement(entry)
        reply = Message(
            id=self._ids.new_id(),
            conversation_id=self.conversation.id,
            role="assistant",
            content="",
            created_at=self._timestamp(),
            status="streaming",
            metadata={"model": entry.id, "dtype": placement.dtype, "device": placement.device},
        )
        turns = [ChatTurn(m.role, m.content) for m in self.messages if m.status != "error"]
        # The reply is first written by the autosave or when it ends (the store upserts):
        # nothing stands between the user's stored message and the model.
        self.messages.append(reply)
        self._emit(MessageAdded(reply))
        try:
            loaded = await self._request(entry)
        except ParlanceError as exc:
            await self._finish(reply, "error", {"error": str(exc)})
            raise
        await self._stream(reply, loaded, entry, turns)

    async def _stream(
        self, reply: Message, loaded: LoadedModel, entry: ModelEntry, turns: list[ChatTurn]
    ) -> None:
        started = self._clock.monotonic_ms()
        first_token_at: float | None = None
        last_saved = started
        current = reply
        pending_saves: set[asyncio.Task[None]] = set()

        def on_text(chunk: str) -> None:
            nonlocal current, first_token_at, last_saved
            now = self._clock.monotonic_ms()
            if first_token_at is None:
                first_token_at = now
            current = current.with_content(current.content + chunk)
            self._replace(current)
            self._emit(MessageUpdated(current))
            if now - last_saved >= AUTOSAVE_INTERVAL_MS:
                last_saved = now
                task = asyncio.ensure_future(self._store.update_message(current))
                pending_saves.add(task)
                task.add_done_callback(pending_saves.discard)

        try:
            stats = await self._engine.generate(loaded, turns, entry.generation, on_text)
        except ParlanceError as exc:
            await self._finish(current, "error", {"error": str(exc)})
            raise
        except Exception as exc:
            error = GenerationError(entry.id, f"{type(exc).__name__}: {exc}")
            await self._finish(current, "error", {"error": str(error)})
            raise error from exc
        finally:
            if pending_saves:
                await asyncio.gather(*pending_saves, return_exceptions=True)
        ended = self._clock.monotonic_ms()
        response_ms = ended - started
        decode_ms = ended - (first_token_at if first_token_at is not None else started)
        decode_tokens = max(stats.tokens - 1, 0)
        tokens_per_second = decode_tokens * 1000.0 / decode_ms if decode_ms > 0 else 0.0
        metadata = {
            "model": loaded.id,
            "dtype": loaded.dtype,
            "device": loaded.device,
            "tokens": stats.tokens,
            "tokensPerSecond": round(tokens_per_second, 2),
            "durationMs": round(response_ms, 1),
            "firstTokenMs": round((first_token_at or ended) - started, 1),
        }
        await self._finish(current, "stopped" if stats.stopped else "done", metadata)
        first_token_ms = (first_token_at or ended) - started
        self._emit(ReplyMetrics(reply.id, tokens_per_second, response_ms, first_token_ms))

    async def _finish(
        self, message: Message, status: MessageStatus, metadata: Mapping[str, object]
    ) -> None:
        latest = next((m for m in self.messages if m.id == message.id), message)
        final = replace(latest, status=status, metadata={**latest.metadata, **metadata})
        self._replace(final)
        self._emit(MessageUpdated(final))
        await self._store.update_message(final)
        await self._touch(self._clock.wall_ms())

    def _replace(self, message: Message) -> None:
        for i, existing in enumerate(self.messages):
            if existing.id == message.id:
                self.messages[i] = message
                return

    def _set_streaming(self, streaming: bool) -> None:
        self._streaming = streaming
        if streaming:
            self._idle.clear()
        else:
            self._idle.set()
        self._emit(StreamingChanged(streaming, self.can_regenerate))
