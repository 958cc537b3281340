"""A small stand-in for the page, so widgets (app/ui) run in CPython.

It is the part of `app.browser.dom.Dom` and of DOM elements that the widgets use, and no more:
elements with attributes, text, children and a few properties, selectors by test id, class,
tag and attribute, listeners that tests fire by hand, and frames that run when told.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

_SELECTOR = re.compile(
    r"^(?P<tag>[a-z]+)?(?:\.(?P<cls>[\w-]+))?(?:\[(?P<attr>[\w-]+)(?:=\"(?P<value>[^\"]*)\")?\])?$"
)


class FakeElement:
    def __init__(self, tag: str = "div", **attrs: str) -> None:
        self.tagName = tag.upper()
        self.attributes: dict[str, str] = {k.replace("_", "-"): v for k, v in attrs.items()}
        self.children: list[FakeElement] = []
        self.parent: FakeElement | None = None
        self.textContent = ""
        self.hidden = "hidden" in self.attributes
        self.disabled = "disabled" in self.attributes
        self.value = self.attributes.get("value", "")
        self.style = SimpleNamespace(height="")
        self.scrollHeight = 100
        self.scrollTop = 0
        self.clientHeight = 100
        self.focused = False
        self.open = "open" in self.attributes  # a <dialog>'s state
        self.classList = SimpleNamespace(add=self._add_class, remove=self._remove_class)

    def showModal(self) -> None:
        self.open = True

    def close(self) -> None:
        """A <dialog>'s close(); the test fires its "close" event when it matters."""
        self.open = False

    def _add_class(self, name: str) -> None:
        classes = self.attributes.get("class", "").split()
        self.attributes["class"] = " ".join([*classes, name])

    def _remove_class(self, name: str) -> None:
        classes = self.attributes.get("class", "").split()
        self.attributes["class"] = " ".join(c for c in classes if c != name)

    @property
    def parentElement(self) -> FakeElement | None:
        return self.parent

    @property
    def firstChild(self) -> FakeElement | None:
        return self.children[0] if self.children else None

    @property
    def nextSibling(self) -> FakeElement | None:
        if self.parent is None:
            return None
        siblings = self.parent.children
        index = siblings.index(self)
        return siblings[index + 1] if index + 1 < len(siblings) else None

    def insertBefore(self, child: FakeElement, before: FakeElement | None) -> FakeElement:
        if before is None:
            return self.appendChild(child)
        if child.tagName == "#DOCUMENT-FRAGMENT":
            for node in list(child.children):
                self.insertBefore(node, before)
            return child
        child.remove()
        child.parent = self
        self.children.insert(self.children.index(before), child)
        return child

    def closest(self, selector: str) -> FakeElement | None:
        element: FakeElement | None = self
        while element is not None:
            if any(element.matches(part.strip()) for part in selector.split(",")):
                return element
            element = element.parent
        return None

    def setSelectionRange(self, start: int, end: int) -> None:
        pass

    def setAttribute(self, name: str, value: str) -> None:
        self.attributes[name] = value

    def getAttribute(self, name: str) -> str | None:
        return self.attributes.get(name)

    def removeAttribute(self, name: str) -> None:
        self.attributes.pop(name, None)

    def appendChild(self, child: FakeElement) -> FakeElement:
        if child.tagName == "#DOCUMENT-FRAGMENT":  # as in the DOM: its children move, in order
            for node in list(child.children):
                self.appendChild(node)
            return child
        child.remove()  # an element has one place: appending moves it
        child.parent = self
        self.children.append(child)
        return child

    def append(self, *children: FakeElement) -> None:
        for child in children:
            self.appendChild(child)

    def replaceChildren(self, *children: FakeElement) -> None:
        for child in list(self.children):
            child.remove()
        self.append(*children)

    def remove(self) -> None:
        if self.parent is not None:
            self.parent.children.remove(self)
            self.parent = None

    def focus(self) -> None:
        self.focused = True

    def matches(self, selector: str) -> bool:
        match = _SELECTOR.match(selector.replace("'", '"'))
        if match is None:
            raise ValueError(f"the fake DOM does not understand {selector!r}")
        tag, cls, attr, value = match.group("tag", "cls", "attr", "value")
        if tag and self.tagName != tag.upper():
            return False
        if cls and cls not in self.attributes.get("class", "").split():
            return False
        if attr:
            if attr not in self.attributes and not (attr == "value" and self.value is not None):
                return False
            actual = self.value if attr == "value" else self.attributes.get(attr)
            if value is not None and actual != value:
                return False
        return True

    def walk(self) -> list[FakeElement]:
        found = []
        for child in self.children:
            found.append(child)
            found.extend(child.walk())
        return found

    def querySelector(self, selector: str) -> FakeElement | None:
        return next((e for e in self.walk() if e.matches(selector)), None)

    def querySelectorAll(self, selector: str) -> list[FakeElement]:
        parts = [part.strip() for part in selector.split(",")]
        return [e for e in self.walk() if any(e.matches(part) for part in parts)]


