"""The view: the page as a set of widgets, each owning one DOM subtree, with one dispatch point.

Core's events come in through `handle`, which hands each to every widget; each widget renders
the events it cares about and turns its own DOM events into intents (app/ui/intents.py). The
view itself owns only what spans widgets: the address bar's hash for a chat just created or
deleted elsewhere, opening the one conversation an import brought in, the page-wide Escape key,
where focus goes after a rename or a delete, and the ready state of the app root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.catalog import Catalog
from app.core.events import (
    CatalogChanged,
    ConversationOpened,
    ConversationsImported,
    Event,
    OpenConversationDeleted,
)
from app.core.routes import chat_hash
from app.core.search import HIT_LIMIT

from .announcer import Announcer
from .banner import ErrorBanner
from .composer import Composer
from .dialogs import ConfirmDialog
from .drawer import Drawer
from .intents import Intents, Widget
from .messages import MessageList
from .model_bar import ModelBar
from .models_page import ModelsPage
from .search import SearchBox
from .settings import Settings
from .sidebar import Sidebar
from .transfer import TransferControls
from .welcome import ModelGate, Welcome

if TYPE_CHECKING:
    from app.browser.dom import Dom


class ChatView:
    def __init__(self, dom: Dom, catalog: Catalog, search_limit: int = HIT_LIMIT) -> None:
        self._dom = dom
        self._app = dom.by_testid("app")
        # One labels map, shared by the widgets that name models; kept in step with the catalog.
        # A remote model's label says where it runs (ModelEntry.display_label).
        self.labels = labels = {m.id: m.display_label for m in catalog.models}
        self.dialog = ConfirmDialog(dom)
        self.banner = ErrorBanner(dom)
        self.composer = Composer(dom)
        self.messages = MessageList(dom, labels)
        self.model_bar = ModelBar(dom, catalog)
        self.drawer = Drawer(dom)
        self.sidebar = Sidebar(dom, self.dialog, return_focus=self._focus_input)
        self.announcer = Announcer(dom, labels)
        self.search = SearchBox(dom, search_limit)
        self.gate = ModelGate(dom, catalog, self.dialog)
        self.welcome = Welcome(dom, catalog)
        self.transfer = TransferControls(dom)
        self.settings = Settings(dom)
        self.models = ModelsPage(dom, self.dialog)
        self._page_links = {
            "settings": dom.by_testid("settings-link"),
            "models": dom.by_testid("models-link"),
        }
        self._widgets: list[Widget] = [
            self.banner,
            self.model_bar,
            self.sidebar,
            self.search,
            self.drawer,  # before the composer: it un-inerts <main> before focus goes there
            self.messages,
            self.welcome,
            self.gate,
            self.composer,
            self.dialog,
            self.transfer,
            self.settings,
            self.models,
            self.announcer,
        ]
        self._intents: Intents | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents
        gated = self.gate.wrap(intents)  # the picker asks before it starts a download
        for widget in self._widgets:
            widget.bind(gated if widget is self.model_bar else intents)
        self._dom.on(self._dom.document, "keydown", self._key)

    def handle(self, event: Event) -> None:
        match event:
            case ConversationOpened(conversation, _, created) if created and conversation:
                self._dom.replace_hash(chat_hash(conversation.id))
            case OpenConversationDeleted() if self._intents is not None:
                self._intents.leave_deleted_chat()
            case ConversationsImported(imported) if len(imported) == 1 and self._intents:
                self._intents.open_chat(imported[0].id)
            case CatalogChanged(catalog):
                self.labels.clear()
                self.labels.update({m.id: m.display_label for m in catalog.models})
        for widget in self._widgets:
            widget.handle(event)

    def _key(self, event: Any) -> None:
        # Escape closes the drawer, else stops a streaming reply; an open dialog (natively) or a
        # rename (which prevents the default) takes Escape first.
        if event.key != "Escape" or event.defaultPrevented:
            return
        if self.dialog.is_open or self.settings.is_open:
            return
        if self.drawer.is_open:
            self.drawer.close()
        elif self.composer.streaming:
            self.composer.stop()

    def _focus_input(self) -> None:
        """After a rename or a delete the user goes back to writing, on a phone too."""
        self.drawer.close(return_focus=False)
        self._dom.by_testid("chat-input").focus()

    def show_page(self, name: str) -> None:
        """Show the chat (`chat`) or a page of its own (`settings`, `models`) beside the
        sidebar; the CSS hides what `data-page` on the app root does not show."""
        self._app.setAttribute("data-page", name)
        for page, link in self._page_links.items():
            if page == name:
                link.setAttribute("aria-current", "page")
            else:
                link.removeAttribute("aria-current")
        if name == "settings":
            self.settings.to_page()
        if name != "chat" and self.drawer.is_open:
            # Chosen in the drawer: close it and go on where the page starts.
            self.drawer.close(return_focus=False)
            if name == "settings":
                self.settings.form.focus()
            elif name == "models":
                self.models.focus()

    def show_error(self, text: str) -> None:
        self.banner.show(text)

    def mark_ready(self, device: str) -> None:
        self._app.setAttribute("data-device", device)
        self._app.setAttribute("data-ready", "true")
        self.composer.mark_ready()
