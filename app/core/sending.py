"""The user's message on its way to the store while the model already answers it.

Storing a message (and, for the first message of a chat, the conversation) takes IndexedDB
transactions; the model's first token takes a pipeline call. Neither needs the other's result,
so a send starts both at once (issue 12: the first token no later than a plain transformers.js
page's) and ties them together where it matters:

- The reply is written only after the user's message is stored: its first write (an autosave
  or its end) awaits `stored`, so the store never holds a reply without its question, and the
  autosave rule (a reply stored at least once a second, its end after the last autosave) holds
  from there on.
- When the store refuses the message (the disk is full, another tab went on from there:
  `HistoryChanged`, the chat was deleted: `ConversationGone`), the turn's StopSignal is set at
  once: the model stops, the reply (which cannot be stored without its question) is not written,
  and `stored` raises the store's error, which the Chat reports, handing the message back to the
  input and saying that its reply was stopped and not saved. Nothing is lost silently.
- A new conversation is announced (`on_created`: the address bar, the sidebar) only once it is
  stored, so a failed first send leaves no address of a chat that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from .conversations import ChatSettings, Conversation, Message, is_blank, title_from
from .errors import ConversationGone, HistoryChanged, ParlanceError
from .events import ConversationOpened, ErrorRaised, EventSink, MessageAdded, MessageRemoved
from .ports import Clock, Ids, StopSignal, Store
from .tabs import Broadcast, ListChanged, MessageLive, TurnLease
from .targeting import Targeting


class _Keep:
    """`send(model=KEEP)`: keep the conversation's own target for this turn."""


KEEP = _Keep()


class UserMessageSave:
    """Stores `message` (after creating `create`, a new conversation, when given) in the
    background; `stored` is the message as stored, or the store's error."""

    def __init__(
        self,
        *,
        store: Store,
        message: Message,
        create: Conversation | None,
        stop: StopSignal,
        on_created: Callable[[Conversation], None],
        on_stored: Callable[[Message], None],
    ) -> None:
        self._store = store
        self._message = message
        self.message_id = message.id
        self.text = message.content
        self.new_chat = create is not None
        self._create = create
        self._on_created = on_created
        self._on_stored = on_stored
        self.created = False  # whether `create` is now stored
        self._task: asyncio.Task[Message] = asyncio.ensure_future(self._save())
        self._task.add_done_callback(lambda task: self._settled(task, stop))

    async def _save(self) -> Message:
        if self._create is not None:
            await self._store.create_conversation(self._create)
            self.created = True
            self._on_created(self._create)
        stored = await self._store.append_message(self._message)
        self._on_stored(stored)
        return stored

    def _settled(self, task: asyncio.Task[Message], stop: StopSignal) -> None:
        if task.cancelled() or task.exception() is not None:
            stop.stop()  # the model stops: its reply could not be stored

    async def refusal(self) -> ParlanceError | None:
        """Once the save has settled: the store's error, or None when the message is stored."""
        try:
            await self.stored()
        except ParlanceError as exc:
            return exc
        return None

    async def stored(self) -> Message:
        """The message as stored (with its lane); raises the store's ParlanceError."""
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if self._task.cancelled():
                raise ParlanceError("Your message was not saved.") from None
            raise


