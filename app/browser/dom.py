"""A thin DOM adapter, so the view in app/ui never imports js itself.

It owns every proxy it hands to JS: listeners are few and delegated (one per event type on a
stable container) and are destroyed with `close()`; the frame scheduler reuses one proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_once_callable, create_proxy, to_js

from .files import BrowserFile, picked_file

Element = Any
Handler = Callable[[Any], None]
# An element to build: {"tag": "li", "attrs": {...}, "text": "...", "children": [...]}.
Node = dict[str, Any]

_BUILD_JS = """
(container, nodes) => {
  const build = (node) => {
    const element = document.createElement(node.tag);
    for (const [name, value] of Object.entries(node.attrs ?? {})) element.setAttribute(name, value);
    if (typeof node.text === "string") element.textContent = node.text;
    for (const child of node.children ?? []) element.appendChild(build(child));
    return element;
  };
  const built = nodes.map(build);
  container.replaceChildren(...built);
  return built;
}
"""
_builder: list[Any] = []


def _build_nodes() -> Any:
    if not _builder:
        _builder.append(run_js(_BUILD_JS))
    return _builder[0]


class Dom:
    def __init__(self) -> None:
        self.document = js.document
        self._listeners: list[tuple[Element, str, Any]] = []
        self._frame_callbacks: list[Callable[[], None]] = []
        self._frame_requested = False
        self._frame_proxy = create_proxy(self._run_frame)
        self._tasks: set[asyncio.Task[None]] = set()
        # HTML only (no SVG or MathML), keep `target` for links that open a new tab, and refuse
        # what rendered Markdown never needs: inline styles (the CSP's style-src refuses them
        # anyway) and elements that embed, submit or restyle.
        options: dict[str, Any] = {
            "USE_PROFILES": {"html": True},
            "ADD_ATTR": ["target"],
            "FORBID_ATTR": ["style"],
            "FORBID_TAGS": ["style", "form", "input", "iframe", "object", "embed", "svg", "math"],
        }
        self._purify_options = to_js(options, dict_converter=js.Object.fromEntries)
        self._purify_fragment_options = to_js(
            {**options, "RETURN_DOM_FRAGMENT": True}, dict_converter=js.Object.fromEntries
        )

    # -- lookup and creation --------------------------------------------------------------

    def by_testid(self, testid: str, root: Element | None = None) -> Element:
        element = (root or self.document).querySelector(f'[data-testid="{testid}"]')
        if not element:  # querySelector gives JS null, which is not None
            raise LookupError(f"the page has no [data-testid={testid}]")
        return element

    def create(
        self, tag: str, *, testid: str | None = None, text: str | None = None, **attrs: str
    ) -> Element:
        element = self.document.createElement(tag)
        if testid:
            element.setAttribute("data-testid", testid)
        for name, value in attrs.items():
            element.setAttribute(name.replace("_", "-"), value)
        if text is not None:
            element.textContent = text
        return element

    def set_safe_html(self, element: Element, html: str) -> None:
        """Put HTML from our Markdown renderer into the page, sanitised once more by DOMPurify.

        The renderer already escapes raw HTML, refuses unsafe links and turns remote images
        into links; DOMPurify is the second wall, so a bug in one still cannot make a message
        or a reply execute anything, restyle the page or embed a frame or a form. (A remote
        `<img>` that slipped through both would still be refused by the CSP's img-src.)
        """
        purify = getattr(js.window, "DOMPurify", None)
        if purify is None:
            element.textContent = html  # no sanitiser: show, never execute
            return
        element.innerHTML = purify.sanitize(html, self._purify_options)

    def safe_fragment(self, html: str) -> Element:
        """HTML from our Markdown renderer as a DocumentFragment, sanitised by DOMPurify as in
        `set_safe_html` (the same walls), for the caller to insert where it wants: many
        elements in one sanitiser call instead of one each."""
        purify = getattr(js.window, "DOMPurify", None)
        if purify is None:
            fragment = self.document.createDocumentFragment()
            fragment.appendChild(self.create("div", text=html))  # no sanitiser: show as text
            return fragment
        return purify.sanitize(html, self._purify_fragment_options)

    def reveal(self, element: Element, *, center: bool = True) -> None:
        """Scroll `element` into view: to the middle of its scroller, or just into it."""
        options = {"block": "center" if center else "nearest"}
        element.scrollIntoView(to_js(options, dict_converter=js.Object.fromEntries))

    def fill(self, container: Element, nodes: list[Node]) -> list[Element]:
        """Replace `container`'s children with elements built from `nodes` in one call into
        JavaScript (a list of fifty results is a thousand calls element by element). Text goes
        in as textContent: nothing in a node is parsed as HTML. Returns the built elements."""
        built = _build_nodes()(container, to_js(nodes, dict_converter=js.Object.fromEntries))
        return list(built)

    def set_markup(self, element: Element, html: str) -> None:
        """Put markup the app built itself (every value escaped by the caller) into the page."""
        element.innerHTML = html

    # -- events ---------------------------------------------------------------------------

    def on(self, target: Element, event: str, handler: Handler) -> None:
        proxy = create_proxy(handler)
        target.addEventListener(event, proxy)
        self._listeners.append((target, event, proxy))

    def on_window(self, event: str, handler: Handler) -> None:
        self.on(js.window, event, handler)

    def after_frame(self, callback: Callable[[], None]) -> None:
        """Run `callback` before the next paint; many calls in one frame share one frame."""
        self._frame_callbacks.append(callback)
        if not self._frame_requested:
            self._frame_requested = True
            js.requestAnimationFrame(self._frame_proxy)

    def _run_frame(self, _timestamp: float) -> None:
        callbacks, self._frame_callbacks = self._frame_callbacks, []
        self._frame_requested = False
        for callback in callbacks:
            callback()

    def later(self, delay_ms: int, callback: Callable[[], None]) -> None:
        """Run `callback` once after `delay_ms` (its proxy is released when it runs)."""
        js.setTimeout(create_once_callable(callback), delay_ms)

    def copy_text(self, text: str, done: Callable[[bool], None]) -> None:
        """Put `text` on the clipboard; `done(True)` once it is there, `done(False)` if the
        browser refused (no clipboard API, no permission, the page not focused)."""
        task = asyncio.ensure_future(self._copy_text(text, done))
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    async def _copy_text(self, text: str, done: Callable[[bool], None]) -> None:
        clipboard = getattr(js.navigator, "clipboard", None)
        if not clipboard:  # only secure contexts (https, localhost) have one
            done(False)
            return
        try:
            await clipboard.writeText(text)
        except JsException:
            done(False)
        else:
            done(True)

    def picked_file(self, input_element: Element) -> BrowserFile | None:
        """The file chosen in an `<input type=file>`, unread (core checks its size first)."""
        return picked_file(input_element)

    def close(self) -> None:
        for target, event, proxy in self._listeners:
            target.removeEventListener(event, proxy)
            proxy.destroy()
        self._listeners.clear()
        self._frame_proxy.destroy()

    def show_start_failure(self, text: str) -> None:
        """Say that the app could not start, with no view to do it (it failed before one)."""
        error = self.document.querySelector('[data-testid="error"]')
        if error:
            error.querySelector(".error-text").textContent = text
            error.hidden = False
        note = self.document.querySelector(".boot-note")
        if note:
            note.textContent = "Parlance could not start. Reloading the page may help."

    def mark(self, name: str) -> None:
        """A User Timing mark, for benchmarks and the browser's performance panel."""
        js.performance.mark(name)

    def now_ms(self) -> float:
        """Milliseconds on the page's monotonic clock (performance.now)."""
        return float(js.performance.now())

    # -- navigation -----------------------------------------------------------------------

    @property
    def hash(self) -> str:
        return str(js.location.hash)

    def replace_hash(self, hash_: str) -> None:
        """Change the route without a new history entry (and without a hashchange event)."""
        js.history.replaceState(js.history.state, "", hash_)

    def push_hash(self, hash_: str) -> None:
        js.location.hash = hash_
