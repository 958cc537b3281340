"""The chat: opening conversations, sending, streaming a reply, stopping, and what gets saved.

A DOM event becomes a call here; this changes state, calls the ports (store, loader, engine,
turn locks, broadcast) and reports every change as an event.

- Each turn (a send or a regenerate) has its own StopSignal from its first line: Stop, leaving
  the chat or deleting it ends the turn at once, also while the model is still loading.
- A turn holds its conversation's turn lock (one answering tab per chat) and stores the user's
  message only if the conversation still ends where this tab last saw it; otherwise the tab
  re-reads the chat and hands the message back. See tabs.py and reply.py.
- Each conversation owns its model target (targeting.py); a reply uses the target's model with
  the whole conversation as context, trimmed to the model's window (answering.py, context.py).
- Each conversation owns its generation settings (configuring.py); a new chat starts with the
  stored defaults, or with what its panel set before the first message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .answering import Answering
from .branching import Branching
from .catalog import Catalog
from .configuring import Configuring
from .conversations import ChatSettings, Conversation, Message, is_blank, settled
from .errors import (
    ConversationGone,
    HistoryChanged,
    ModelLoadError,
    ParlanceError,
    StoreError,
)
from .events import (
    ConversationOpened,
    ErrorRaised,
    Event,
    EventSink,
    MessageAdded,
    MessageUpdated,
    StreamingChanged,
)
from .loader import ModelLoader
from .memory import LocalBroadcast, LocalTurnLocks
from .ports import (
    Clock,
    ConversationChange,
    Engine,
    Ids,
    StopSignal,
    Store,
)
from .sending import Sending
from .sync import TabSync
from .tabs import (
    Broadcast,
    ConversationChanged,
    ListChanged,
    MessageLive,
    TurnLease,
    TurnLocks,
)
from .targets import ModelChoice


class Chat(Sending, Configuring, Branching, TabSync):
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
        locks: TurnLocks | None = None,
        broadcast: Broadcast | None = None,
    ) -> None:
        super().__init__()
        # The catalog lives in the choice: one source for resolving and for naming models.
        self.choice = choice or ModelChoice(catalog)
        self._store = store
        self._loader = loader
        self._engine = engine
        self._clock = clock
        self._ids = ids
        self._emit = emit
        self._locks: TurnLocks = locks or LocalTurnLocks()
        self._broadcast: Broadcast = broadcast or LocalBroadcast().tab()
        self.conversation: Conversation | None = None
        self.messages: list[Message] = []
        # The model a new chat will ask for (None: the catalog default).
        self.new_chat_target: str | None = None
        # The settings a new chat will be created with (None: the stored defaults).
        self.new_chat_settings: ChatSettings | None = None
        self._turn: StopSignal | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._preload: asyncio.Task[None] | None = None
        self._answering = Answering(
            store=store,
            engine=engine,
            clock=clock,
            ids=ids,
            emit=self._announce_reply,
            request=self._request,
            placement=loader.placement,
        )

    @property
    def streaming(self) -> bool:
        return self._turn is not None

    # -- opening -------------------------------------------------------------------------

    async def open_new(self) -> None:
        """`#/chat`: an empty chat that targets the default model."""
        await self._halt()
        self._leave_remote_turn()
        self.conversation = None
        self.messages = []
        self.has_older = False
        self.new_chat_target = None
        self.new_chat_settings = None
        self._emit(ConversationOpened(None, ()))
        self._announce_target()
        await self.refresh_list()
        self._queue_target_model()

    async def open(
        self, conversation_id: str, *, lane: str | None = None, focus: str | None = None
    ) -> bool:
        """Show a stored conversation and queue its model; False (nothing written) if unknown.

        It opens on the branch last shown, or on `lane` (tree.py), showing its newest page
        (paging.py); `focus` is a message to bring into view (a search result)."""
        await self._halt()
        self._leave_remote_turn()
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None:
            self.conversation = None
            self.messages = []
            self._not_found(conversation_id)
            await self.refresh_list()
            return False
        self.conversation = conversation
        answering_elsewhere = await self._locks.held_elsewhere(conversation_id)
        branch = await self._read_page(conversation_id, lane, through=focus)
        messages = branch.messages
        self.messages = messages if answering_elsewhere else settled(messages)
        shown = tuple(self.messages)
        self._emit(
            ConversationOpened(
                conversation, shown, siblings=branch.siblings, focus=focus, has_older=self.has_older
            )
        )
        self._announce_target()
        if answering_elsewhere:
            self._enter_remote_turn(conversation_id)
        else:
            await self._store_settled(messages)
        if lane is not None and branch.lane != conversation.lane:
            await self._remember_branch(branch.lane)
        await self.refresh_list()
        self._queue_target_model()
        return True

    async def close(self) -> None:
        """Leave the open chat for a page of its own (`#/settings`): as when another chat is
        opened, a reply that streams stops and is saved."""
        await self._halt()
        self._leave_remote_turn()
        self.conversation = None
        self.messages = []
        await self.refresh_list()

    async def _store_settled(self, before: list[Message]) -> None:
        for old, new in zip(before, self.messages, strict=True):
            if old.status == new.status:
                continue
            try:
                await self._store.put_message(new)
            except StoreError as exc:
                # Shown already; the stored record stays as it was and settles next time.
                self._emit(ErrorRaised(f"Could not mark an interrupted reply as stopped. {exc}"))
                return

    async def _halt(self) -> None:
        """End the turn in progress (its reply is saved as stopped) before the view changes."""
        if self._turn is not None:
            self._turn.stop()
            await self._idle.wait()

    # -- managing conversations ----------------------------------------------------------

    async def rename(self, conversation_id: str, title: str) -> None:
        """Give a conversation the user's title (blank keeps the old one); order is kept."""
        title = " ".join(title.split())
        if is_blank(title):
            return
        try:
            renamed = await self._store.update_conversation(
                conversation_id, ConversationChange(title=title)
            )
        except ConversationGone:
            await self.refresh_list()
            return
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = renamed
        self._broadcast.publish(ConversationChanged(conversation_id))
        await self.refresh_list()

    async def delete(self, conversation_id: str) -> bool:
        """Delete a conversation and its messages. True when it was the open one."""
        was_open = self.conversation is not None and self.conversation.id == conversation_id
        if was_open:
            await self._halt()
        await self._store.delete_conversation(conversation_id)
        self._announce_deleted(conversation_id)
        if was_open:
            self._leave_remote_turn()
            self.conversation = None
            self.messages = []
        await self.refresh_list()
        return was_open

    # -- turns ---------------------------------------------------------------------------

    def _begin_turn(self) -> StopSignal:
        self._turn = StopSignal()
        self._idle.clear()
        self._emit(StreamingChanged(True, False))
        return self._turn

    def _end_turn(self) -> None:
        self._turn = None
        self._idle.set()
        self._emit(StreamingChanged(False, self.can_regenerate))

    def stop(self) -> None:
        """Stop the turn in progress, whatever it is doing (loading, or streaming)."""
        if self._turn is not None:
            self._turn.stop()

    async def _take_turn(self, conversation_id: str) -> TurnLease:
        """The conversation's turn lock, or StoreError when another tab is answering there."""
        lease = await self._locks.acquire(conversation_id)
        if lease is None:
            raise StoreError("This chat is answering in another tab; wait for it to finish.")
        self._turn_started(conversation_id)
        return lease

    def _user_message(self, text: str, parent_id: str | None) -> Message:
        assert self.conversation is not None
        return Message(
            id=self._ids.new_id(),
            conversation_id=self.conversation.id,
            role="user",
            content=text,
            created_at=self._timestamp(),
            parent_id=parent_id,
        )

    def _refusal(self) -> str | None:
        if self._turn is not None:
            return "A reply is still being written; send again when it ends."
        if self.answering_elsewhere:
            return "This chat is answering in another tab; wait for it to finish."
        return None

    def _turn_failed(
        self, exc: ParlanceError, unsent: str | None = None, *, resync: bool = False
    ) -> None:
        """Say what failed. When the store holds something else than the screen (another tab
        changed the chat, or a regenerate kept the old reply), show what is stored; a reply
        the store refused stays on screen, marked as not saved."""
        if resync or isinstance(exc, HistoryChanged | ConversationGone):
            self._resync_soon()
        if isinstance(exc, HistoryChanged) and unsent is not None:
            message = f"{exc} Your message is back in the input."
        else:
            message = str(exc)
        self._emit(ErrorRaised(message, unsent=unsent))

    def _timestamp(self) -> int:
        """Now, but strictly after the open conversation's last message (stable order)."""
        now = self._clock.wall_ms()
        if self.messages:
            now = max(now, self.messages[-1].created_at + 1)
        return now

    # -- replying ------------------------------------------------------------------------

    async def _reply(
        self,
        stop: StopSignal,
        *,
        regenerating: bool = False,
        question_stored: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        assert self.conversation is not None
        target = self.conversation.model
        entry = self.choice.resolve(target)
        if entry is None:
            name = target or self.choice.catalog.default or "a model"
            if name in self.choice.catalog.presets:
                raise ModelLoadError(
                    name, "none of its models is downloaded yet; pick one in the model list"
                )
            raise ModelLoadError(name, "this model is not in the catalog")
        try:
            await self._answering.reply(
                conversation=self.conversation,
                history=await self._history(),
                entry=entry,
                created_at=self._timestamp(),
                stop=stop,
                show=self._show_reply,
                regenerating=regenerating,
                question_stored=question_stored,
            )
        finally:
            self._broadcast.publish(ListChanged())
            self._refresh_list_soon()

    def _announce_reply(self, event: Event) -> None:
        if isinstance(event, MessageAdded):
            self.messages.append(event.message)
        self._emit(event)

    def _show_reply(self, message: Message) -> None:
        for i, existing in enumerate(self.messages):
            if existing.id == message.id:
                self.messages[i] = message
                break
        else:
            self.messages.append(message)
        self._emit(MessageUpdated(message))
        self._broadcast.publish(MessageLive(message))
