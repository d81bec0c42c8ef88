"""The device side of the cloud API: signed requests, idempotent uploads, retries with backoff.

Two clients with the same methods: ``CloudClient`` (blocking; the box emulator) and
``AsyncCloudClient`` (asyncio; ``klx replay`` at high rates). Typical use::

    async with AsyncCloudClient("http://127.0.0.1:8787", on_retry=events.append) as cloud:
        creds = await cloud.claim("SN-0001", "klx-emu", store="store-1")
        device = cloud.for_device(creds)                  # shares the transport (connection pool)
        result = await device.upload(body, idempotency_key(creds.device_id, digest, occurrence))
        result.answer["qr"], result.duplicate, result.attempts

The client owns the API's rules, once: every attempt is signed afresh (new timestamp and nonce, see
``core/cloud/protocol``), an upload's retries reuse its idempotency key so the cloud stores it once,
and failures are classified into the codes of ``errors.py``. Retried: network failures (DNS, connect,
timeouts, answers lost to a dropped connection), 5xx and 429 — up to ``RetryPolicy.attempts`` tries
with capped exponential backoff and jitter; each retry is reported to ``on_retry`` and counted in
``retries``. Not retried (raised at once): TLS failures, bad credentials (401, unknown device 404)
and refusals (409, 413, 422, …). How a request travels is the transport's business (``transport=``,
as in httpx): httpx by default, aiohttp for the replay (``services/replay/http.py``).
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
from urllib.parse import quote, urlencode, urlsplit

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.errors import (
    CloudAuthError,
    CloudError,
    CloudRefusedError,
    CloudUnavailableError,
    CloudUnreachableError,
    http_code,
)
from kelaile_cli.services.cloud.transport import (
    AsyncHttpxTransport,
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    HttpxTransport,
    Transport,
)

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
    path: str  # below the base URL, query included, already percent-encoded
    body: bytes = b""
    signed: bool = True
    key: str | None = None


_REASONS = {"CLOUD_DNS": "dns", "CLOUD_CONNECT": "connect", "CLOUD_TIMEOUT": "timeout", "CLOUD_DROPPED": "dropped"}
_JSON = {"content-type": "application/json"}


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _segment(text: str) -> str:
    """One path segment, percent-encoded (an order number or device id never escapes its place)."""
    return quote(text, safe="")


class _Base:
    """Signing, retry decisions and error classification, shared by both clients."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        retry: RetryPolicy | None,
        on_retry: Callable[[RetryEvent], None] | None,
        timeout: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.timeout = timeout
        self.retries = 0
        self.retry_reasons: Counter[str] = Counter()
        self._rng = random.Random()

    def _creds(self) -> Credentials:
        if self.credentials is None:
            raise CloudAuthError("no device credentials", code="CLOUD_SIGNATURE",
                                 remedy="claim the device first (client.claim or for_device)")  # fmt: skip
        return self.credentials

    def _request(self, call: _Call) -> HttpRequest:
        """One attempt: signed now, with a fresh nonce."""
        headers = _JSON if call.body else {}
        if call.signed:
            creds = self._creds()
            stamp, nonce = int(time.time()), secrets.token_hex(8)
            signed = cp.signed_headers(creds.device_id, creds.secret, call.method, self._base_path + call.path,
                                       stamp, call.body, call.key, nonce)  # fmt: skip
            headers = {**headers, **signed}
        return HttpRequest(call.method, self.base_url + call.path, headers, call.body)

    def _retry_or_raise(self, call: _Call, attempt: int, reason: str, error: CloudError) -> float:
        """The wait before the next attempt, or raise ``error`` when it is final or the attempts are used up."""
        if not error.retried or attempt >= self.retry.attempts:
            raise error
        delay = self.retry.delay(attempt, self._rng)
        self.retries += 1
        self.retry_reasons[reason] += 1
        if self.on_retry is not None:
            self.on_retry(RetryEvent(call.method, call.path, attempt, reason, delay, call.key))
        return delay

    def _no_answer(self, call: _Call, exc: CloudError, attempt: int) -> CloudError:
        """The user-facing error for a transport failure: which cloud, which request, how often tried."""
        tries = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
        where, code = f"cloud {self.base_url}", exc.code or "CLOUD_CONNECT"
        if code == "CLOUD_TLS":
            message = f"{where}: TLS failed ({exc.message})"
            remedy = "check the cloud's address, certificate and clock"
        elif code in ("CLOUD_DNS", "CLOUD_CONNECT"):
            message = f"{where} unreachable ({exc.message}, {tries})"
            remedy = "check the host name in --cloud and the network's DNS" if code == "CLOUD_DNS" else \
                "start it (klx cloud serve) or check --cloud"  # fmt: skip
        else:
            detail = "timed out" if code == "CLOUD_TIMEOUT" else "connection closed without an answer"
            message = f"{where}: {call.method} {call.path} {detail} ({tries})"
            remedy = "check the cloud's health and retry later"
        return type(exc)(message, code=code, remedy=remedy)

    def _status_error(self, call: _Call, response: HttpResponse, attempt: int) -> CloudError:
        try:
            doc = json.loads(response.body)
            error, detail = str(doc.get("error", "")), str(doc.get("detail", ""))
        except (ValueError, AttributeError):
            error, detail = "", response.body[:200].decode("utf-8", "replace")
        status, code = response.status, http_code(response.status)
        what = f"cloud {self.base_url}: {call.method} {call.path} → {status} {error}".rstrip()
        what += f": {detail}" if detail else ""
        kw: dict[str, Any] = {"code": code, "status": status, "cloud_error": error}
        if status in (429, 500, 502, 503, 504):
            return CloudUnavailableError(f"{what} (after {attempt} attempts)", remedy="check the cloud's health", **kw)
        if status == 401 or (status == 404 and error == "unknown device"):
            return CloudAuthError(what, remedy="claim the device again (or check the clock if the timestamp is stale)",
                                  **kw)  # fmt: skip
        return CloudRefusedError(what, remedy="fix the request; retrying will not help", **kw)

    def _after_failure(self, call: _Call, exc: CloudError, attempt: int) -> float:
        """A transport failure: the wait before the next attempt, or raise its final error."""
        return self._retry_or_raise(call, attempt, _REASONS.get(exc.code or "", "dropped"),
                                    self._no_answer(call, exc, attempt))  # fmt: skip

    def _after_answer(self, call: _Call, response: HttpResponse, attempt: int) -> tuple[Any, float]:
        """``(document, 0)`` for a 2xx answer; ``(None, wait)`` before retrying a 429/5xx; raise otherwise."""
        if 200 <= response.status < 300:
            return self._document(call, response), 0.0
        error = self._status_error(call, response, attempt)
        return None, self._retry_or_raise(call, attempt, f"http {response.status}", error)

    def _document(self, call: _Call, response: HttpResponse) -> Any:
        if response.status == 204 or not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise CloudUnavailableError(f"cloud {self.base_url}: {call.method} {call.path} answered no JSON",
                                        code="CLOUD_BAD_ANSWER", status=response.status,
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
        device = _segment(self._creds().device_id)
        return _Call("POST", f"{cp.API_PREFIX}/devices/{device}/heartbeat", _encode(state))

    @staticmethod
    def _payment(order_no: str) -> _Call:
        return _Call("GET", f"{cp.API_PREFIX}/payments/{_segment(order_no)}")

    @staticmethod
    def _print_poll(printer: dict[str, Any]) -> _Call:
        return _Call("POST", f"{cp.API_PREFIX}/print/poll", _encode(printer))

    @staticmethod
    def _print_job(token: str, code: str | None = None) -> _Call:
        path = f"{cp.API_PREFIX}/print/jobs/{_segment(token)}"
        return _Call("GET", path) if code is None else _Call("DELETE", f"{path}?{urlencode({'code': code})}")

    @staticmethod
    def _admin(method: str, path: str, query: dict[str, Any] | None = None) -> _Call:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        return _Call(method, f"{cp.API_PREFIX}{path}" + (f"?{urlencode(params)}" if params else ""), signed=False)


# -- blocking client -----------------------------------------------------------------------------------
class CloudClient(_Base):
    """Blocking client; thread-safe when its transport is (the default httpx one is)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        timeout: float = 10.0,
        transport: Transport | None = None,
    ) -> None:
        """``transport`` carries the requests (default: httpx with ``timeout``); a given one is not closed here."""
        super().__init__(base_url, credentials, retry, on_retry, timeout)
        self._owns_transport = transport is None
        self.transport: Transport = transport or HttpxTransport(timeout)

    def for_device(self, credentials: Credentials) -> CloudClient:
        """A client for another device sharing this one's transport, policy and callback."""
        return CloudClient(self.base_url, credentials, retry=self.retry, on_retry=self.on_retry,
                           timeout=self.timeout, transport=self.transport)  # fmt: skip

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, call: _Call) -> tuple[Any, int, int]:
        """(document, status, attempts)."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self.transport.send(self._request(call))
            except CloudError as exc:
                time.sleep(self._after_failure(call, exc, attempt))
                continue
            doc, wait = self._after_answer(call, response, attempt)
            if not wait:
                return doc, response.status, attempt
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

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
        """``{"order_no", "status": "pending"|"paid", "paid_at", "amount"}`` of one of this device's orders."""
        return self._call(self._payment(order_no))[0]

    # online orders, CloudPRNT-style (see services/cloud/sandbox/online_orders.py)
    def print_poll(self, printer: dict[str, Any]) -> dict[str, Any]:
        """``{"job_ready", "job_token", "poll_interval_s"}``; ``printer``: online, paper, cover_open, busy."""
        return self._call(self._print_poll(printer))[0]

    def print_job(self, token: str) -> dict[str, Any]:
        """``{"token", "status", "order"}`` of a job offered to this device."""
        return self._call(self._print_job(token))[0]

    def confirm_print(self, token: str, code: str = "OK") -> dict[str, Any]:
        """``OK`` when the printer took the job, else the printer's status (the cloud offers it again)."""
        return self._call(self._print_job(token, code))[0]

    # sandbox admin (unsigned, loopback)
    def pay(self, order_no: str) -> dict[str, Any]:
        return self._call(self._admin("POST", f"/sandbox/orders/{_segment(order_no)}/pay"))[0]

    def stats(self) -> dict[str, Any]:
        return self._call(self._admin("GET", "/stats"))[0]

    def devices(self) -> list[dict[str, Any]]:
        return self._call(self._admin("GET", "/devices"))[0]["devices"]

    def transactions(self, device_id: str | None = None, limit: int = 100, after: int = 0) -> dict[str, Any]:
        query = {"device_id": device_id, "limit": limit, "after": after}
        return self._call(self._admin("GET", "/transactions", query))[0]


