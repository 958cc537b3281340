"""Registers the service worker (sw.js) that lets Parlance start offline, and watches it.

Why this way:
- Never in the way of start-up: main.py calls `start()` after the app is ready, and the worker
  then caches the shell in the background. Where service workers are missing or blocked (an
  insecure origin, a test that blocks them) it reports "unsupported" and does nothing else; a
  failure is a console warning, never the error banner: the app works, only not offline.
- The version comes from the build: vendor/precache.json (fetched past the HTTP cache) names it,
  and the page registers `sw.js?v=<version>`. A new deployment is a new worker URL, which the
  browser installs beside the running worker; this module sees it waiting and the banner offers
  it. Taking it posts "skip-waiting" to the new worker and reloads once it controls the page,
  so a page never runs half on one version and half on another.
- A page whose worker is replaced by another tab keeps running, and is told to reload.

The decisions (which status, which banner) are pure: app/core/offline.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import JsException, create_proxy

from app.core.offline import (
    PRECACHE_URL,
    PrecacheError,
    ShellStatus,
    parse_precache,
    shell_status,
    worker_url,
    worker_version,
)

from .interop import error_message, fetch_json, is_nullish, js_value


def _console_warn(text: str) -> None:
    js.console.warn(text)


def _container() -> Any:
    """navigator.serviceWorker, or None where the browser offers none (insecure origins)."""
    try:
        container = getattr(js.navigator, "serviceWorker", None)
    except JsException:  # a sandboxed document can throw on access
        return None
    return None if is_nullish(container) else container


def _version(worker: Any) -> str | None:
    return None if is_nullish(worker) else worker_version(str(worker.scriptURL))


class OfflineShell:
    """The page's side of the offline shell: registration, status, and taking an update."""

    def __init__(self, on_status: Callable[[ShellStatus], None]) -> None:
        self._on_status = on_status
        self._container: Any = None
        self._registration: Any = None
        self._wanted: str | None = None  # the version the server lists now
        self._had_controller = False
        self._failed = False
        self._replaced_elsewhere = False
        self._reloading = False
        self._reload_started = False
        # Listeners live as long as the page (the registration outlives any widget). One proxy
        # per kind: adding the same listener to a worker again is a no-op in the browser.
        self._proxies: dict[str, Any] = {}

    async def start(self) -> None:
        container = self._container = _container()
        if container is None:
            self._on_status("unsupported")
            return
        self._had_controller = not is_nullish(container.controller)
        container.addEventListener(
            "controllerchange", self._proxy("controllerchange", self._controller_changed)
        )
        try:
            precache = parse_precache(await fetch_json(PRECACHE_URL))
        except (OSError, PrecacheError) as exc:
            # Offline (precache.json is never cached), or a site deployed without vendor/.
            _console_warn(f"Parlance: no offline shell update ({exc})")
            await self._adopt(await self._existing())
            return
        self._wanted = precache.version
        try:
            registration = await container.register(
                worker_url(precache.version), js_value({"scope": "./"})
            )
        except JsException as exc:
            _console_warn(f"Parlance: the service worker was refused ({error_message(exc)})")
            self._failed = True
            registration = await self._existing()
        if is_nullish(registration):  # blocked: register() resolved with nothing
            self._on_status("unsupported" if not self._failed else "failed")
            return
        await self._adopt(registration)

    async def _existing(self) -> Any:
        assert self._container is not None
        try:
            return await self._container.getRegistration("./")
        except JsException:
            return None

    async def _adopt(self, registration: Any) -> None:
        if is_nullish(registration):
            self._on_status("failed" if self._failed else "unavailable")
            return
        self._registration = registration
        registration.addEventListener(
            "updatefound", self._proxy("updatefound", lambda _e: self._refresh())
        )
        self._refresh()

    def _refresh(self) -> None:
        """Report the registration's status; watch each worker it holds until it settles."""
        registration = self._registration
        if registration is None:
            return
        for worker in (registration.installing, registration.waiting, registration.active):
            if not is_nullish(worker):
                worker.addEventListener("statechange", self._proxy("statechange", self._changed))
        installing = registration.installing
        if not is_nullish(installing) and str(installing.state) == "redundant":
            installing = None
        status = shell_status(
            active=_version(registration.active),
            waiting=_version(registration.waiting),
            installing=_version(installing),
            failed=self._failed,
        )
        if self._replaced_elsewhere and status != "update-ready":
            status = "updated-elsewhere"
        self._on_status(status)

    def _changed(self, event: Any) -> None:
        worker = event.target
        version = _version(worker)
        if self._reloading and str(worker.state) == "activated":
            # Taken: the new version is active. Its controllerchange reloads the page; this
            # does too, in case that event never comes (a page the old worker did not control).
            self._reload()
            return
        if str(worker.state) == "redundant" and version == self._wanted:
            active = None if self._registration is None else self._registration.active
            if _version(active) != version:
                # The current version's install failed (a file missing or changed since the
                # build): the shell cannot be cached until the site is whole again.
                self._failed = True
                _console_warn(f"Parlance: caching version {version} for offline use failed")
        self._refresh()

    def _controller_changed(self, _event: Any) -> None:
        if self._reloading:
            self._reload()  # the new version controls the page: start it
        elif self._had_controller:
            # Another tab took the new version; this page's code is the old one.
            self._replaced_elsewhere = True
            self._refresh()

    def take_update(self, activate: bool) -> None:
        """Start the new version: activate the waiting worker, then reload once it controls
        the page (controllerchange). Without a waiting worker, just reload."""
        waiting = None if self._registration is None else self._registration.waiting
        if not activate or waiting is None or is_nullish(waiting):
            js.location.reload()
            return
        self._reloading = True
        waiting.postMessage(js_value({"type": "skip-waiting"}))

    def _reload(self) -> None:
        if not self._reload_started:
            self._reload_started = True
            js.location.reload()

    def _proxy(self, name: str, handler: Callable[[Any], None]) -> Any:
        """One proxy per kind of listener, for the page's lifetime."""
        if name not in self._proxies:
            self._proxies[name] = create_proxy(handler)
        return self._proxies[name]
