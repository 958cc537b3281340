"""One message's rendered Markdown in the page, as one element per final block plus one for the
blocks still being written (app/core/markdown_stream.py decides which is which).

Each frame of a streaming reply replaces only the open element's content; a block that becomes
final gets an element of its own once and is never touched again (unless a link reference
definition that arrives later changes it), so its DOM, a selection in it and its code-copy
button survive the rest of the stream, and a frame's DOM work does not grow with the reply.

Block elements are `<div class="md-block">` with `display: contents` (app/ui/app.css): they add
no box, so the reply lays out as if its blocks were children of `message-content`.

The Markdown parser (markdown-it, app/core/markdown_stream.py) is imported when the first
message is rendered, not at start-up: a new chat's first screen shows no message, and start-up
is bound by the main thread's CPU (BENCHMARKS.md). The page imports it when idle after ready
(`prepare_rendering`), so the first reply does not pay for it either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.browser.dom import Dom, Element
    from app.core.markdown_stream import MarkdownStream

BLOCK_CLASS = "md-block"
COPY_CODE_LABEL = "Copy code"


class RenderedMarkdown:
    """The blocks of one `message-content` element; `show` it the message's text each frame."""

    def __init__(self, dom: Dom, content: Element) -> None:
        self._dom = dom
        self._content = content
        self._stream: MarkdownStream = prepare_rendering()()
        self._blocks: list[Element] = []
        self._open: Element | None = None
        self._open_html = ""
        content.textContent = ""
        content.classList.remove("plain-text")

    def show(self, text: str, *, done: bool) -> None:
        update = self._stream.update(text, done=done)
        if update.reset:
            self._content.textContent = ""
            self._blocks.clear()
            self._open, self._open_html = None, ""
        for index, html in update.changed:
            self._dom.set_safe_html(self._blocks[index], html)
            decorate(self._dom, self._blocks[index])
        if update.finished:
            self._add_final(update.finished)
        if update.open_html != self._open_html:
            self._show_open(update.open_html)

    def _add_final(self, finished: tuple[str, ...]) -> None:
        """New final blocks, sanitised in one call, before the open element."""
        markup = "".join(f'<div class="{BLOCK_CLASS}">{html}</div>' for html in finished)
        fragment = self._dom.safe_fragment(markup)
        decorate(self._dom, fragment)
        self._blocks.extend(list(fragment.children))
        if self._open is None:
            self._content.appendChild(fragment)
        else:
            self._content.insertBefore(fragment, self._open)

    def _show_open(self, html: str) -> None:
        self._open_html = html
        if not html:  # nothing open: no empty element left to end the reply
            if self._open is not None:
                self._open.remove()
                self._open = None
            return
        if self._open is None:
            self._open = self._dom.create("div", **{"class": BLOCK_CLASS, "data-open": "true"})
            self._content.appendChild(self._open)
        self._dom.set_safe_html(self._open, html)
        decorate(self._dom, self._open)


def prepare_rendering() -> type[MarkdownStream]:
    """Import the Markdown parser (once; later calls cost a dictionary look-up)."""
    from app.core.markdown_stream import MarkdownStream

    return MarkdownStream


def decorate(dom: Dom, root: Element) -> None:
    """Give rendered Markdown what the sanitised HTML may not carry: each `<pre>` a `code-copy`
    button (no text of its own: its label is CSS, so the message's text stays the reply's
    text), each table a box that scrolls sideways. Both scroll by keyboard too."""
    for table in list(root.querySelectorAll("table")):
        box = dom.create("div", tabindex="0", **{"class": "table-scroll"})
        table.replaceWith(box)
        box.appendChild(table)
    for pre in list(root.querySelectorAll("pre")):
        pre.setAttribute("tabindex", "0")
        block = dom.create("div", **{"class": "code-block"})
        pre.replaceWith(block)
        block.appendChild(
            dom.create(
                "button",
                testid="code-copy",
                type="button",
                title=COPY_CODE_LABEL,
                **{"class": "code-copy", "aria-label": COPY_CODE_LABEL},
            )
        )
        block.appendChild(pre)