# -- asyncio client --------------------------------------------------------------------------------------
class AsyncCloudClient(_Base):
    """asyncio client; many uploads may run concurrently on one instance (bounded by the transport's pool)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        timeout: float = 10.0,
        max_connections: int = 100,
        transport: AsyncTransport | None = None,
        owns_transport: bool | None = None,
    ) -> None:
        """``transport`` carries the requests (default: httpx with ``timeout`` and ``max_connections``);
        it is closed with this client when the client made it, or when ``owns_transport`` says so."""
        super().__init__(base_url, credentials, retry, on_retry, timeout)
        self._owns_transport = transport is None if owns_transport is None else owns_transport
        self.transport: AsyncTransport = transport or AsyncHttpxTransport(timeout, max_connections=max_connections)

    def for_device(self, credentials: Credentials) -> AsyncCloudClient:
        """A client for another device sharing this one's transport, policy and callback.

        Its ``retries`` counter is its own; the parent's counts only the parent's requests.
        """
        return AsyncCloudClient(self.base_url, credentials, retry=self.retry, on_retry=self.on_retry,
                                timeout=self.timeout, transport=self.transport, owns_transport=False)  # fmt: skip

    async def aclose(self) -> None:
        if self._owns_transport:
            await self.transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _call(self, call: _Call) -> tuple[Any, int, int]:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = await self.transport.send(self._request(call))
            except CloudError as exc:
                await asyncio.sleep(self._after_failure(call, exc, attempt))
                continue
            doc, wait = self._after_answer(call, response, attempt)
            if not wait:
                return doc, response.status, attempt
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

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
        return (await self._call(self._payment(order_no)))[0]

    async def pay(self, order_no: str) -> dict[str, Any]:
        return (await self._call(self._admin("POST", f"/sandbox/orders/{_segment(order_no)}/pay")))[0]

    async def stats(self) -> dict[str, Any]:
        return (await self._call(self._admin("GET", "/stats")))[0]
