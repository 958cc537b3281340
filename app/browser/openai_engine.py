"""Models of OpenAI-compatible servers (vLLM, llama.cpp's server, Ollama, ...), as an Engine.

"Loading" a remote model asks its server for its model list (`GET /v1/models`): Ready when the
model is listed, Failed saying why otherwise. A reply is `POST /v1/chat/completions` with
`stream: true`; the body is read chunk by chunk from fetch's stream, split into server-sent
events by eventsource-parser (npm, vendored: a well-kept SSE parser rather than string
splitting), and each event's data is read by app/core/openai_api.py. Stop aborts the request
(AbortController), which ends the server's generation too.

What is sent, and where: only to the server the user added (or the site's catalog names), with
its key in an `Authorization` header and nothing else of this site (no cookies, no referrer).
Redirects are refused: a redirect could carry the conversation to a host nobody added.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException

from app.core.catalog import Device, ModelEntry
from app.core.endpoints import (
    UNREACHABLE,
    EndpointError,
    EndpointKeys,
    RemoteModel,
    model_names,
    status_reason,
)
from app.core.errors import GenerationError, ModelLoadError
from app.core.openai_api import ReplyStream, StreamError, TextPacer, chat_body, error_message
from app.core.ports import ChatTurn, GenerationStats, LoadedModel, LoadProgress, StopSignal

from .interop import OwnedProxy, absolute_url, is_nullish, js_value
from .interop import error_message as js_error_message

PARSER_URL = "vendor/eventsource-parser/index.js"
# One event past this many characters is not a chat chunk: the stream is refused.
MAX_EVENT_CHARS = 1_000_000
_IMPORT = "(url) => import(url)"
# A fast server's tokens are shown a few at a time, at most this often (TextPacer says why).
SHOW_EVERY_MS = 50.0


class OpenAIEngine:
    # The Engine protocol's "where": on the server, with none of the browser's wasm threads.
    runs_in = "server"
    threads = 0

    def __init__(self, keys: EndpointKeys) -> None:
        self._keys = keys
        self._parser: asyncio.Future[Any] | None = None

    # -- the model manager's EndpointClient -------------------------------------------------

    async def list_models(self, base_url: str, key: str | None) -> list[str]:
        try:
            response = await js.fetch(f"{base_url}/models", _init("GET", key))
        except JsException as exc:
            raise EndpointError(base_url, _unreachable(exc)) from exc
        text = await _text(response)
        if not response.ok:
            raise EndpointError(base_url, status_reason(int(response.status), error_message(text)))
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise EndpointError(
                base_url, "it did not answer like an OpenAI-compatible server (not JSON)"
            ) from exc
        return model_names(raw, base_url)

    # -- Engine port ------------------------------------------------------------------------

    async def load(
        self,
        entry: ModelEntry,
        dtype: str | None,
        device: Device,
        on_progress: Callable[[LoadProgress], None],
    ) -> LoadedModel:
        if entry.base_url is None or entry.model is None:
            raise ModelLoadError(entry.id, "its catalog entry names no server")
        try:
            names = await self.list_models(entry.base_url, self._keys.get(entry.base_url))
        except EndpointError as exc:
            raise ModelLoadError(entry.id, f"the server at {entry.host} {_said(exc)}") from exc
        if entry.model not in names:
            raise ModelLoadError(entry.id, f"the server at {entry.host} does not list it any more")
        return LoadedModel(
            id=entry.id, dtype=None, device=device, handle=RemoteModel(entry.base_url, entry.model)
        )

    async def warm_up(self, model: LoadedModel) -> None:
        """Nothing to warm: the server holds the model."""

    async def generate(
        self,
        model: LoadedModel,
        turns: Sequence[ChatTurn],
        options: Mapping[str, Any],
        on_text: Callable[[str], None],
        stop: StopSignal,
    ) -> GenerationStats:
        if stop.stopped:
            return GenerationStats(tokens=0, stopped=True)
        remote: RemoteModel = model.handle
        body = json.dumps(chat_body(remote.model, turns, options))
        controller = js.AbortController.new()
        unsubscribe = stop.on_stop(lambda: controller.abort())
        stream = ReplyStream()
        try:
            init = _init("POST", self._keys.get(remote.base_url), body, controller.signal)
            response = await js.fetch(f"{remote.base_url}/chat/completions", init)
            if not response.ok:
                said = error_message(await _text(response))
                raise GenerationError(model.id, status_reason(int(response.status), said))
            await self._read(response, stream, on_text)
            if not stop.stopped:
                stream.check_ended()
        except JsException as exc:
            if not stop.stopped:  # Stop's abort rejects the read: that is no error
                raise GenerationError(model.id, _dropped(exc)) from exc
        except StreamError as exc:
            controller.abort()
            raise GenerationError(model.id, exc.reason) from exc
        finally:
            unsubscribe()
        usage = stream.usage
        return GenerationStats(
            tokens=stream.tokens,
            stopped=stop.stopped,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )

    async def count_tokens(self, model: LoadedModel, texts: Sequence[str]) -> list[int]:
        """An estimate (the server's tokenizer is not here): about four characters a token.
        Remote entries carry no context size, so replies do not rely on it."""
        return [len(text) // 4 + 1 for text in texts]

    async def dispose(self, model: LoadedModel) -> None:
        """Nothing is held here: the server keeps its model."""

    # -- internals --------------------------------------------------------------------------

    async def _parser_module(self) -> Any:
        if self._parser is None:
            self._parser = asyncio.ensure_future(run_js(_IMPORT)(absolute_url(PARSER_URL)))
        return await self._parser

    async def _read(
        self, response: Any, stream: ReplyStream, on_text: Callable[[str], None]
    ) -> None:
        """Feed the body to the SSE parser as it arrives; each event's text to `on_text`."""
        module = await self._parser_module()
        events: list[str] = []
        problems: list[str] = []

        def on_event(event: Any) -> None:
            events.append(str(event.data))

        def on_error(error: Any) -> None:
            # Unknown fields are ignored (the SSE spec says so); an event past the size
            # limit ends the stream.
            if str(getattr(error, "type", "")) == "max-buffer-size-exceeded":
                problems.append("the server sent an event too large to be a chat chunk")

        reader = response.body.getReader()
        decoder = js.TextDecoder.new()
        pacer = TextPacer(SHOW_EVERY_MS)
        streaming = js_value({"stream": True})
        with OwnedProxy(on_event) as on_event_js, OwnedProxy(on_error) as on_error_js:
            parser = module.createParser(
                js_value(
                    {
                        "onEvent": on_event_js,
                        "onError": on_error_js,
                        "maxBufferSize": MAX_EVENT_CHARS,
                    }
                )
            )
            try:
                while not stream.done:
                    chunk = await reader.read()
                    if chunk.done:
                        break
                    parser.feed(decoder.decode(chunk.value, streaming))
                    if problems:
                        raise StreamError(problems[0])
                    # The events of one read are shown together, at most SHOW_EVERY_MS
                    # apart; what came before a bad event is still shown (below).
                    texts: list[str] = []
                    try:
                        for data in events:
                            texts.append(stream.take(data))
                    finally:
                        events.clear()
                        if text := pacer.add("".join(texts), time.monotonic() * 1000):
                            on_text(text)
            finally:
                if text := pacer.flush():
                    on_text(text)
                if stream.done:
                    reader.cancel()


def _init(method: str, key: str | None, body: str | None = None, signal: Any = None) -> Any:
    headers = {"Accept": "application/json" if body is None else "text/event-stream"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key:
        headers["Authorization"] = f"Bearer {key}"
    init: dict[str, Any] = {
        "method": method,
        "headers": headers,
        "cache": "no-store",
        "credentials": "omit",
        "referrerPolicy": "no-referrer",
        "redirect": "error",
    }
    if body is not None:
        init["body"] = body
    if signal is not None:
        init["signal"] = signal
    return js_value(init)


async def _text(response: Any) -> str:
    try:
        text = await response.text()
    except JsException:
        return ""
    return "" if is_nullish(text) else str(text)


def _unreachable(exc: JsException) -> str:
    message = js_error_message(exc)
    return UNREACHABLE if _is_network_failure(message) else f"it could not be reached: {message}"


def _dropped(exc: JsException) -> str:
    message = js_error_message(exc)
    if _is_network_failure(message) or "network" in message.lower():
        return "the connection to the server was lost before the reply ended"
    return f"the connection to the server failed: {message}"


def _is_network_failure(message: str) -> bool:
    return message in ("Failed to fetch", "Load failed") or message.startswith("NetworkError")


def _said(exc: EndpointError) -> str:
    """An EndpointError's reason as the end of "the server at <host> ..."."""
    reason = exc.reason
    if reason.startswith("it "):
        return reason[3:]
    return f"refused: {reason}"
