"""The replay's cloud client: ``AsyncCloudClient`` with its requests carried by aiohttp instead of httpx.

httpx costs about 1 ms of CPU per request (0.4 ms even over an aiohttp transport), too much for 1,000
uploads/s next to the sandbox on two cores. ``AiohttpCloudClient`` replaces only the one step that
sends an attempt: signing, retry policy and backoff, retry callbacks and the typed errors with their
one-line messages are the cloud client's own (``services/cloud/client``), so both behave alike.
aiohttp failures are mapped to the httpx errors the client classifies: no connection → unreachable,
no answer in time → timeout, a connection that died mid-request → a dropped answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Self

import aiohttp
import httpx

from kelaile_cli.services.cloud.client import AsyncCloudClient, Credentials, _Call

__all__ = ["AiohttpCloudClient"]


def _as_httpx(exc: BaseException) -> httpx.TransportError:
    """The httpx error the cloud client's retry logic understands for an aiohttp failure."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text)
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(text)
    return httpx.RemoteProtocolError(f"connection closed without an answer ({text})")


class AiohttpCloudClient(AsyncCloudClient):
    """Same API and behaviour as ``AsyncCloudClient``; ``session`` is shared by ``for_device`` clients."""

    def __init__(self, *args: Any, session: aiohttp.ClientSession, **kwargs: Any) -> None:
        super().__init__(*args, http=httpx.AsyncClient(), **kwargs)  # never used for requests; closed with us
        self.session = session

    @classmethod
    def open(cls, base_url: str, connections: int, **kwargs: Any) -> Self:
        """A client with its own session of at most ``connections`` connections (close with ``aclose``)."""
        timeout_s = float(kwargs.get("timeout", 10.0))
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=20)
        session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
        client = cls(base_url, session=session, **kwargs)
        client._owns_session = True
        return client

    _owns_session = False

    def for_device(self, credentials: Credentials) -> AiohttpCloudClient:
        return AiohttpCloudClient(self.base_url, credentials, retry=self.retry, on_retry=self.on_retry,
                                  timeout=self.timeout, session=self.session)  # fmt: skip

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._owns_session:
            await self.session.close()

    async def _call(self, call: _Call) -> tuple[Any, int, int]:
        attempt = 0
        while True:
            attempt += 1
            url, headers = self._request(call)
            try:
                async with self.session.request(call.method, url, data=call.body or None, headers=headers) as resp:
                    content = await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                await asyncio.sleep(self._wait_after_transport(call, _as_httpx(exc), attempt))
                continue
            if 200 <= status < 300:
                try:
                    return (json.loads(content) if content else None), status, attempt
                except ValueError:
                    return self._document(call, httpx.Response(status, content=content)), status, attempt
            await asyncio.sleep(self._wait_after_status(call, httpx.Response(status, content=content), attempt))
