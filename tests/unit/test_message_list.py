"""The message list against a small fake page: copy buttons, and following a streaming reply.

The fake of tests/unit/fake_dom.py is extended here with what this widget needs: rendered HTML
parsed into elements, `closest`, `querySelectorAll`, `replaceWith`, the clipboard and timers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from types import SimpleNamespace

from app.core.conversations import ChatSettings, Message, ReplyInfo
from app.core.events import (
    ConversationOpened,
    MessageAdded,
    MessageUpdated,
    StreamingChanged,
)
from app.ui.format import MARKDOWN_LIMIT_CHARS
from app.ui.messages import COPIED_MS, MessageList, code_text

from .fake_dom import FakeDom, FakeElement


class Element(FakeElement):
    """An element whose text is its children's, in order (text nodes are `Text` children)."""

    @property
    def textContent(self) -> str:
        return self._text + "".join(child.textContent for child in self.children)

    @textContent.setter
    def textContent(self, text: str) -> None:
        self.children = []
        self._text = text

    def removeAttribute(self, name: str) -> None:
        self.attributes.pop(name, None)

    def replaceWith(self, other: Element) -> None:
        parent = self.parent
        assert parent is not None
        parent.children[parent.children.index(self)] = other
        other.parent = parent
        self.parent = None


class Text(Element):
    def __init__(self, text: str) -> None:
        super().__init__("#text")
        self.textContent = text

    def matches(self, selector: str) -> bool:
        return False


class Html(HTMLParser):
    """Sanitised HTML as fake elements (text goes to its element's textContent)."""

    def __init__(self, root: Element) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, **{k: v or "" for k, v in attrs})
        self.stack[-1].appendChild(element)
        self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].appendChild(Text(data))


class Page(FakeDom):
    def __init__(self, clipboard_works: bool = True) -> None:
        super().__init__()
        self.body = Element("body")
        self.document.body = self.body
        self.document.querySelector = self.body.querySelector
        self.clipboard: list[str] = []
        self.clipboard_works = clipboard_works
        self.timers: list[tuple[int, Callable[[], None]]] = []

    def create(self, tag: str, *, testid: str | None = None, text: str | None = None,
               **attrs: str) -> Element:  # fmt: skip
        element = Element(tag, **attrs)
        if testid:
            element.setAttribute("data-testid", testid)
        if text is not None:
            element.textContent = text
        return element

    def add(self, tag: str, testid: str | None = None, **attrs: str) -> Element:
        element = self.create(tag, testid=testid, **attrs)
        self.body.appendChild(element)
        return element

    def set_safe_html(self, element: FakeElement, html: str) -> None:
        element.textContent = ""
        assert isinstance(element, Element)
        Html(element).feed(html)

    def safe_fragment(self, html: str) -> Element:
        fragment = Element("#document-fragment")
        Html(fragment).feed(html)
        return fragment

    def copy_text(self, text: str, done: Callable[[bool], None]) -> None:
        if self.clipboard_works:
            self.clipboard.append(text)
        done(self.clipboard_works)

    def later(self, delay_ms: int, callback: Callable[[], None]) -> None:
        self.timers.append((delay_ms, callback))

    def run_timers(self) -> None:
        timers, self.timers = self.timers, []
        for _delay, callback in timers:
            callback()


def message_page(clipboard_works: bool = True) -> tuple[Page, MessageList]:
    page = Page(clipboard_works)
    page.add("section", "message-list")
    page.add("div", **{"class": "empty-state"})
    page.add("section", "not-found", hidden="")
    page.add("button", "regenerate", hidden="")
    page.add("button", "jump-latest", hidden="")
    messages = MessageList(page, {"tinylm/a": "Tiny A"})  # type: ignore[arg-type]
    messages.bind(None)  # type: ignore[arg-type]
    return page, messages


def reply(content: str, status: str = "done", id_: str = "a") -> Message:
    return Message(id_, "c", "assistant", content, 2, status, ReplyInfo(model="tinylm/a"))  # type: ignore[arg-type]


def question(content: str) -> Message:
    return Message("u", "c", "user", content, 1, "done", ReplyInfo())


def click(page: Page, target: FakeElement) -> None:
    """A click on `target`, as the list's one delegated listener receives it."""
    listing = page.by_testid("message-list")
    page.listeners[(id(listing), "click")](SimpleNamespace(target=target))


def test_every_code_block_gets_a_copy_button_that_copies_its_code() -> None:
    page, messages = message_page()
    text = "Two:\n\n```python\ndef f():\n    return 1 < 2\n```\n\n```\nplain & <b>\n```"
    messages.handle(ConversationOpened(None, (question("q"), reply(text))))
    message = page.by_testid("message-list").children[1]
    assert isinstance(message, Element)
    buttons = message.querySelectorAll('[data-testid="code-copy"]')
    assert len(buttons) == 2
    for button in buttons:
        assert button.attributes["aria-label"] == "Copy code"
        assert button.textContent == ""  # its label is CSS: the message's text is the code
        assert button.parent is not None and button.parent.matches(".code-block")
    click(page, buttons[0])
    click(page, buttons[1])
    assert page.clipboard == ["def f():\n    return 1 < 2", "plain & <b>"]
    pre = message.querySelector("pre")
    assert pre is not None and pre.attributes["data-language"] == "python"
    assert pre.attributes["tabindex"] == "0"  # a wide block scrolls by keyboard


