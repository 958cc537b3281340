"""The export and import controls against a small fake page: what they show and ask for."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.conversations import Conversation
from app.core.events import (
    ConversationNotFound,
    ConversationOpened,
    ConversationsImported,
    ConversationsListed,
)
from app.ui.announcer import Announcements
from app.ui.transfer import TransferControls

from .fake_dom import FakeDom, FakeElement
from .test_widgets import Asked

CHAT = Conversation("c1", "Plans", None, 1, 1)
OTHER = Conversation("c2", "Notes", None, 2, 2)


def transfer_page() -> tuple[FakeDom, TransferControls, Asked]:
    dom = FakeDom()
    actions = dom.add("div", **{"class": "export-actions"}, hidden="")
    actions.appendChild(dom.create("button", testid="export"))
    actions.appendChild(dom.create("button", testid="export-markdown"))
    dom.add("button", "export-all", disabled="")
    dom.add("input", "import", type="file", disabled="")
    dom.add("p", "import-result", hidden="")
    controls = TransferControls(dom)  # type: ignore[arg-type]
    asked = Asked()
    controls.bind(asked.intents())
    return dom, controls, asked


def actions(dom: FakeDom) -> FakeElement:
    found: FakeElement | None = dom.body.querySelector(".export-actions")
    assert found is not None
    return found


def test_the_chat_exports_show_only_while_a_conversation_is_open() -> None:
    dom, controls, _ = transfer_page()
    assert actions(dom).hidden
    controls.handle(ConversationOpened(CHAT, ()))
    assert not actions(dom).hidden
    controls.handle(ConversationOpened(None, ()))
    assert actions(dom).hidden
    controls.handle(ConversationOpened(CHAT, ()))
    controls.handle(ConversationNotFound("gone"))
    assert actions(dom).hidden


def test_export_all_is_offered_once_there_is_something_to_export() -> None:
    dom, controls, _ = transfer_page()
    assert dom.by_testid("export-all").disabled
    controls.handle(ConversationsListed((CHAT,), None))
    assert not dom.by_testid("export-all").disabled
    controls.handle(ConversationsListed((), None))
    assert dom.by_testid("export-all").disabled


def test_the_buttons_ask_for_json_markdown_and_everything() -> None:
    dom, _, asked = transfer_page()
    for testid in ("export", "export-markdown", "export-all"):
        dom.fire(dom.by_testid(testid), "click")
    assert asked.calls == [("export_chat", (False,)), ("export_chat", (True,)), ("export_all", ())]


def test_a_picked_file_is_imported_and_the_input_cleared_for_the_next_pick() -> None:
    dom, _, asked = transfer_page()
    field = dom.by_testid("import")
    assert not field.disabled  # enabled once bound: a pick is never lost
    picked = SimpleNamespace(name="export.json", size=10)
    field.file, field.value = picked, "C:\\fakepath\\export.json"  # type: ignore[attr-defined]
    dom.fire(field, "change")
    assert asked.calls == [("import_file", (picked,))]
    assert field.value == ""
    field.file = None  # type: ignore[attr-defined]
    dom.fire(field, "change")  # a cancelled pick asks for nothing
    assert len(asked.calls) == 1


def test_an_import_says_how_many_came_in_on_screen_and_aloud() -> None:
    dom, controls, _ = transfer_page()
    result = dom.by_testid("import-result")
    controls.handle(ConversationsImported((CHAT, OTHER)))
    assert (result.textContent, result.hidden) == ("Imported 2 conversations", False)
    assert Announcements({}).after(ConversationsImported((CHAT,))) == (
        "Imported 1 conversation: Plans"
    )
    dom.by_testid("import").file = SimpleNamespace(name="x.json", size=1)  # type: ignore[attr-defined]
    dom.fire(dom.by_testid("import"), "change")
    assert result.hidden  # the next import says its own outcome
