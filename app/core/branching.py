"""The Chat's branches: regenerating and editing add siblings (tree.py), and the user steps
between them. Nothing is replaced: a regenerate is a new reply under the same question, an edit
a new question under the same parent, each answered on its own branch, and the branch shown is
remembered with the conversation so it reopens there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from .conversations import Conversation, Message, is_blank, settled
from .errors import ParlanceError, StoreError
from .events import (
    ConversationOpened,
    ErrorRaised,
    EventSink,
    MessageAdded,
    MessageRemoved,
    SiblingsChanged,
    StreamingChanged,
)
from .paging import Paging
from .ports import ConversationChange, StopSignal, Store
from .tabs import Broadcast, ConversationChanged, TurnLease


class Branching(Paging):
    # Provided by Chat (and its turn bookkeeping).
    conversation: Conversation | None
    messages: list[Message]
    _store: Store
    _emit: EventSink
    _broadcast: Broadcast
    _turn: StopSignal | None
    answering_elsewhere: bool
    _begin_turn: Callable[[], StopSignal]
    _take_turn: Callable[[str], Awaitable[TurnLease]]
    _turn_over: Callable[[TurnLease | None], None]
    _turn_failed: Callable[..., None]
    _refusal: Callable[[], str | None]
    _user_message: Callable[[str, str | None], Message]
    _refresh_list_soon: Callable[[], None]
    _reply: Callable[..., Awaitable[None]]

    async def show_branch(self, lane: str) -> None:
        """Step to a sibling branch (`branch-prev`/`branch-next`): show the branch ending at
        `lane`'s newest message, and reopen on it next time."""
        if self.conversation is None or self._turn is not None:
            return
        cid = self.conversation.id
        # Read back to where the branches part, so the reader stays at the step they took.
        branch = await self._read_page(cid, lane, through=self._through_for(lane))
        if self.conversation is None or self.conversation.id != cid:
            return
        self.messages = branch.messages if self.answering_elsewhere else settled(branch.messages)
        self._emit(
            ConversationOpened(
                self.conversation,
                tuple(self.messages),
                refreshed=True,
                siblings=branch.siblings,
                has_older=branch.has_older,
            )
        )
        self._emit(StreamingChanged(False, self.can_regenerate))
        await self._remember_branch(branch.lane)

    async def _remember_branch(self, lane: str | None) -> None:
        if self.conversation is None or lane is None:
            return
        try:
            self.conversation = await self._store.update_conversation(
                self.conversation.id, ConversationChange(lane=lane)
            )
        except StoreError as exc:
            self._emit(ErrorRaised(f"Could not remember the branch shown. {exc}"))

    async def _refresh_siblings(self) -> None:
        """After a turn that added a sibling: the branch controls of what is on screen."""
        if self.conversation is None:
            return
        try:
            # As many as are on screen: the newest of the branch, which a turn just wrote.
            shown = max(1, len(self.messages))
            branch = await self._store.read_branch(self.conversation.id, newest=shown)
        except StoreError:
            return
        on_screen = [m.id for m in self.messages]
        if [m.id for m in branch.messages] == on_screen:
            self._emit(SiblingsChanged(branch.siblings))

    @property
    def can_regenerate(self) -> bool:
        return (
            self._turn is None
            and not self.answering_elsewhere
            and bool(self.messages)
            and self.messages[-1].role == "assistant"
        )

    async def regenerate(self) -> bool:
        """Answer the last user message again: the new reply is a sibling of the old one,
        which stays stored (`branch-prev` shows it again)."""
        if not self.can_regenerate or self.conversation is None:
            return False
        stop = self._begin_turn()
        lease = None
        try:
            lease = await self._take_turn(self.conversation.id)
            old = self.messages.pop()
            self._emit(MessageRemoved(old.id))
            await self._reply(stop, regenerating=True)
        except ParlanceError as exc:
            # A failed regenerate keeps the reply it was to replace: show what is stored.
            self._turn_failed(exc, resync=True)
        finally:
            self._turn_over(lease)
        await self._refresh_siblings()
        return True

    async def edit(self, message_id: str, text: str) -> bool:
        """Send an edited user message as a sibling of the one it edits (a new branch from
        there, the old one kept) and answer it. False when nothing was sent."""
        index = next((i for i, m in enumerate(self.messages) if m.id == message_id), None)
        if index is None or self.messages[index].role != "user" or self.conversation is None:
            return False
        if is_blank(text):
            return False
        refusal = self._refusal()
        if refusal:
            self._emit(ErrorRaised(refusal))
            return False
        stop = self._begin_turn()
        lease = None
        try:
            lease = await self._take_turn(self.conversation.id)
            edited = self.messages[index]
            user = self._user_message(text, edited.parent_id)
            user = await self._store.append_message(user, branch=True)
            for gone in self.messages[index:]:
                self._emit(MessageRemoved(gone.id))
            self.messages = [*self.messages[:index], user]
            self.conversation = replace(self.conversation, updated_at=user.created_at)
            self._emit(MessageAdded(user))
            self._broadcast.publish(ConversationChanged(self.conversation.id))
            self._refresh_list_soon()
            await self._reply(stop)
        except ParlanceError as exc:
            self._turn_failed(exc, resync=True)
        finally:
            self._turn_over(lease)
        await self._refresh_siblings()
        return True