class Sending(Targeting):
    """The Chat's send: the user's message and the reply's start at once (see above)."""

    # Provided by Chat (and its turn bookkeeping).
    conversation: Conversation | None
    messages: list[Message]
    new_chat_settings: ChatSettings | None
    _store: Store
    _clock: Clock
    _ids: Ids
    _emit: EventSink
    _broadcast: Broadcast
    _begin_turn: Callable[[], StopSignal]
    _take_turn: Callable[[str], Awaitable[TurnLease]]
    _turn_over: Callable[[TurnLease | None], None]
    _turn_failed: Callable[..., None]
    _refusal: Callable[[], str | None]
    _user_message: Callable[[str, str | None], Message]
    _refresh_list_soon: Callable[[], None]
    _resync_soon: Callable[[], None]
    _reply: Callable[..., Awaitable[None]]

    async def send(self, text: str, model: str | _Keep | None = KEEP) -> bool:
        """Send a user message and stream the reply. False when nothing was sent.

        `model`, when given, answers this turn and becomes the conversation's target. The
        message (and a new chat) is stored while the model already starts (sending.py).
        """
        if is_blank(text):
            return False
        refusal = self._refusal()
        if refusal:
            self._emit(ErrorRaised(refusal, unsent=text))
            return False
        stop = self._begin_turn()
        save: UserMessageSave | None = None
        lease = None
        new = False
        try:
            conversation, new = await self._conversation_for(text, model)
            lease = await self._take_turn(conversation.id)
            if not new and not isinstance(model, _Keep) and model != conversation.model:
                await self._apply_target(model)
            parent = self.messages[-1].id if self.messages else None
            user = self._user_message(text, parent)
            save = UserMessageSave(
                store=self._store,
                message=user,
                create=conversation if new else None,
                stop=stop,
                on_created=self._created,
                on_stored=self._user_stored,
            )
            self.messages.append(user)
            self._emit(MessageAdded(user))
            await self._reply(stop, question_stored=save.stored)
            await save.stored()
        except ParlanceError as exc:
            refused = await save.refusal() if save is not None else None
            if save is not None and refused is not None:
                self._unsend(save, refused)
            else:
                if new and save is None:
                    self.conversation = None  # the turn could not start: nothing was stored
                self._turn_failed(exc, unsent=None if save is not None else text)
        finally:
            self._turn_over(lease)
        return True

    async def _conversation_for(
        self, first_text: str, model: str | _Keep | None
    ) -> tuple[Conversation, bool]:
        """The open conversation, or a new one (True) to be stored with the first message."""
        if self.conversation is not None:
            return self.conversation, False
        if not isinstance(model, _Keep):
            self.new_chat_target = model
            self._announce_target()
        settings = self.new_chat_settings
        if settings is None:
            settings = await self._store.get_defaults()
        now = self._clock.wall_ms()
        self.conversation = Conversation(
            id=self._ids.new_id(),
            title=title_from(first_text),
            model=self.new_chat_target,
            created_at=now,
            updated_at=now,
            settings=settings,
        )
        return self.conversation, True

    def _created(self, conversation: Conversation) -> None:
        """A new chat is stored: the address bar and the sidebar may name it now."""
        if self.conversation is not None and self.conversation.id == conversation.id:
            self._emit(ConversationOpened(conversation, tuple(self.messages), created=True))

    def _user_stored(self, user: Message) -> None:
        if self.conversation is None or self.conversation.id != user.conversation_id:
            return
        self.messages = [user if m.id == user.id else m for m in self.messages]
        self.conversation = replace(self.conversation, updated_at=user.created_at)
        self._broadcast.publish(MessageLive(user))
        self._broadcast.publish(ListChanged())
        self._refresh_list_soon()

    def _unsend(self, save: UserMessageSave, exc: ParlanceError) -> None:
        """The store refused the user's message: it goes back to the input, its reply (stopped
        at once, never written) leaves the screen, and the error says both."""
        index = next((i for i, m in enumerate(self.messages) if m.id == save.message_id), None)
        if index is not None:
            for gone in self.messages[index:]:
                self._emit(MessageRemoved(gone.id))
            self.messages = self.messages[:index]
        if save.new_chat and not save.created:
            self.conversation = None  # never stored: the screen is the new chat again
            self._emit(ConversationOpened(None, ()))
        elif isinstance(exc, HistoryChanged | ConversationGone):
            self._resync_soon()
        self._emit(
            ErrorRaised(
                f"{exc} Your message is back in the input; its reply was stopped and not saved.",
                unsent=save.text,
            )
        )
