"""Composition root: build the browser adapters, hand them to core, route, and mark ready."""

from __future__ import annotations

import asyncio
from typing import Any

from app.browser.availability import BrowserAvailability
from app.browser.dom import Dom
from app.browser.engine import TransformersJsEngine, detect_device
from app.browser.files import BrowserDownloads
from app.browser.hub import HubModels
from app.browser.idb import IndexedDbStore
from app.browser.interop import (
    absolute_url,
    js_console_error,
    query_param,
    storage_problem,
    url_path,
)
from app.browser.model_files import BrowserModelFiles
from app.browser.offline import OfflineShell
from app.browser.openai_engine import OpenAIEngine
from app.browser.page_inputs import BrowserClock, RandomIds, int_param, load_catalog
from app.browser.search import IndexedDbSearcher
from app.browser.storage import BrowserStorage
from app.browser.tabs import ChannelBroadcast, WebTurnLocks, platform_tabs_supported
from app.browser.transformers import TransformersJs
from app.browser.wheels import LaterWheels
from app.browser.worker_engine import WorkerEngine
from app.core.catalog import Catalog, Device, ModelEntry
from app.core.chat import Chat
from app.core.endpoints import EndpointKeys
from app.core.engine_router import EngineRouter
from app.core.errors import StoreError
from app.core.events import ErrorRaised, Event
from app.core.loader import ModelLoader
from app.core.memory import LocalBroadcast, LocalTurnLocks, MemoryStore
from app.core.models import ModelManager
from app.core.ports import Engine, Store
from app.core.routes import NewChat, OpenChat, Page, Redirect, Route, chat_hash, parse_hash
from app.core.search import Search, Searcher, SearchHit, StoreSearcher
from app.core.tabs import Broadcast, TurnLocks
from app.core.targets import ModelChoice
from app.core.transferring import Transfer
from app.ui.intents import Intents
from app.ui.markdown_view import prepare_rendering
from app.ui.update_banner import UpdateBanner
from app.ui.view import ChatView

# How long after ready the page loads and imports what it will need later (Pygments'
# and fastjsonschema's wheels, app/browser/wheels.py; Pygments itself), when idle.
IDLE_WARM_UP_MS = 1500


