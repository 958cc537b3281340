"""Export and import controls: `export` and `export-markdown` in the toolbar (shown while a
conversation is open), `export-all` and the `import` file input in the sidebar.

They only ask: core reads the store, makes the file and hands it to the browser, or checks a
picked file and imports it (app/core/transferring.py). A refusal comes back as the error
banner; a finished import as `ConversationsImported`, which this widget states under the
import button and the announcer says aloud (one imported conversation is also opened, by the
view).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.core.conversations import Conversation
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    ConversationsImported,
    ConversationsListed,
    Event,
)

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom


def imported_text(conversations: Sequence[Conversation]) -> str:
    """What an import did, in words: said aloud and shown under the import button."""
    if len(conversations) == 1:
        return f"Imported 1 conversation: {conversations[0].title}"
    return f"Imported {len(conversations)} conversations"


class TransferControls:
    def __init__(self, dom: Dom) -> None:
        self._dom = dom
        self._chat_actions = dom.document.querySelector(".export-actions")
        self._export = dom.by_testid("export")
        self._export_markdown = dom.by_testid("export-markdown")
        self._export_all = dom.by_testid("export-all")
        self._import = dom.by_testid("import")
        self._result = dom.by_testid("import-result")
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        dom = self._dom
        dom.on(self._export, "click", lambda _e: intents.export_chat(False))
        dom.on(self._export_markdown, "click", lambda _e: intents.export_chat(True))
        dom.on(self._export_all, "click", lambda _e: intents.export_all())
        dom.on(self._import, "change", self._picked)
        self._import.disabled = False  # a file picked before now would have been lost

    def handle(self, event: Event) -> None:
        match event:
            case ConversationOpened(conversation):
                self._chat_actions.hidden = conversation is None
            case ConversationNotFound():
                self._chat_actions.hidden = True
            case ConversationsListed(conversations):
                self._export_all.disabled = not conversations
            case ConversationsImported(conversations):
                self._result.textContent = imported_text(conversations)
                self._result.hidden = False

    def _picked(self, _event: Any) -> None:
        file = self._dom.picked_file(self._import)
        # Cleared, so that picking the same file again (after fixing it) is a change too. The
        # File object stays readable.
        self._import.value = ""
        self._result.hidden = True
        if file is not None and self._intents is not None:
            self._intents.import_file(file)
