"""What keeps the sandbox from being flooded: a body size limit, body and header timeouts.

``BodyLimits`` (ASGI middleware, outermost but for fault injection) reads a request's body before
any endpoint sees it, bounded twice: a ``Content-Length`` above ``max_body`` is answered 413 without
reading a byte of the body, and a streamed (chunked) body is answered 413 as soon as what arrived
passes the limit — so no request holds more than ``max_body`` bytes in memory, and the signature check
never hashes an oversized body. The whole body must arrive within ``body_timeout_s`` of the headers,
else 408. Both answers close the connection.

``HeaderTimeoutProtocol`` (uvicorn's httptools protocol) closes a connection whose request headers
are not complete ``header_timeout_s`` after their first byte (or after the connection opened), and
one whose headers pass ``max_header_bytes`` — a slowloris client trickling a header byte a second
is cut off instead of holding its socket for ever. Idle keep-alive connections are closed by
uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BODY_TIMEOUT_S", "HEADER_TIMEOUT_S", "MAX_BODY", "MAX_HEADER_BYTES", "BodyLimits", "HeaderTimeoutProtocol"]

MAX_BODY = 256 * 1024  # bytes: a receipt upload is a few KiB; 500 line items stay far below
BODY_TIMEOUT_S = 10.0
HEADER_TIMEOUT_S = 10.0
MAX_HEADER_BYTES = 64 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """Reads each request body whole under ``max_body`` and ``body_timeout_s``, then hands it to ``app``."""

    def __init__(self, app: Any, max_body: int = MAX_BODY, body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app, self.max_body, self.body_timeout_s = app, max_body, body_timeout_s

    def __getattr__(self, name: str) -> Any:  # expose the wrapped app (``.openapi()``, ``.state``, …)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request bodies are limited to {self.max_body} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length" and not (value.isdigit() and len(value) < 19 and int(value) <= self.max_body):
                await _refuse(send, 413, "too large", too_large)
                return
        body = await self._read(receive, send, too_large)
        if body is None:
            return
        first = True

        async def replay() -> MutableMapping[str, Any]:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only http.disconnect is left to wait for

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, send: Send, too_large: str) -> bytes | None:
        """The whole body, or ``None`` once it was refused (413/408) or the client left."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        await _refuse(send, 413, "too large", too_large)
                        return None
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            await _refuse(send, 408, "body timeout", f"the body did not arrive within {self.body_timeout_s:g} s")
            return None


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size bound on each request's headers.

    The limits come from the uvicorn config's ``klx_header_timeout_s`` and ``klx_max_header_bytes``
    attributes (set by ``server.py``), defaulting to the module's constants.
    """

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout = float(getattr(config, "klx_header_timeout_s", HEADER_TIMEOUT_S))
        self._max_header = int(getattr(config, "klx_max_header_bytes", MAX_HEADER_BYTES))
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self._header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._arm()
        super().data_received(data)
        if self._awaiting_headers:  # still no complete headers after these bytes
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header and not self.transport.is_closing():
                self._disarm()
                self.transport.close()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._awaiting_headers = True  # the next request's headers get their own deadline from their first byte
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
