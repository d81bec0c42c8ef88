"""The device side of the cloud API: signed requests, idempotent uploads, retries with backoff.

Two clients with the same methods: ``CloudClient`` (blocking; the box emulator) and
``AsyncCloudClient`` (asyncio; ``klx replay`` at high rates). Typical use::

    async with AsyncCloudClient("http://127.0.0.1:8787", on_retry=events.append) as cloud:
        creds = await cloud.claim("SN-0001", "klx-emu", store="store-1")
        device = cloud.for_device(creds)                  # shares the connection pool
        result = await device.upload(body, idempotency_key(creds.device_id, digest, occurrence))
        result.answer["qr"], result.duplicate, result.attempts

Every attempt is signed afresh (new timestamp and nonce, see ``core/cloud/protocol``) and an upload's
retries reuse its idempotency key, so the cloud stores it once. Retried: connection errors, timeouts,
answers lost to a dropped connection, 5xx and 429 — up to ``RetryPolicy.attempts`` tries with capped
exponential backoff and jitter; each retry is reported to ``on_retry`` and counted in ``retries``.
Not retried (raised at once): bad credentials (401, unknown device 404) and refusals (409, 422, …).
``UploadResult.duplicate`` is true when the cloud already had the key — expected after a dropped
answer (``attempts > 1``); a replay counts unique transactions by key, not by this flag.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.errors import InputError, JobError

__all__ = [
    "AsyncCloudClient",
    "CloudAuthError",
    "CloudClient",
    "CloudError",
    "CloudRefusedError",
    "CloudUnavailableError",
    "CloudUnreachableError",
    "Credentials",
    "RetryEvent",
    "RetryPolicy",
    "UploadResult",
]


# -- errors ------------------------------------------------------------------------------------------
class CloudError(JobError):
    """A request the cloud did not accept. ``kind`` names the class of failure for reports."""

    kind = "cloud"

    def __init__(self, message: str, *, remedy: str | None = None, status: int | None = None, code: str = "") -> None:
        super().__init__(message, remedy=remedy)
        self.status, self.code = status, code


class CloudUnreachableError(CloudError):
    """No connection could be made (refused, no route, DNS)."""

    kind = "unreachable"


class CloudUnavailableError(CloudError):
    """Connected, but no good answer after every retry (5xx, timeouts, dropped answers)."""

    kind = "unavailable"


class CloudAuthError(CloudError):
    """The cloud does not accept these credentials (bad/stale/replayed signature, unknown device)."""

    kind = "credentials"


class CloudRefusedError(CloudError):
    """The cloud understood and refused the request (key reused with another body, invalid body)."""

    kind = "refused"


# -- values ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Credentials:
    """A claimed device's identity. ``save``/``load`` keep it as a small JSON file (mode 0600)."""

    device_id: str
    secret: str
    store: str | None = None
    serial: str | None = None
    cloud: str | None = None

    def save(self, path: str | Path) -> None:
        file = Path(path)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(self), fh, indent=2)
        except OSError as exc:
            raise InputError(f"{file}: cannot write credentials ({exc.strerror or exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> Credentials:
        file = Path(path)
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            return cls(**{k: doc.get(k) for k in ("device_id", "secret", "store", "serial", "cloud")})
        except OSError as exc:
            raise InputError(f"{file}: cannot read credentials ({exc.strerror or exc})",
                             remedy="claim the device first") from None  # fmt: skip
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"{file}: not a credentials file ({exc})", remedy="claim the device again") from None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; before retry n (1-based) wait about ``min(cap, base·2^(n-1))``, half jittered."""

    attempts: int = 6
    base_s: float = 0.05
    cap_s: float = 2.0

    def delay(self, retry: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** max(0, retry - 1)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry: which request, the attempt that failed, why, and the wait before the next."""

    method: str
    path: str
    attempt: int
    reason: str  # "connect", "timeout", "dropped", "http 503", …
    delay_s: float
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class UploadResult:
    transaction_id: str
    duplicate: bool
    answer: dict[str, Any]
    attempts: int
    status: int


# -- shared request logic (no I/O) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    path: str
    body: bytes = b""
    signed: bool = True
    key: str | None = None


_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "dropped"  # RemoteProtocolError, ReadError, WriteError: the connection died without an answer