class FakeDom:
    """The page: a body to build into, listeners by (element, event), frames run on demand."""

    def __init__(self) -> None:
        self.body = FakeElement("body")
        self.document = SimpleNamespace(
            body=self.body,
            querySelector=self.body.querySelector,
            activeElement=self.body,
        )
        self.listeners: dict[tuple[int, str], Callable[[Any], None]] = {}
        self.frames: list[Callable[[], None]] = []
        self.hash = "#/chat"
        self.revealed: list[FakeElement] = []
        self.marks: list[str] = []
        self.clock_ms = 0.0

    def add(self, tag: str, testid: str | None = None, **attrs: str) -> FakeElement:
        element = FakeElement(tag, **attrs)
        if testid:
            element.setAttribute("data-testid", testid)
        self.body.appendChild(element)
        return element

    def by_testid(self, testid: str, root: FakeElement | None = None) -> FakeElement:
        found = (root or self.body).querySelector(f'[data-testid="{testid}"]')
        if found is None:
            raise LookupError(testid)
        return found

    def create(self, tag: str, *, testid: str | None = None, text: str | None = None,
               **attrs: str) -> FakeElement:  # fmt: skip
        element = FakeElement(tag, **attrs)
        if testid:
            element.setAttribute("data-testid", testid)
        if text is not None:
            element.textContent = text
        return element

    def on(self, target: Any, event: str, handler: Callable[[Any], None]) -> None:
        self.listeners[(id(target), event)] = handler

    def on_window(self, event: str, handler: Callable[[Any], None]) -> None:
        self.listeners[(id(self), event)] = handler

    def fire(self, target: Any, event: str, **fields: Any) -> SimpleNamespace:
        """Dispatch a DOM event to the listener on `target`; returns the event."""
        prevented: list[bool] = []
        dom_event = SimpleNamespace(
            target=target,
            defaultPrevented=False,
            preventDefault=lambda: prevented.append(True),
            stopPropagation=lambda: None,
            shiftKey=False,
            isComposing=False,
            **fields,
        )
        self.listeners[(id(target), event)](dom_event)
        dom_event.defaultPrevented = bool(prevented)
        return dom_event

    def after_frame(self, callback: Callable[[], None]) -> None:
        self.frames.append(callback)

    def run_frames(self) -> None:
        frames, self.frames = self.frames, []
        for callback in frames:
            callback()

    def set_safe_html(self, element: FakeElement, html: str) -> None:
        element.textContent = html

    def set_markup(self, element: FakeElement, html: str) -> None:
        element.textContent = html

    def picked_file(self, input_element: FakeElement) -> Any:
        """The file a test put on an `<input type=file>` as `.file`, if any."""
        return getattr(input_element, "file", None)

    def replace_hash(self, hash_: str) -> None:
        self.hash = hash_

    def fill(self, container: FakeElement, nodes: list[dict[str, Any]]) -> list[FakeElement]:
        for child in list(container.children):
            child.remove()

        def build(node: dict[str, Any]) -> FakeElement:
            element = FakeElement(node["tag"], **node.get("attrs", {}))
            if isinstance(node.get("text"), str):
                element.textContent = node["text"]
            for child in node.get("children", []):
                element.appendChild(build(child))
            return element

        built = [build(node) for node in nodes]
        for element in built:
            container.appendChild(element)
        return built

    def reveal(self, element: FakeElement, *, center: bool = True) -> None:
        self.revealed.append(element)

    def mark(self, name: str) -> None:
        self.marks.append(name)

    def now_ms(self) -> float:
        self.clock_ms += 500.0  # each reading half a second later: rates show at once
        return self.clock_ms
