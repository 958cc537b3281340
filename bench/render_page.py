"""Rendering benchmark, run in the page by bench/render.html (driven by bench/render.py).

The app's real message list (app/ui/messages.py) with the real DOM adapter and DOMPurify streams
a synthetic 2,000-token reply (bench/reply_sample.py), one token every TOKEN_MS, as the chat
core would: a `MessageUpdated` with the whole text so far per token. The list writes at most once
per animation frame (its `_flush`); each of those calls is timed (performance.now, and a
`parlance:render-frame` measure for the browser's performance panel) with the number of tokens
it showed. The page's rAF loop and long-task observer (render.html) give the frame gaps.
Results go to `<body data-results>` as JSON.
"""

from __future__ import annotations

import asyncio
import gc
import json
from dataclasses import replace

import js

from app.browser.dom import Dom
from app.core.conversations import Message, ReplyInfo
from app.core.events import ConversationOpened, MessageAdded, MessageUpdated, StreamingChanged
from app.core.markdown import prepare_highlighting
from app.ui.messages import MessageList
from bench.reply_sample import tokens

TOKEN_MS = 8  # 125 tokens a second: several tokens per frame, as a fast model gives


async def run() -> None:
    dom = Dom()
    messages = MessageList(dom, {})
    question = Message("q", "c", "user", "Tell me about tides.", 1, "done", ReplyInfo())
    reply = Message("r", "c", "assistant", "", 2, "streaming", ReplyInfo(model="bench/model"))
    messages.handle(ConversationOpened(None, (question,)))
    messages.handle(StreamingChanged(True))
    messages.handle(MessageAdded(reply))
    shown = [0]
    frames: list[tuple[int, float]] = []
    flush = messages._flush

    def timed_flush() -> None:
        start = js.performance.now()
        flush()
        js.performance.measure("parlance:render-frame", js.Object.fromEntries([["start", start]]))
        frames.append((shown[0], js.performance.now() - start))

    messages._flush = timed_flush  # type: ignore[method-assign]
    # Python's cycle collector runs on the main thread too: each pass, timed, with its
    # generation (a long one is a frame the page cannot paint).
    collections: list[tuple[float, float, int]] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = js.performance.now()
        else:
            now = js.performance.now()
            collections.append((gc_started[0], now - gc_started[0], info["generation"]))

    gc.callbacks.append(on_gc)
    every = tokens()
    # As the app does when idle after start-up (app/main.py): Pygments is imported before any
    # reply streams, so its first import is not a frame of this stream.
    prepare_highlighting()
    await asyncio.sleep(0.5)  # start-up settles
    started = js.performance.now()
    js.performance.mark("render:stream-start")  # in the trace too (bench/render.py)
    text = ""
    token_200_ms = 0.0
    for count, token in enumerate(every, 1):
        text += token
        shown[0] = count
        if count == 200:
            token_200_ms = js.performance.now()
        messages.handle(MessageUpdated(replace(reply, content=text)))
        await asyncio.sleep(TOKEN_MS / 1000)
    await asyncio.sleep(0.1)  # the last token's frame
    ended = js.performance.now()
    js.performance.mark("render:stream-end")
    shown[0] = -1  # the frame that shows the reply as finished
    messages.handle(MessageUpdated(replace(reply, content=text, status="done")))
    messages.handle(StreamingChanged(False, True))
    await asyncio.sleep(0.2)
    listing = js.document.querySelector('[data-testid="message-list"]')
    results = {
        "tokens": len(every),
        "token_ms": TOKEN_MS,
        "stream_start_ms": started,
        "stream_end_ms": ended,
        "token_200_ms": token_200_ms,
        "frames": frames,
        "collections": collections,
        "code_blocks": int(listing.querySelectorAll("pre[data-language]").length),
        "tables": int(listing.querySelectorAll("table").length),
    }
    gc.callbacks.remove(on_gc)
    js.document.body.dataset.results = json.dumps(results)


_RUNNING: set[asyncio.Future[None]] = {asyncio.ensure_future(run())}