class _Base:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        retry: RetryPolicy | None,
        on_retry: Callable[[RetryEvent], None] | None,
        timeout: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.timeout = timeout
        self.retries = 0
        self.retry_reasons: Counter[str] = Counter()
        self._rng = random.Random()

    def _creds(self) -> Credentials:
        if self.credentials is None:
            raise CloudAuthError("no device credentials", remedy="claim the device first (client.claim or for_device)")
        return self.credentials

    def _request(self, call: _Call) -> tuple[str, dict[str, str]]:
        """URL and headers of one attempt: signed now, with a fresh nonce."""
        url = self.base_url + call.path
        headers = {"content-type": "application/json"} if call.body else {}
        if call.signed:
            creds = self._creds()
            path = httpx.URL(url).raw_path.decode("ascii")
            stamp, nonce = int(time.time()), secrets.token_hex(8)
            headers.update(
                cp.signed_headers(creds.device_id, creds.secret, call.method, path, stamp, call.body, call.key, nonce)
            )
        return url, headers

    def _retry_or_raise(self, call: _Call, attempt: int, reason: str, error: CloudError) -> float:
        """The wait before the next attempt, or raise ``error`` when the attempts are used up."""
        if attempt >= self.retry.attempts:
            raise error
        delay = self.retry.delay(attempt, self._rng)
        self.retries += 1
        self.retry_reasons[reason] += 1
        if self.on_retry is not None:
            self.on_retry(RetryEvent(call.method, call.path, attempt, reason, delay, call.key))
        return delay

    def _transport_error(self, call: _Call, exc: httpx.TransportError, attempt: int) -> tuple[str, CloudError]:
        reason = _transport_reason(exc)
        where = f"cloud {self.base_url}"
        tries = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
        if reason == "connect":
            return reason, CloudUnreachableError(f"{where} unreachable ({exc or type(exc).__name__}, {tries})",
                                            remedy="start it (klx cloud serve) or check --cloud")  # fmt: skip
        detail = "timed out" if reason == "timeout" else "connection closed without an answer"
        return reason, CloudUnavailableError(f"{where}: {call.method} {call.path} {detail} ({tries})",
                                        remedy="check the cloud's health and retry later")  # fmt: skip

    def _status_error(self, call: _Call, response: httpx.Response, attempt: int) -> CloudError:
        try:
            doc = response.json()
            code, detail = str(doc.get("error", "")), str(doc.get("detail", ""))
        except (ValueError, AttributeError):
            code, detail = "", response.text[:200]
        status = response.status_code
        what = f"cloud {self.base_url}: {call.method} {call.path} → {status} {code}".rstrip()
        what += f": {detail}" if detail else ""
        if status in _RETRY_STATUS:
            return CloudUnavailableError(f"{what} (after {attempt} attempts)", remedy="check the cloud's health",
                                    status=status, code=code)  # fmt: skip
        if status == 401 or (status == 404 and code == "unknown device"):
            return CloudAuthError(what, remedy="claim the device again (or check the clock if the timestamp is stale)",
                                  status=status, code=code)  # fmt: skip
        return CloudRefusedError(what, remedy="fix the request; retrying will not help", status=status, code=code)

    def _wait_after_transport(self, call: _Call, exc: httpx.TransportError, attempt: int) -> float:
        """No answer to an attempt: the wait before the next one, or raise when the attempts are used up."""
        reason, error = self._transport_error(call, exc, attempt)
        return self._retry_or_raise(call, attempt, reason, error)

    def _wait_after_status(self, call: _Call, response: httpx.Response, attempt: int) -> float:
        """A non-2xx answer: the wait before retrying it (429/5xx), or raise its typed error."""
        error = self._status_error(call, response, attempt)
        if response.status_code not in _RETRY_STATUS:
            raise error
        return self._retry_or_raise(call, attempt, f"http {response.status_code}", error)

    def _document(self, call: _Call, response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CloudUnavailableError(f"cloud {self.base_url}: {call.method} {call.path} answered no JSON",
                                   remedy="is --cloud a Kelaile cloud?") from None  # fmt: skip

    # request builders
    def _claim(self, serial: str, model: str, store: str | None) -> _Call:
        return _Call("POST", f"{cp.API_PREFIX}/devices/claim", _encode({"serial": serial, "model": model,
                                                                        "store": store}), signed=False)  # fmt: skip

    def _claimed(self, doc: Any, serial: str) -> Credentials:
        return Credentials(doc["device_id"], doc["secret"], doc.get("store"), serial, self.base_url)

    def _upload(self, body: dict[str, Any] | bytes, key: str) -> _Call:
        raw = body if isinstance(body, bytes) else _encode(body)
        return _Call("POST", f"{cp.API_PREFIX}/transactions", raw, key=key)

    @staticmethod
    def _uploaded(doc: Any, status: int, attempts: int) -> UploadResult:
        return UploadResult(doc["transaction_id"], bool(doc["duplicate"]), doc["answer"], attempts, status)

    def _heartbeat(self, state: dict[str, Any]) -> _Call:
        return _Call("POST", f"{cp.API_PREFIX}/devices/{self._creds().device_id}/heartbeat", _encode(state))

    @staticmethod
    def _admin(method: str, path: str, query: dict[str, Any] | None = None) -> _Call:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        return _Call(method, f"{cp.API_PREFIX}{path}" + (f"?{urlencode(params)}" if params else ""), signed=False)


# -- blocking client -----------------------------------------------------------------------------------
class CloudClient(_Base):
    """Blocking client (one request at a time per call; thread-safe through httpx's pool)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, credentials, retry, on_retry, timeout)
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=timeout)

    def for_device(self, credentials: Credentials) -> CloudClient:
        """A client for another device sharing this one's connections, policy and callback."""
        return CloudClient(self.base_url, credentials, retry=self.retry, on_retry=self.on_retry,
                           timeout=self.timeout, http=self.http)  # fmt: skip

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, call: _Call) -> tuple[Any, int, int]:
        """(document, status, attempts)."""
        attempt = 0
        while True:
            attempt += 1
            url, headers = self._request(call)
            try:
                response = self.http.request(call.method, url, content=call.body or None, headers=headers)
            except httpx.TransportError as exc:
                time.sleep(self._wait_after_transport(call, exc, attempt))
                continue
            if response.is_success:
                return self._document(call, response), response.status_code, attempt
            time.sleep(self._wait_after_status(call, response, attempt))

    def claim(self, serial: str, model: str, store: str | None = None) -> Credentials:
        """Register the box; the returned credentials also become this client's."""
        doc, _, _ = self._call(self._claim(serial, model, store))
        self.credentials = self._claimed(doc, serial)
        return self.credentials

    def upload(self, body: dict[str, Any] | bytes, idempotency_key: str) -> UploadResult:
        """Send ``analysis.upload_body(...)``; retries reuse ``idempotency_key``."""
        doc, status, attempts = self._call(self._upload(body, idempotency_key))
        return self._uploaded(doc, status, attempts)

    def heartbeat(self, state: dict[str, Any]) -> None:
        self._call(self._heartbeat(state))

    def payment_status(self, order_no: str) -> dict[str, Any]:
        """``{"order_no", "status": "pending"|"paid", "paid_at", "amount"}``."""
        return self._call(_Call("GET", f"{cp.API_PREFIX}/payments/{order_no}"))[0]

    # sandbox admin (unsigned, loopback)
    def pay(self, order_no: str) -> dict[str, Any]:
        return self._call(self._admin("POST", f"/sandbox/orders/{order_no}/pay"))[0]

    def stats(self) -> dict[str, Any]:
        return self._call(self._admin("GET", "/stats"))[0]

    def devices(self) -> list[dict[str, Any]]:
        return self._call(self._admin("GET", "/devices"))[0]["devices"]

    def transactions(self, device_id: str | None = None, limit: int = 100, after: int = 0) -> dict[str, Any]:
        query = {"device_id": device_id, "limit": limit, "after": after}
        return self._call(self._admin("GET", "/transactions", query))[0]


