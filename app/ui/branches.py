"""Editing a message and stepping between branches, inside the message list.

A user message has `message-edit`: it swaps the message's text for a `message-edit-input`
with `message-edit-save` (also Ctrl/Cmd+Enter) and `message-edit-cancel` (also Escape).
Saving sends the edit as a new branch from that point (core's `Chat.edit`); the old branch
stays and the message then shows `branch-prev`, `branch-position` ("2/2") and `branch-next`.
A message with siblings (tree.py) shows those controls; each names the lane to show.

The MessageList owns the message elements and its one delegated click listener; it hands the
clicks on these controls here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.core.conversations import is_blank
from app.core.tree import Siblings

from .intents import Intents

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element

CONTROLS = ", ".join(
    f'[data-testid="{testid}"]'
    for testid in (
        "message-edit",
        "message-edit-save",
        "message-edit-cancel",
        "branch-prev",
        "branch-next",
    )
)
# Arrows for the branch steps (their names are in aria-label).
PREVIOUS, NEXT = "\u2039", "\u203a"


class Branching:
    def __init__(self, dom: Dom, root: Element) -> None:
        self._dom = dom
        self._root = root
        self._intents: Intents | None = None
        self._busy = False
        self._editing: Element | None = None
        # After stepping to a sibling the list is drawn anew: the focus goes back to the same
        # control of the message at the same place (message index, test id).
        self._refocus: tuple[int, str] | None = None

    def bind(self, intents: Intents) -> None:
        self._intents = intents

    # -- what each message carries --------------------------------------------------------

    def edit_button(self) -> Element:
        button = self._dom.create(
            "button",
            testid="message-edit",
            text="Edit",
            type="button",
            **{"class": "message-edit", "aria-label": "Edit message"},
        )
        if self._busy:
            button.setAttribute("disabled", "")
        return button

    def show_siblings(
        self, elements: Mapping[str, Element], siblings: Mapping[str, Siblings]
    ) -> None:
        """Put branch controls on the messages that have siblings, and only on those."""
        for message_id, element in elements.items():
            nav = element.querySelector(".branch-nav")
            found = siblings.get(message_id)
            if found is None:
                if nav:
                    nav.remove()
                continue
            if not nav:
                nav = self._nav()
                actions = element.querySelector(".message-actions")
                actions.insertBefore(nav, actions.firstChild)
            self._fill(nav, found)
        self._disable(self._busy)
        self._restore_focus(list(elements.values()))

    def _restore_focus(self, elements: list[Element]) -> None:
        wanted, self._refocus = self._refocus, None
        if wanted is None or wanted[0] >= len(elements):
            return
        index, testid = wanted
        nav = elements[index].querySelector(".branch-nav")
        if not nav:
            return
        button = nav.querySelector(f'[data-testid="{testid}"]')
        if button and button.getAttribute("aria-disabled") == "true":
            other = "branch-next" if testid == "branch-prev" else "branch-prev"
            button = nav.querySelector(f'[data-testid="{other}"]')
        if button:
            button.focus()

    def _nav(self) -> Element:
        dom = self._dom
        nav = dom.create("div", role="group", **{"class": "branch-nav", "aria-label": "Versions"})
        nav.appendChild(
            dom.create(
                "button",
                testid="branch-prev",
                text=PREVIOUS,
                type="button",
                **{"class": "branch-step", "aria-label": "Previous version"},
            )
        )
        nav.appendChild(
            dom.create("span", testid="branch-position", **{"class": "branch-position"})
        )
        nav.appendChild(
            dom.create(
                "button",
                testid="branch-next",
                text=NEXT,
                type="button",
                **{"class": "branch-step", "aria-label": "Next version"},
            )
        )
        return nav

    @staticmethod
    def _fill(nav: Element, siblings: Siblings) -> None:
        position = nav.querySelector('[data-testid="branch-position"]')
        position.textContent = siblings.position
        position.setAttribute(
            "aria-label", f"Version {siblings.index + 1} of {len(siblings.lanes)}"
        )
        for testid, lane in (("branch-prev", siblings.previous), ("branch-next", siblings.next)):
            button = nav.querySelector(f'[data-testid="{testid}"]')
            button.setAttribute("data-lane", lane or "")
            button.setAttribute("aria-disabled", "false" if lane else "true")

    def set_busy(self, busy: bool) -> None:
        """While a reply streams nothing is edited and no branch is changed."""
        self._busy = busy
        self._disable(busy)

    def _disable(self, busy: bool) -> None:
        for button in self._root.querySelectorAll(
            '[data-testid="message-edit"], [data-testid="message-edit-save"], .branch-step'
        ):
            if busy:
                button.setAttribute("disabled", "")
            else:
                button.removeAttribute("disabled")

    # -- clicks handed over by the list ---------------------------------------------------

    def clicked(self, event: Any) -> bool:
        """Handle a click on one of these controls; False when it was not one."""
        button = event.target.closest(CONTROLS) if event.target else None
        if not button or self._intents is None:
            return False
        message = button.closest('[data-testid="message"]')
        testid = str(button.getAttribute("data-testid"))
        if testid in ("branch-prev", "branch-next"):
            lane = str(button.getAttribute("data-lane") or "")
            if lane and not self._busy:
                shown = list(self._root.querySelectorAll('[data-testid="message"]'))
                self._refocus = (shown.index(message), testid) if message in shown else None
                self._intents.show_branch(lane)
        elif testid == "message-edit":
            self.start_edit(message)
        elif testid == "message-edit-save":
            self._save(message)
        else:
            self.cancel_edit()
        return True

    def start_edit(self, message: Element) -> None:
        if self._busy:
            return
        self.cancel_edit()
        dom = self._dom
        content = message.querySelector(".message-content")
        box = dom.create("div", **{"class": "message-edit-box"})
        field = dom.create(
            "textarea",
            testid="message-edit-input",
            rows="3",
            **{"class": "message-edit-input", "aria-label": "Edit your message"},
        )
        field.value = content.textContent
        field.setAttribute("rows", str(min(max(str(field.value).count("\n") + 1, 3), 12)))
        buttons = dom.create("div", **{"class": "message-edit-buttons"})
        buttons.appendChild(
            dom.create(
                "button",
                testid="message-edit-cancel",
                text="Cancel",
                type="button",
                **{"class": "secondary"},
            )
        )
        buttons.appendChild(
            dom.create(
                "button",
                testid="message-edit-save",
                text="Save & send",
                type="button",
                **{"class": "primary"},
            )
        )
        box.appendChild(field)
        box.appendChild(buttons)
        content.hidden = True
        message.insertBefore(box, content.nextSibling)
        message.classList.add("editing")
        self._editing = message
        field.focus()
        field.setSelectionRange(len(field.value), len(field.value))

    def keydown(self, event: Any) -> None:
        """The list's keydown, delegated: keys typed in the edit box."""
        message = self._editing
        target = event.target
        if (
            message is None
            or not target
            or target.getAttribute("data-testid") != ("message-edit-input")
        ):
            return
        if event.key == "Escape":
            event.preventDefault()  # not the page's Escape (which stops a reply)
            self.cancel_edit()
        elif event.key == "Enter" and (event.ctrlKey or event.metaKey):
            event.preventDefault()
            self._save(message)

    def _save(self, message: Element) -> None:
        if self._intents is None or self._busy:
            return
        field = message.querySelector('[data-testid="message-edit-input"]')
        text = str(field.value).strip() if field else ""
        if is_blank(text):
            field.focus()
            return
        if text == str(message.querySelector(".message-content").textContent).strip():
            self.cancel_edit()  # nothing changed: no new version to make
            return
        message_id = str(message.getAttribute("data-message-id"))
        self.cancel_edit(refocus=False)
        self._intents.edit(message_id, text)

    def cancel_edit(self, refocus: bool = True) -> None:
        message, self._editing = self._editing, None
        if message is None:
            return
        box = message.querySelector(".message-edit-box")
        if box:
            box.remove()
        message.querySelector(".message-content").hidden = False
        message.classList.remove("editing")
        if refocus:
            edit = message.querySelector('[data-testid="message-edit"]')
            if edit:
                edit.focus()