class App:
    """Holds the running pieces so that event handlers and tasks have one owner."""

    def __init__(self, dom: Dom, catalog: Catalog, catalog_url: str, notices: list[str]) -> None:
        self.dom = dom
        self.catalog = catalog
        self.catalog_url = catalog_url
        self.notices = notices  # what went wrong on the way to ready, said once it is ready
        self.view = ChatView(dom, catalog)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.chat: Chat | None = None
        self.search: Search | None = None
        self.transfer: Transfer | None = None
        self.models: ModelManager | None = None
        self.wheels = LaterWheels()
        self._route_lock = asyncio.Lock()
        # A search result being opened: the route to its conversation opens it at the message
        # (the hash stays #/chat/<id>; the message is the router's to remember, not the URL's).
        self._pending_hit: SearchHit | None = None

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.emit(ErrorRaised(f"Something went wrong: {task.exception()}"))

    def emit(self, event: Event) -> None:
        """The one dispatch point of core's events. A view bug must not break core's work
        (a reply that is streaming, a load): it is reported, and the event is dropped."""
        if self.search is not None:
            self.search.observe(event)  # before the view: never lost to a view failure
        if self.models is not None and (work := self.models.observe(event)) is not None:
            self.spawn(work)
        try:
            self.view.handle(event)
        except Exception as exc:
            js_console_error(f"Parlance view failed on {type(event).__name__}: {exc!r}")
            self.view.show_error(f"The page failed to show an update: {exc}")

    async def boot(self) -> None:
        forced = query_param("device")
        device, has_f16 = await detect_device(forced)
        # Local model files sit under the catalog's folder; transformers.js wants a path.
        models_dir = self.catalog_url.rsplit("/", 1)[0] + "/" if "/" in self.catalog_url else "./"
        models_path = url_path(models_dir)
        # transformers.js in the page serves the model manager (its cache, the hub's answers);
        # replies come from the engine worker, unless `?engine=page` asks for the page's own.
        transformers = TransformersJs(models_path=models_path, preferred_device=device)
        # `?kv=0`: every turn re-reads its whole history (benchmarks compare with and without).
        keep_cache = query_param("kv") != "0"
        local_engine: Engine = (
            TransformersJsEngine(transformers, keep_cache=keep_cache)
            if query_param("engine") == "page"
            else WorkerEngine(
                models_path=models_path,
                preferred_device=device,
                keep_cache=keep_cache,
                threads=int_param("threads"),
            )
        )
        # Models of OpenAI-compatible servers beside the in-browser engine: one Engine for core,
        # routed by the entry's source (app/core/engine_router.py). Keys stay on this device.
        keys = EndpointKeys()
        remote_engine = OpenAIEngine(keys)
        engine = EngineRouter(local=local_engine, remote=remote_engine)
        loader = ModelLoader(engine, self.emit, preferred_device=device, has_shader_f16=has_f16)
        availability = BrowserAvailability(
            absolute_url(models_dir),
            lambda entry: entry.weights_file(loader.placement(entry).device),
        )
        store, persistent = await self._open_store()
        locks, broadcast = self._tabs(persistent)
        clock, ids = BrowserClock(), RandomIds()
        self.chat = Chat(
            choice=ModelChoice(self.catalog, availability),
            catalog=self.catalog,
            store=store,
            loader=loader,
            engine=engine,
            clock=clock,
            ids=ids,
            emit=self.emit,
            locks=locks,
            broadcast=broadcast,
        )
        chat = self.chat
        searcher: Searcher = (
            IndexedDbSearcher(store.db)
            if isinstance(store, IndexedDbStore)
            else StoreSearcher(store)
        )
        search = self.search = Search(
            searcher, self.emit, on_start=lambda _q: self.dom.mark("parlance:search-start")
        )
        self.transfer = transfer = Transfer(
            store=store,
            clock=clock,
            ids=ids,
            emit=self.emit,
            downloads=BrowserDownloads(),
            labels=self.view.labels,
            refresh_list=chat.refresh_list,
            broadcast=broadcast,
        )
        if isinstance(broadcast, ChannelBroadcast):
            broadcast.listener = chat.on_news

        def placement(entry: ModelEntry) -> tuple[Device, str | None]:
            where = loader.placement(entry)
            return where.device, where.dtype

        self.models = models = ModelManager(
            choice=chat.choice,
            files=BrowserModelFiles(transformers, models_path),
            quota=BrowserStorage(),
            hub=HubModels(transformers),
            store=store,
            clock=clock,
            emit=self.emit,
            placement=placement,
            device=device,
            has_shader_f16=has_f16,
            on_models_changed=chat.refresh_availability,
            endpoints=remote_engine,
            keys=keys,
        )
        await models.load_user_models()
        self.view.bind(
            Intents(
                send=lambda text: self.spawn(chat.send(text)),
                stop=chat.stop,
                regenerate=lambda: self.spawn(chat.regenerate()),
                edit=lambda message_id, text: self.spawn(chat.edit(message_id, text)),
                show_branch=lambda lane: self.spawn(chat.show_branch(lane)),
                load_older=lambda: self.spawn(chat.load_older()),
                choose_model=self._choose_model,
                new_chat=lambda: self.dom.push_hash(chat_hash(None)),
                open_chat=lambda cid: self.dom.push_hash(chat_hash(cid)),
                rename=lambda cid, title: self.spawn(chat.rename(cid, title)),
                delete=lambda cid: self.spawn(self._delete(cid)),
                leave_deleted_chat=lambda: self.spawn(self._leave_deleted()),
                search=lambda text, now: search.query(text, now=now),
                warm_search=searcher.warm,
                open_search_result=self._open_hit,
                export_chat=self._export_chat,
                export_all=lambda: self.spawn(transfer.export_all()),
                import_file=lambda file: self.spawn(self._import_file(transfer, file)),
                open_settings=lambda: self.spawn(chat.show_settings()),
                save_settings=lambda scope, raw: self.spawn(chat.save_settings(scope, raw)),
                download_model=lambda model_id: self.spawn(models.download(model_id)),
                cancel_download=models.cancel,
                delete_model=lambda model_id: self.spawn(models.delete(model_id)),
                remove_model=lambda model_id: self.spawn(models.remove_user_model(model_id)),
                add_hub_model=lambda text: self.spawn(models.add_hub_model(text)),
                add_endpoint=lambda url, key: self.spawn(models.add_endpoint(url, key)),
            )
        )
        self.dom.on_window("hashchange", lambda _e: self.spawn(self.route()))
        await chat.refresh_availability()
        await self.route()
        self.view.mark_ready(device)
        if self.notices:
            self.emit(ErrorRaised(" ".join(self.notices)))
        self.dom.mark("parlance:ready")
        self.dom.later(IDLE_WARM_UP_MS, self._prepare_highlighting)

    def _prepare_highlighting(self) -> None:
        """The later wheels unpacked and Pygments imported while nothing streams, so a reply's
        first code block does not stall a frame (app/core/markdown.py); put off while a reply
        streams."""
        if self.chat is not None and self.chat.streaming:
            self.dom.later(IDLE_WARM_UP_MS, self._prepare_highlighting)
            return
        self.spawn(self._warm_up())

    async def _warm_up(self) -> None:
        prepare_rendering()  # markdown-it, if no message has needed it yet
        await self.wheels.ready()
        if self.chat is not None and self.chat.streaming:
            self.dom.later(IDLE_WARM_UP_MS, self._prepare_highlighting)  # import it later
            return
        from app.core.markdown import (  # imported by prepare_rendering
            prepare_highlighting,
            shown_plain_before_pygments,
        )

        prepare_highlighting()
        if shown_plain_before_pygments():
            self.view.messages.render_again()  # a reply that came first: highlighted now

    async def _import_file(self, transfer: Transfer, file: Any) -> None:
        """An import checks the file with fastjsonschema: its wheel first, if not there yet."""
        await self.wheels.ready()
        await transfer.import_file(file)

    async def _open_store(self) -> tuple[Store, bool]:
        """IndexedDB, or (saying so) a store in memory when the browser will not give one."""
        problem = storage_problem()
        if problem is None:
            try:
                return await IndexedDbStore.open(), True
            except StoreError as exc:
                problem = str(exc)
        self.notices.append(f"{problem} Chats will not be kept: they last until this tab closes.")
        return MemoryStore(), False

    def _tabs(self, persistent: bool) -> tuple[TurnLocks, Broadcast]:
        """Coordination with other tabs, when they share this tab's stored chats."""
        if persistent and platform_tabs_supported():
            return WebTurnLocks(), ChannelBroadcast()
        return LocalTurnLocks(), LocalBroadcast().tab()

    async def _leave_deleted(self) -> None:
        """The open chat was deleted in another tab: go to a new chat and say why."""
        self.dom.replace_hash(chat_hash(None))
        await self.route()
        self.emit(ErrorRaised("That conversation was deleted in another tab."))

    async def _delete(self, conversation_id: str) -> None:
        assert self.chat is not None
        try:
            if await self.chat.delete(conversation_id):
                # Through the router (replaceState fires no hashchange), so this cannot
                # interleave with a route change the user makes meanwhile.
                self.dom.replace_hash(chat_hash(None))
                await self.route()
        except StoreError as exc:
            self.emit(ErrorRaised(str(exc)))

    def _open_hit(self, hit: SearchHit) -> None:
        """Open a search result: its conversation, on the branch of its message, that message
        in view. Through the router, so it queues behind (or supersedes) other route changes."""
        self._pending_hit = hit
        target = chat_hash(hit.conversation_id)
        if self.dom.hash == target:
            self.spawn(self.route())  # no hashchange when the hash stays the same
        else:
            self.dom.push_hash(target)

    def _export_chat(self, markdown: bool) -> None:
        """Export the open chat; as Markdown, the branch on screen."""
        assert self.chat is not None and self.transfer is not None
        conversation = self.chat.conversation
        if conversation is None:
            return
        lane = self.chat.messages[-1].lane if self.chat.messages else ""
        self.spawn(
            self.transfer.export_conversation(conversation.id, markdown=markdown, lane=lane or None)
        )

    def _choose_model(self, target: str | None) -> None:
        assert self.chat is not None
        self.spawn(self.chat.set_model(target))

    async def route(self) -> None:
        """Show what the hash asks for. Routes run one at a time, each reading the hash when its
        turn comes, so a burst of hash changes ends on the last one and skips stale ones."""
        assert self.chat is not None
        async with self._route_lock:
            await self._route(parse_hash(self.dom.hash))

    async def _route(self, route: Route) -> None:
        assert self.chat is not None
        hit, self._pending_hit = self._pending_hit, None
        match route:
            case Redirect(to):
                self.dom.replace_hash(to)
                self.view.show_page("chat")
                await self.chat.open_new()
            case NewChat():
                self.view.show_page("chat")
                await self.chat.open_new()
            case OpenChat(conversation_id):
                self.view.show_page("chat")
                if hit is not None and hit.conversation_id == conversation_id:
                    await self.chat.open(conversation_id, lane=hit.lane, focus=hit.message_id)
                elif self.chat.conversation is None or self.chat.conversation.id != conversation_id:
                    await self.chat.open(conversation_id)
            case Page(name):
                # A page of its own leaves the open chat, as opening another chat would.
                self.view.show_page(name)
                await self.chat.close()
                if name == "settings":
                    await self.chat.show_default_settings()
                elif name == "models" and self.models is not None:
                    await self.models.refresh()