# -- asyncio client --------------------------------------------------------------------------------------
class AsyncCloudClient(_Base):
    """asyncio client; many uploads may run concurrently on one instance (bounded by ``max_connections``)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        timeout: float = 10.0,
        max_connections: int = 100,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, credentials, retry, on_retry, timeout)
        self._owns_http = http is None
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.http = http or httpx.AsyncClient(timeout=timeout, limits=limits)

    def for_device(self, credentials: Credentials) -> AsyncCloudClient:
        """A client for another device sharing this one's connection pool, policy and callback.

        Its ``retries`` counter is its own; the parent's counts only the parent's requests.
        """
        return AsyncCloudClient(self.base_url, credentials, retry=self.retry, on_retry=self.on_retry,
                                timeout=self.timeout, http=self.http)  # fmt: skip

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _call(self, call: _Call) -> tuple[Any, int, int]:
        attempt = 0
        while True:
            attempt += 1
            url, headers = self._request(call)
            try:
                response = await self.http.request(call.method, url, content=call.body or None, headers=headers)
            except httpx.TransportError as exc:
                await asyncio.sleep(self._wait_after_transport(call, exc, attempt))
                continue
            if response.is_success:
                return self._document(call, response), response.status_code, attempt
            await asyncio.sleep(self._wait_after_status(call, response, attempt))

    async def claim(self, serial: str, model: str, store: str | None = None) -> Credentials:
        """Register the box; the returned credentials also become this client's."""
        doc, _, _ = await self._call(self._claim(serial, model, store))
        self.credentials = self._claimed(doc, serial)
        return self.credentials

    async def upload(self, body: dict[str, Any] | bytes, idempotency_key: str) -> UploadResult:
        """Send ``analysis.upload_body(...)``; retries reuse ``idempotency_key``."""
        doc, status, attempts = await self._call(self._upload(body, idempotency_key))
        return self._uploaded(doc, status, attempts)

    async def heartbeat(self, state: dict[str, Any]) -> None:
        await self._call(self._heartbeat(state))

    async def payment_status(self, order_no: str) -> dict[str, Any]:
        return (await self._call(_Call("GET", f"{cp.API_PREFIX}/payments/{order_no}")))[0]

    async def pay(self, order_no: str) -> dict[str, Any]:
        return (await self._call(self._admin("POST", f"/sandbox/orders/{order_no}/pay")))[0]

    async def stats(self) -> dict[str, Any]:
        return (await self._call(self._admin("GET", "/stats")))[0]
