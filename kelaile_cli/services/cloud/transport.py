"""How the cloud client's requests travel: a small transport interface and its httpx implementations.

The client (``client.py``) owns everything about the API — signing, idempotency keys, retries with
backoff, classifying failures into ``CloudError`` codes. A transport only carries one finished request
and gives back the answer::

    class Transport(Protocol):                        # blocking (the box emulator, klx cloud …)
        def send(self, request: HttpRequest) -> HttpResponse: ...
        def close(self) -> None: ...

    class AsyncTransport(Protocol):                   # asyncio (klx replay)
        async def send(self, request: HttpRequest) -> HttpResponse: ...
        async def aclose(self) -> None: ...

``send`` returns any answer the server gave, whatever its status; when there is no answer it raises
``errors.transport_error(code, detail)`` with one of the network codes (``CLOUD_DNS``,
``CLOUD_CONNECT``, ``CLOUD_TLS``, ``CLOUD_TIMEOUT``, ``CLOUD_DROPPED``) and never anything else. The
httpx transports here are the defaults; ``services/replay/http.py`` has an aiohttp one, cheaper per
request at high rates.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from kelaile_cli.services.cloud.errors import CloudError, transport_error

__all__ = [
    "AsyncHttpxTransport",
    "AsyncTransport",
    "HttpRequest",
    "HttpResponse",
    "HttpxTransport",
    "Transport",
    "network_code",
]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One attempt, signed and ready: the transport sends exactly this."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The server's answer (any status); header names in lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Carries a blocking client's requests."""

    def send(self, request: HttpRequest) -> HttpResponse: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """Carries an asyncio client's requests; ``send`` may run many times concurrently."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...

    async def aclose(self) -> None: ...


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from, innermost last (bounded: chains are short)."""
    chain, seen = [exc], {id(exc)}
    while len(chain) < 16:
        nxt = chain[-1].__cause__ or chain[-1].__context__
        if nxt is None or id(nxt) in seen:
            break
        chain.append(nxt)
        seen.add(id(nxt))
    return chain


def network_code(exc: BaseException, *, connecting: bool) -> str:
    """The network code of a failure without an answer: DNS and TLS are recognised by their OS/SSL
    errors anywhere in the exception chain; otherwise a failure while connecting is CLOUD_CONNECT."""
    chain = _causes(exc)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "CLOUD_DNS"
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain):
        return "CLOUD_TLS"
    return "CLOUD_CONNECT" if connecting else "CLOUD_DROPPED"


def _httpx_error(exc: httpx.TransportError) -> CloudError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return transport_error(network_code(exc, connecting=True), detail)
    if isinstance(exc, httpx.TimeoutException):
        return transport_error("CLOUD_TIMEOUT", detail)
    # RemoteProtocolError, ReadError, WriteError: the connection died without (all of) an answer
    return transport_error(network_code(exc, connecting=False), detail)


class HttpxTransport:
    """Blocking requests through an ``httpx.Client`` (thread-safe connection pool)."""

    def __init__(self, timeout: float = 10.0, *, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, request: HttpRequest) -> HttpResponse:
        try:
            r = self.client.request(request.method, request.url, content=request.body or None,
                                    headers=dict(request.headers))  # fmt: skip
        except httpx.TransportError as exc:
            raise _httpx_error(exc) from None
        return HttpResponse(r.status_code, r.headers, r.content)

    def close(self) -> None:
        self.client.close()


class AsyncHttpxTransport:
    """asyncio requests through an ``httpx.AsyncClient`` with at most ``max_connections`` connections."""

    def __init__(
        self, timeout: float = 10.0, *, max_connections: int = 100, client: httpx.AsyncClient | None = None
    ) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.client = client or httpx.AsyncClient(timeout=timeout, limits=limits)

    async def send(self, request: HttpRequest) -> HttpResponse:
        try:
            r = await self.client.request(request.method, request.url, content=request.body or None,
                                          headers=dict(request.headers))  # fmt: skip
        except httpx.TransportError as exc:
            raise _httpx_error(exc) from None
        return HttpResponse(r.status_code, r.headers, r.content)

    async def aclose(self) -> None:
        await self.client.aclose()
