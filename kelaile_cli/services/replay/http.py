"""The replay's cloud transport: the cloud client's requests carried by aiohttp instead of httpx.

httpx costs about 1 ms of CPU per request, too much for 1,000 uploads/s next to the sandbox on two
cores; aiohttp about half of that. Only the carrying changes: signing, retries and backoff, retry
callbacks and the typed errors stay the cloud client's own (``services/cloud/client``), so the replay
and the box behave alike. Use::

    transport = AiohttpTransport.open(connections=200, timeout=10.0)
    async with AsyncCloudClient(url, transport=transport, owns_transport=True) as cloud: ...

aiohttp failures map to the cloud's network codes: no connection → CLOUD_CONNECT (CLOUD_DNS, CLOUD_TLS
when that is why), no answer in time → CLOUD_TIMEOUT, a connection that died mid-request → CLOUD_DROPPED.
"""

from __future__ import annotations

import asyncio

import aiohttp

from kelaile_cli.services.cloud.errors import CloudError, transport_error
from kelaile_cli.services.cloud.transport import HttpRequest, HttpResponse, network_code

__all__ = ["AiohttpTransport", "aiohttp_error"]


def aiohttp_error(exc: BaseException) -> CloudError:
    """The cloud error for an aiohttp failure without an answer."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return transport_error("CLOUD_DNS", detail)
    if isinstance(exc, aiohttp.ClientSSLError):
        return transport_error("CLOUD_TLS", detail)
    if isinstance(exc, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return transport_error(network_code(exc, connecting=True), detail)
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return transport_error("CLOUD_TIMEOUT", detail)
    return transport_error(network_code(exc, connecting=False), detail)


class AiohttpTransport:
    """An ``AsyncTransport`` over one ``aiohttp.ClientSession`` (shared by every device of a replay)."""

    def __init__(self, session: aiohttp.ClientSession, *, owns_session: bool = False) -> None:
        self.session = session
        self._owns_session = owns_session

    @classmethod
    def open(cls, connections: int, timeout: float = 10.0) -> AiohttpTransport:
        """A transport with its own session of at most ``connections`` connections (closed by ``aclose``)."""
        limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=20)
        session = aiohttp.ClientSession(connector=connector, timeout=limits, auto_decompress=False)
        return cls(session, owns_session=True)

    async def send(self, request: HttpRequest) -> HttpResponse:
        try:
            async with self.session.request(request.method, request.url, data=request.body or None,
                                            headers=request.headers) as resp:  # fmt: skip
                return HttpResponse(resp.status, resp.headers, await resp.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise aiohttp_error(exc) from None

    async def aclose(self) -> None:
        if self._owns_session:
            await self.session.close()
