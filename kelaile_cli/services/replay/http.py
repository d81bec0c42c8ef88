"""The HTTP connection pool under the replay's cloud client: httpx's API over aiohttp's connections.

httpx's own pool costs about 1 ms of CPU per request, too much for 1,000 uploads/s next to the
sandbox on two cores; the ``httpx-aiohttp`` transport keeps ``AsyncCloudClient`` (signing, retries,
typed errors) unchanged and cuts that cost. Its error mapping calls a connection lost mid-answer a
connect timeout; ``_Transport`` restores the distinction the client's retry reasons and errors rely
on: a connection that was made and then died is a dropped answer, not an unreachable cloud.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["fast_http"]


class _Transport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            cause = exc.__cause__
            connected = isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(
                cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
            )
            if connected:
                raise httpx.RemoteProtocolError(f"connection closed without an answer ({cause})") from cause
            raise


@contextlib.asynccontextmanager
async def fast_http(connections: int, timeout_s: float) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` on aiohttp connections (at most ``connections`` open at once)."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=timeout_s, transport=_Transport(limits=limits)) as http:
        yield http
