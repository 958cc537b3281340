"""The Chat's side of several tabs: hearing what the others changed, and telling them.

News from another tab is a hint to re-read the store, never data to trust on its own: the
sidebar is re-read, the open chat is re-read when a turn elsewhere ends (or its tab dies and
frees the turn lock), and a reply streaming elsewhere is shown live but taken from the store
once it ends. While another tab answers in the open chat, this tab sends nothing there.
"""

from __future__ import annotations

import asyncio
import contextlib

from .conversations import Conversation, Message, settled
from .errors import ParlanceError
from .events import (
    AnsweringElsewhere,
    ConversationNotFound,
    ConversationOpened,
    ConversationsListed,
    ErrorRaised,
    EventSink,
    MessageAdded,
    MessageUpdated,
    OpenConversationDeleted,
    StreamingChanged,
)
from .paging import Paging
from .ports import StopSignal, Store
from .tabs import (
    Broadcast,
    ConversationChanged,
    ConversationDeleted,
    ListChanged,
    MessageLive,
    News,
    TurnEnded,
    TurnLease,
    TurnLocks,
    TurnStarted,
)


class TabSync(Paging):
    # Provided by Chat.
    _store: Store
    _emit: EventSink
    _locks: TurnLocks
    _broadcast: Broadcast
    _turn: StopSignal | None
    conversation: Conversation | None
    messages: list[Message]

    def __init__(self) -> None:
        super().__init__()
        self._elsewhere: str | None = None  # the open chat's id while another tab answers
        self._watch: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._list_refresh: asyncio.Task[None] | None = None
        self._list_stale = False

    @property
    def answering_elsewhere(self) -> bool:
        return self._elsewhere is not None

    @property
    def can_regenerate(self) -> bool:
        raise NotImplementedError

    # -- the sidebar ---------------------------------------------------------------------

    async def refresh_list(self) -> None:
        conversations = await self._store.list_conversations()
        current = self.conversation.id if self.conversation else None
        self._emit(ConversationsListed(tuple(conversations), current))

    def _refresh_list_soon(self) -> None:
        """Refresh the sidebar off the reply's critical path: one refresh at a time, and one
        more after it when something changed meanwhile."""
        self._list_stale = True
        if self._list_refresh is None or self._list_refresh.done():
            self._list_refresh = asyncio.ensure_future(self._refresh_list_while_stale())

    async def _refresh_list_while_stale(self) -> None:
        while self._list_stale:
            self._list_stale = False
            try:
                await self.refresh_list()
            except ParlanceError as exc:
                self._emit(ErrorRaised(str(exc)))
                return

    # -- telling the other tabs -----------------------------------------------------------

    def _turn_started(self, conversation_id: str) -> None:
        self._broadcast.publish(TurnStarted(conversation_id))

    def _turn_over(self, lease: TurnLease | None) -> None:
        if lease is not None:
            lease.release()
            if self.conversation is not None:
                self._broadcast.publish(TurnEnded(self.conversation.id))
        self._end_turn()

    def _end_turn(self) -> None:
        raise NotImplementedError

    def _announce_deleted(self, conversation_id: str) -> None:
        self._broadcast.publish(ConversationDeleted(conversation_id))

    def _not_found(self, conversation_id: str) -> None:
        self._emit(ConversationNotFound(conversation_id))

    # -- hearing them ---------------------------------------------------------------------

    def on_news(self, news: News) -> None:
        """What another tab said. Runs in the event loop; slow work goes to tasks."""
        open_id = self.conversation.id if self.conversation else None
        match news:
            case ListChanged():
                self._refresh_list_soon()
            case ConversationChanged(cid):
                self._refresh_list_soon()
                if cid == open_id:
                    self._resync_soon()
            case ConversationDeleted(cid):
                self._refresh_list_soon()
                if cid == open_id:
                    if self._turn is not None:
                        self._turn.stop()
                    self._resync_soon()
            case TurnStarted(cid) if cid == open_id and self._turn is None:
                self._enter_remote_turn(cid)
            case MessageLive(message) if message.conversation_id == open_id:
                if self._elsewhere == open_id:
                    self._show_live(message)
            case TurnEnded(cid) if cid == open_id and self._elsewhere == cid:
                self._leave_remote_turn()
                self._resync_soon()

    def _show_live(self, message: Message) -> None:
        for i, existing in enumerate(self.messages):
            if existing.id == message.id:
                self.messages[i] = message
                self._emit(MessageUpdated(message))
                return
        self.messages.append(message)
        self._emit(MessageAdded(message))

    def _enter_remote_turn(self, conversation_id: str) -> None:
        if self._elsewhere == conversation_id:
            return
        self._elsewhere = conversation_id
        self._emit(AnsweringElsewhere(True))
        self._emit(StreamingChanged(False, False))
        self._watch = asyncio.ensure_future(self._watch_remote_turn(conversation_id))

    async def _watch_remote_turn(self, conversation_id: str) -> None:
        """The answering tab may close mid-reply (no TurnEnded): its lock frees all the same."""
        await self._locks.wait_released(conversation_id)
        if self._elsewhere == conversation_id:
            self._leave_remote_turn()
            self._resync_soon()

    def _leave_remote_turn(self) -> None:
        if self._elsewhere is None:
            return
        self._elsewhere = None
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()
        self._watch = None
        self._emit(AnsweringElsewhere(False))
        self._emit(StreamingChanged(self._turn is not None, self.can_regenerate))

    def _resync_soon(self) -> None:
        """Show the open chat as the store has it now (after another tab changed it)."""
        if self._resync is not None and not self._resync.done():
            self._resync.cancel()
        self._resync = asyncio.ensure_future(self._resync_open())

    async def _resync_open(self) -> None:
        if self.conversation is None:
            return
        cid = self.conversation.id
        with contextlib.suppress(ParlanceError):
            if self._turn is not None:
                return  # this tab's own turn ends first; it resyncs after if needed
            conversation = await self._store.get_conversation(cid)
            if self.conversation is None or self.conversation.id != cid:
                return  # the user moved on meanwhile
            if conversation is None:
                self._leave_remote_turn()
                self._emit(OpenConversationDeleted(cid))
                return
            # The branch the conversation would reopen on: the one written last, here or in
            # the other tab.
            branch = await self._read_page(cid, at_least=len(self.messages))
            if self.conversation is None or self.conversation.id != cid:
                return
            self.conversation = conversation
            # A reply stored mid-stream by a turn that has ended (here or in a tab that died)
            # shows as what it is now: stopped.
            messages = branch.messages
            self.messages = messages if self._elsewhere else settled(messages)
            self._emit(
                ConversationOpened(
                    conversation,
                    tuple(self.messages),
                    refreshed=True,
                    siblings=branch.siblings,
                    has_older=branch.has_older,
                )
            )
            self._emit(StreamingChanged(False, self.can_regenerate))