def test_message_copy_copies_the_markdown_source_even_mid_stream() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (question("Write **code**"),)))
    messages.handle(MessageAdded(reply("", "streaming")))
    messages.handle(MessageUpdated(reply("It adds **two**", "streaming")))
    messages.handle(MessageUpdated(reply("It adds **two** numbers", "streaming")))
    copies = page.by_testid("message-list").walk()
    buttons = [e for e in copies if e.getAttribute("data-testid") == "message-copy"]
    assert [b.attributes["aria-label"] for b in buttons] == ["Copy message"] * 2
    click(page, buttons[1])  # the newest text, though its frame has not run yet
    click(page, buttons[0])
    assert page.clipboard == ["It adds **two** numbers", "Write **code**"]


def test_a_copy_says_copied_briefly_and_a_refused_one_says_it_failed() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (reply("Hi"),)))
    button = page.by_testid("message-copy")
    click(page, button)
    assert (button.textContent, button.attributes["aria-label"]) == ("Copied", "Copied")
    assert [delay for delay, _ in page.timers] == [COPIED_MS]
    click(page, button)  # again before the first feedback ends: it runs its full time
    page.timers.pop(0)[1]()
    assert button.textContent == "Copied"
    page.run_timers()
    assert (button.textContent, button.attributes["aria-label"]) == ("Copy", "Copy message")
    assert "data-copied" not in button.attributes

    page, messages = message_page(clipboard_works=False)
    messages.handle(ConversationOpened(None, (reply("```\nx\n```"),)))
    code_copy = page.by_testid("code-copy")
    click(page, code_copy)
    assert code_copy.attributes["data-copied"] == "failed"
    assert code_copy.attributes["aria-label"] == "Copy failed"


def test_clicks_elsewhere_in_the_list_copy_nothing() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (reply("Hi"),)))
    click(page, page.by_testid("message-content"))
    assert page.clipboard == []


def test_tables_are_wrapped_in_a_box_that_scrolls_sideways() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (reply("| a | b |\n|---|---|\n| 1 | 2 |"),)))
    table = page.by_testid("message-list").querySelector("table")
    assert table is not None and table.parent is not None
    assert table.parent.matches(".table-scroll")
    assert table.parent.attributes["tabindex"] == "0"


def test_the_code_copied_drops_only_the_line_break_that_ends_the_block() -> None:
    assert code_text("x\n\n") == "x\n"
    assert code_text("x") == "x"


def scrolled_list(page: Page, top: int, height: int = 1000) -> FakeElement:
    listing = page.by_testid("message-list")
    listing.scrollHeight, listing.clientHeight, listing.scrollTop = height, 200, top
    page.fire(listing, "scroll")
    return listing


def test_the_list_follows_a_reply_only_while_the_reader_is_at_its_end() -> None:
    page, messages = message_page()
    jump = page.by_testid("jump-latest")
    messages.handle(ConversationOpened(None, (question("q"),)))
    messages.handle(StreamingChanged(True))
    messages.handle(MessageAdded(reply("", "streaming")))
    listing = scrolled_list(page, 800)  # at the end
    assert jump.hidden
    messages.handle(MessageUpdated(reply("more", "streaming")))
    listing.scrollHeight = 1200
    page.run_frames()
    messages.handle(MessageUpdated(reply("more and more", "streaming")))
    page.run_frames()
    assert listing.scrollTop == 1200  # followed
    listing = scrolled_list(page, 300, 1200)  # the reader scrolls up
    assert not jump.hidden
    messages.handle(MessageUpdated(reply("more and more and more", "streaming")))
    listing.scrollHeight = 1500
    page.run_frames()
    assert listing.scrollTop == 300  # left where the reader is
    page.fire(jump, "click")
    assert jump.hidden and listing.scrollTop == 1500
    scrolled_list(page, 100, 1500)
    assert not jump.hidden
    messages.handle(StreamingChanged(False, True))
    assert jump.hidden
    scrolled_list(page, 0, 1500)  # scrolling while nothing streams shows no button
    assert jump.hidden


def test_a_chat_shown_again_by_another_tab_keeps_the_readers_place() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (question("q"), reply("a"))))
    listing = scrolled_list(page, 100)
    messages.handle(ConversationOpened(None, (question("q"), reply("a b")), refreshed=True))
    assert listing.scrollTop == 100
    messages.handle(ConversationOpened(None, (question("q"),)))  # another chat: at its end
    assert listing.scrollTop == listing.scrollHeight


