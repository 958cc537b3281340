"""The sidebar: New chat, the conversation list with rename and delete.

The list's markup is a pure function of the conversation list: one string set with one
innerHTML write renders a couple of hundred conversations in a few milliseconds, where
element-by-element calls across the JS boundary would not. Every value from storage is escaped.
Above `VIRTUAL_FROM` conversations only the rows in view are rendered (sidebar_rows.py). One
delegated listener per event type serves the whole list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.core.conversations import Conversation, is_blank
from app.core.events import ConversationsListed, Event

from .dialogs import ConfirmDialog
from .intents import Intents
from .sidebar_rows import VIRTUAL_FROM, VirtualRows, item_markup

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element


def sidebar_markup(conversations: Iterable[Conversation], current_id: str | None) -> str:
    listed = list(conversations)
    total = len(listed)
    return "".join(item_markup(c, current_id, i + 1, total) for i, c in enumerate(listed))


class Sidebar:
    def __init__(
        self,
        dom: Dom,
        dialog: ConfirmDialog,
        return_focus: Callable[[], None] | None = None,
    ) -> None:
        self._dom = dom
        self._dialog = dialog
        # Where focus goes after a rename or a delete (the view's choice: the chat input).
        self._return_focus = return_focus or self._focus_input
        self._list = dom.by_testid("conversation-list")
        # The list scrolls in its <nav> (app.css); long lists render only what is in view.
        self._rows = VirtualRows(dom, self._list, self._list.parentElement)
        self._new_chat = dom.by_testid("new-chat")
        self._listed: ConversationsListed | None = None
        self._shown: ConversationsListed | None = None
        self._renaming: str | None = None
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        dom = self._dom
        dom.on(self._new_chat, "click", lambda _e: intents.new_chat())
        dom.on(self._list, "click", self._clicked)
        dom.on(self._list, "keydown", self._key)
        dom.on(self._list, "focusout", self._blurred)
        dom.on(self._list.parentElement, "scroll", self._scrolled)
        # Focus scrolls its row into view at once, the scroll event comes a frame later: a fast
        # Tab run moves the window here, so the next row is always there to take the focus.
        dom.on(self._list, "focusin", self._scrolled)
        dom.on_window("resize", self._scrolled)

    def handle(self, event: Event) -> None:
        match event:
            case ConversationsListed():
                self._listed = event
                if self._renaming is None:
                    # From the list to the frame that shows it (bench/scale.py).
                    self._dom.mark("parlance:sidebar-listed")
                    self._render(event)
                    self._dom.after_frame(lambda: self._dom.mark("parlance:sidebar-painted"))

    def _render(self, listed: ConversationsListed) -> None:
        conversations = listed.conversations
        opened = listed.current_id != (self._shown.current_id if self._shown else None)
        self._shown = listed
        self._list.setAttribute("data-total", str(len(conversations)))
        if len(conversations) < VIRTUAL_FROM:
            self._list.setAttribute("data-virtual", "false")
            self._list.style.paddingTop = self._list.style.paddingBottom = ""
            self._dom.set_markup(self._list, sidebar_markup(conversations, listed.current_id))
            return
        self._list.setAttribute("data-virtual", "true")
        self._rows.show(conversations, listed.current_id)
        if opened and listed.current_id is not None:
            self._rows.reveal(listed.current_id)  # e.g. opened from a search result

    def _scrolled(self, _event: Any) -> None:
        shown = self._shown
        if self._renaming is None and shown and len(shown.conversations) >= VIRTUAL_FROM:
            self._rows.scrolled()

    def _title_of(self, conversation_id: str) -> str:
        listed = self._listed.conversations if self._listed else ()
        found = next((c for c in listed if c.id == conversation_id), None)
        return found.title if found else "this conversation"

    def _clicked(self, event: Any) -> None:
        item = event.target.closest('[data-testid="conversation-item"]')
        if not item or self._renaming is not None or self._intents is None:
            return
        conversation_id = str(item.dataset.conversationId)
        if event.target.closest('[data-testid="conversation-rename"]'):
            self._start_rename(item, conversation_id)
        elif event.target.closest('[data-testid="conversation-delete"]'):
            self._ask_delete(conversation_id)
        else:
            self._intents.open_chat(conversation_id)

    def _ask_delete(self, conversation_id: str) -> None:
        intents = self._intents
        assert intents is not None
        self._dialog.ask(
            title=f"Delete \u201c{self._title_of(conversation_id)}\u201d?",
            text="The conversation and all its messages are deleted from this browser.",
            confirm_label="Delete",
            on_yes=lambda: intents.delete(conversation_id),
            after=self._return_focus,
        )

    def _focus_input(self) -> None:
        self._dom.by_testid("chat-input").focus()

    def _key(self, event: Any) -> None:
        if self._renaming is not None and event.target.matches(".conversation-title-input"):
            if event.key == "Enter":
                event.preventDefault()
                self._finish_rename(save=True)
            elif event.key == "Escape":
                event.preventDefault()
                event.stopPropagation()  # Escape ends the rename, nothing else
                self._finish_rename(save=False)
        elif (
            event.key == "Enter"
            and event.target.matches('[data-testid="conversation-item"]')
            and self._intents is not None
        ):
            self._intents.open_chat(str(event.target.dataset.conversationId))

    def _blurred(self, event: Any) -> None:
        if self._renaming is not None and event.target.matches(".conversation-title-input"):
            self._finish_rename(save=True, refocus=False)

    def _start_rename(self, item: Element, conversation_id: str) -> None:
        title = item.querySelector('[data-testid="conversation-title"]')
        field = self._dom.create(
            "input",
            testid="conversation-title-input",
            **{"class": "conversation-title-input", "aria-label": "Conversation title"},
        )
        field.value = title.textContent
        title.replaceWith(field)
        self._renaming = conversation_id
        field.focus()
        field.select()

    def _finish_rename(self, *, save: bool, refocus: bool = True) -> None:
        conversation_id, self._renaming = self._renaming, None
        field = self._list.querySelector(".conversation-title-input")
        value = str(field.value) if field else ""
        save = save and conversation_id is not None and not is_blank(value)
        if save and self._listed is not None:
            # Show the new title at once (as core will store it), not the old one until then.
            title = " ".join(value.split())
            renamed = tuple(
                replace(c, title=title) if c.id == conversation_id else c
                for c in self._listed.conversations
            )
            self._listed = replace(self._listed, conversations=renamed)
        if self._listed is not None:
            self._render(self._listed)
        if save and conversation_id is not None and self._intents is not None:
            self._intents.rename(conversation_id, value)
        if refocus:
            self._return_focus()