async def _main() -> None:
    dom = Dom()
    try:
        notices: list[str] = []
        catalog, catalog_url = await load_catalog(notices)
        app = App(dom, catalog, catalog_url, notices)
        globals()["_app"] = app  # keep the app (and its proxies) alive for the page's lifetime
        await app.boot()
    except Exception as exc:  # whatever fails before ready is said, never a silent hang
        js_console_error(f"Parlance failed to start: {exc!r}")
        dom.show_start_failure(f"Parlance could not start: {type(exc).__name__}: {exc}")
    # Also after a failed start: a newer deployment (a fix) must still be able to replace the
    # cached version, or a broken version would be kept forever.
    await _start_offline(dom)


async def _start_offline(dom: Dom) -> None:
    """The offline shell (app/browser/offline.py), once the app is ready: the service worker
    caches in the background. The app works without it, so a failure here is only logged."""
    banner = UpdateBanner(dom)
    shell = OfflineShell(banner.render)
    banner.bind(shell.take_update)
    globals()["_offline"] = shell  # its listeners live as long as the page
    try:
        await shell.start()
    except Exception as exc:
        js_console_error(f"Parlance: the offline shell failed: {exc!r}")


_BOOT: set[asyncio.Future[None]] = set()


def start() -> None:
    """Entry point called from index.html."""
    _BOOT.add(asyncio.ensure_future(_main()))