def test_a_search_result_opens_the_chat_at_its_message_marked_for_a_moment() -> None:
    page, messages = message_page()
    listing = scrolled_list(page, 0)
    messages.handle(
        ConversationOpened(None, (question("q"), reply("a"), reply("b", id_="b")), focus="a")
    )
    target = page.by_testid("message-list").querySelector('[data-message-id="a"]')
    assert page.revealed == [target]  # brought into view, not the end of the chat
    assert listing.scrollTop == 0
    assert target is not None and target.getAttribute("data-focused") == "true"
    page.run_frames()  # once heights settle, into view again
    assert page.revealed == [target, target]
    page.run_timers()
    assert target.getAttribute("data-focused") is None


def test_a_finished_reply_shows_the_settings_it_ran_with_behind_a_disclosure() -> None:
    page, messages = message_page()
    ran = ChatSettings("Be brief.\nAnd kind.", temperature=0.5, max_new_tokens=40)
    streaming = replace(reply("Hel", "streaming"), info=ReplyInfo(model="tinylm/a", settings=ran))
    messages.handle(ConversationOpened(None, (question("q"),)))
    messages.handle(MessageAdded(streaming))
    info = page.by_testid("message-info")
    assert info.querySelector(".reply-settings") is None  # not while it streams
    messages.handle(MessageUpdated(replace(streaming, content="Hello", status="done")))
    page.run_frames()
    shown = info.querySelector(".reply-settings")
    assert shown is not None and shown.tagName == "DETAILS"
    summary = shown.querySelector("summary")
    assert summary is not None and summary.textContent == "Settings"
    items = [li.textContent for li in shown.walk() if li.tagName == "LI"]
    assert items == [
        "System prompt: “Be brief.\nAnd kind.”",  # in full, as written
        "Temperature: 0.5",
        "Max new tokens: 40",
    ]
    line = info.querySelector(".reply-line")
    assert line is not None and line.textContent.startswith("Tiny A")
    assert "Temperature: 0.5" in str(info.getAttribute("title"))
    # Shown again (a re-render), the list is replaced, not doubled; no settings, no disclosure.
    messages.handle(MessageUpdated(replace(streaming, content="Hello!", status="done")))
    page.run_frames()
    assert len([e for e in info.walk() if e.tagName == "LI"]) == 3
    messages.handle(ConversationOpened(None, (reply("Old reply"),)))
    assert page.by_testid("message-info").querySelector(".reply-settings") is None


def blocks_of(page: Page) -> list[FakeElement]:
    content = page.by_testid("message-list").children[-1].querySelector(".message-content")
    assert content is not None
    return list(content.children)


def test_a_streaming_reply_changes_only_its_open_block_and_keeps_the_final_ones() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (question("q"),)))
    messages.handle(MessageAdded(reply("", "streaming")))
    text = "Intro.\n\n```python\nx = 1\n```\n\n- a\n- b\n\nMore text"
    messages.handle(MessageUpdated(reply(text, "streaming")))
    first = blocks_of(page)
    # Intro and the code are final; the list may still grow, and "More text" is being written.
    assert [b.attributes.get("data-open") for b in first] == [None, None, "true"]
    code_copy = first[1].querySelector('[data-testid="code-copy"]')
    assert code_copy is not None
    for more in (" and", " more.", "\n\nAnother", " paragraph.\n"):
        text += more
        messages.handle(MessageUpdated(reply(text, "streaming")))
        page.run_frames()
    shown = blocks_of(page)
    assert shown[:2] == first[:2]  # the same elements: a selection in them survives
    assert first[1].querySelector('[data-testid="code-copy"]') is code_copy
    assert shown[2].querySelector("ul") is not None
    assert shown[3].textContent == "More text and more.\n"
    assert shown[-1].attributes.get("data-open") == "true"
    assert shown[-1].textContent == "Another paragraph.\n"
    messages.handle(MessageUpdated(reply(text, "done")))
    page.run_frames()
    done = blocks_of(page)
    assert done[:4] == shown[:4] and len(done) == 5
    assert all(b.matches(".md-block") and "data-open" not in b.attributes for b in done)


def test_a_reply_past_the_markdown_limit_turns_into_plain_text_and_back() -> None:
    page, messages = message_page()
    messages.handle(ConversationOpened(None, (question("q"),)))
    messages.handle(MessageAdded(reply("**short**", "streaming")))
    content = page.by_testid("message-list").children[-1].querySelector(".message-content")
    assert content is not None and content.querySelector("strong") is not None
    long = "**long** " * (MARKDOWN_LIMIT_CHARS // 9 + 1)
    messages.handle(MessageUpdated(reply(long, "streaming")))
    page.run_frames()
    assert content.children == [] and content.textContent == long
    assert "plain-text" in content.attributes["class"].split()
    messages.handle(MessageUpdated(reply("**short** again", "done")))
    page.run_frames()
    assert content.querySelector("strong") is not None
    assert "plain-text" not in content.attributes["class"].split()
