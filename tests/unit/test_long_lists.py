"""Long lists in the view: the sidebar's window of rows (app/ui/sidebar_rows.py) and the
message list's older pages (app/ui/older.py)."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.conversations import Conversation
from app.ui.older import OLDER_TRIGGER_PX, OlderPages
from app.ui.sidebar import sidebar_markup
from app.ui.sidebar_rows import OVERSCAN, item_markup, rows_in_view

from .fake_dom import FakeDom


def test_the_window_is_the_rows_in_view_with_some_either_side() -> None:
    assert rows_in_view(10_000, 40.0, 0.0, 400.0) == (0, 11 + OVERSCAN)
    first, end = rows_in_view(10_000, 40.0, 4_000.0, 400.0)
    assert (first, end) == (100 - OVERSCAN, 111 + OVERSCAN)
    assert rows_in_view(10_000, 40.0, 399_600.0, 400.0)[1] == 10_000


def test_the_window_never_leaves_the_list_even_scrolled_past_it() -> None:
    assert rows_in_view(5, 40.0, 0.0, 400.0) == (0, 5)
    assert rows_in_view(5, 40.0, 90_000.0, 400.0) == (0, 5)
    assert rows_in_view(0, 40.0, 0.0, 400.0) == (0, 0)


def test_a_list_not_laid_out_yet_still_renders_a_screenful() -> None:
    first, end = rows_in_view(10_000, 0.0, 0.0, 0.0)
    assert first == 0 and end > 20


def test_every_item_says_where_it_is_in_the_whole_list() -> None:
    chats = [Conversation(f"c{i}", f"Chat {i}", None, i, i) for i in range(3)]
    markup = sidebar_markup(chats, "c1")
    assert markup.count('aria-setsize="3"') == 3
    assert [f'aria-posinset="{i}"' in markup for i in (1, 2, 3)] == [True] * 3
    one = item_markup(chats[1], "c1", 2_001, 10_000)
    assert 'aria-posinset="2001" aria-setsize="10000"' in one
    assert 'aria-current="page"' in one and "aria-current" not in item_markup(chats[0], "c1", 1, 3)


def older_pages() -> tuple[FakeDom, OlderPages, list[str]]:
    dom = FakeDom()
    listing = dom.add("section", "message-list")
    pages = OlderPages(dom, listing)  # type: ignore[arg-type]
    asked: list[str] = []
    pages.bind(SimpleNamespace(load_older=lambda: asked.append("older")))  # type: ignore[arg-type]
    return dom, pages, asked


def test_the_page_above_is_asked_for_once_near_the_top_and_again_after_it_came() -> None:
    dom, pages, asked = older_pages()
    listing = dom.by_testid("message-list")
    listing.scrollTop = 5_000
    pages.opened(has_older=True)
    dom.run_frames()
    assert asked == [] and listing.getAttribute("data-has-older") == "true"
    listing.scrollTop = OLDER_TRIGGER_PX - 1
    pages.check()
    pages.check()
    assert asked == ["older"]
    pages.insert(lambda _before: None, has_older=True)
    pages.check()
    assert asked == ["older", "older"]


def test_nothing_is_asked_for_when_the_chat_has_nothing_above() -> None:
    dom, pages, asked = older_pages()
    pages.opened(has_older=False)
    dom.run_frames()
    pages.check()
    assert asked == []
    assert dom.by_testid("message-list").getAttribute("data-has-older") == "false"
    assert "parlance:messages-painted" in dom.marks


def test_row_escaping_is_html_escape_with_quotes() -> None:
    import html

    from app.ui.sidebar_rows import escape

    hostile = """<img src=x onerror="alert('1')"> & </li>"""
    assert escape(hostile) == html.escape(hostile, quote=True)
