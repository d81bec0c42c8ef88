"""The sandbox cloud as an ASGI app (FastAPI): the endpoints of docs/cloud-api.md.

``create_app(CloudConfig(db=...))`` returns the app ready for any ASGI server (``server.py`` runs it
under uvicorn). Device endpoints check the HMAC signature, its freshness and that it was never seen
before; ingest is idempotent per (device, Idempotency-Key). Sandbox admin endpoints answer loopback
clients only.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kelaile_cli import __version__
from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.services.cloud.sandbox.answers import answer_for, order_no_for, transaction_id_for
from kelaile_cli.services.cloud.sandbox.faults import DROP_SCOPE_KEY, DropMiddleware, Faults
from kelaile_cli.services.cloud.sandbox.limits import BODY_TIMEOUT_S, HEADER_TIMEOUT_S, MAX_BODY, BodyLimits
from kelaile_cli.services.cloud.sandbox.online_orders import install_online_orders
from kelaile_cli.services.cloud.sandbox.provisioning import provisioning_router
from kelaile_cli.services.cloud.sandbox.storage import Device, Ingest, NewRow, Storage, Stored

__all__ = ["ApiError", "CloudConfig", "GroupCommit", "create_app"]

_SECRET_CACHE_S = 5.0
_REPLAYED = "this signature was already used; sign every attempt with a new nonce"


@dataclass
class CloudConfig:
    """Everything ``klx cloud serve`` can set."""

    db: str | Path = "klx-cloud.sqlite"
    faults: Faults = field(default_factory=Faults)
    auto_pay_s: float | None = None  # pre-bill orders count as paid this long after upload
    clock: Callable[[], float] = time.time
    max_body: int = MAX_BODY  # bytes; larger bodies are answered 413 before they are read
    body_timeout_s: float = BODY_TIMEOUT_S  # a body must arrive this soon after its headers, else 408
    header_timeout_s: float = HEADER_TIMEOUT_S  # headers must be complete this soon, else the connection closes
    key_file: str | Path | None = None  # the server key that seals device secrets (default: DB + ".key")


class GroupCommit:
    """Ingests that reach the store in the same event-loop turn share one SQLite commit.

    Each request still gets its answer only after the commit that holds its row, so a retry after any
    failure finds either nothing or the committed row — idempotency is unchanged; the commit (most of
    the store's cost per upload) is paid once per batch.
    """

    def __init__(self, store: Storage) -> None:
        self.store = store
        self.queue: list[tuple[Ingest, asyncio.Future[Any]]] = []
        self.batches = 0
        self.batched = 0

    async def ingest(self, item: Ingest) -> tuple[Stored, bool] | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.queue.append((item, future))
        if len(self.queue) == 1:
            loop.call_soon(self._flush)
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _flush(self) -> None:
        batch, self.queue = self.queue, []
        self.batches, self.batched = self.batches + 1, self.batched + len(batch)
        try:
            outcomes = self.store.ingest_many([item for item, _ in batch])
        except Exception as exc:  # nothing was committed: every request of the batch fails (and is retried)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


class ApiError(Exception):
    """An error answer: ``{"error": code, "detail": detail}`` with an HTTP status."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


# -- documents (OpenAPI) ---------------------------------------------------------------------------
class ClaimIn(BaseModel):
    serial: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)
    store: str | None = Field(default=None, max_length=128)


class ClaimOut(BaseModel):
    device_id: str
    secret: str
    store: str | None


class UploadIn(BaseModel):
    """``kelaile_cli.core.profiles.analysis.upload_body``."""

    model_config = ConfigDict(extra="allow")
    receipt_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    printed_at: str | None = None
    profile: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    kind: Literal["sale", "refund", "pre_bill", "kitchen", "shift_report", "other"]
    transaction: dict[str, Any] | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)


class Answer(BaseModel):
    kind: Literal["loyalty", "payment"]
    qr: str
    text: list[str]
    order_no: str | None = None
    coupon: str | None = None


class UploadOut(BaseModel):
    transaction_id: str
    duplicate: bool
    answer: Answer


class PaymentOut(BaseModel):
    order_no: str
    status: Literal["pending", "paid"]
    paid_at: float | None
    amount: str | None = None


class ErrorOut(BaseModel):
    error: str
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "unsigned, bad signature or timestamp, stale timestamp or replayed"},
    404: {"model": ErrorOut, "description": "unknown device"},
    408: {"model": ErrorOut, "description": "the body did not arrive in time"},
    413: {"model": ErrorOut, "description": "body larger than the limit"},
    422: {"model": ErrorOut, "description": "invalid body or headers"},
    503: {"model": ErrorOut, "description": "injected fault"},
}


class HeartbeatIn(RootModel[dict[str, Any]]):
    """The device's state: a free-form JSON object."""


_M = TypeVar("_M", bound=BaseModel)
_BODY_MODELS: dict[str, type[BaseModel]] = {"ClaimIn": ClaimIn, "UploadIn": UploadIn, "HeartbeatIn": HeartbeatIn}


def _body_doc(model: str) -> dict[str, Any]:
    """OpenAPI for a body a route parses itself (see ``_parse``)."""
    ref = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _parse(model: type[_M], raw: bytes) -> _M:
    """A request body as ``model``; anything else — bad JSON, bytes that are not UTF-8, a wrong shape — is
    one 422 ``invalid body`` with the reasons (FastAPI's own parsing answers undecodable bytes 400)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(422, "invalid body", _describe(exc.errors())) from None


def _json(status: int, doc: Any) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status, media_type="application/json")


def _describe(errors: Sequence[Any]) -> str:
    """Validation errors as one line: ``loc: message; …`` (the first five)."""
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors[:5])


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


def create_app(config: CloudConfig, storage: Storage | None = None) -> Any:
    """The ASGI app. ``storage`` defaults to ``Storage(config.db)``; the app owns and closes it on shutdown."""
    store = storage or Storage(config.db, key_file=config.key_file)
    group = GroupCommit(store)
    faults, clock = config.faults, config.clock
    # device secrets by id, re-read after _SECRET_CACHE_S or when a signature fails (re-claimed since):
    # with several workers, a rotated secret may be accepted by another worker for that long
    known: dict[str, tuple[Device, float]] = {}

    api = FastAPI(
        title="Kelaile sandbox cloud",
        version=__version__,
        description="The cloud a Kelaile box talks to, for tests and load rehearsals. See docs/cloud-api.md.",
    )
    api.state.storage = store
    api.state.group_commit = group
    api.router.add_event_handler("shutdown", store.close)

    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return _json(exc.status, {"error": exc.code, "detail": exc.detail})

    @api.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=400)  # the client left before its body arrived: nobody to answer

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        return _json(422, {"error": "invalid body", "detail": _describe(exc.errors())})

    @api.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return _json(
            exc.status_code, {"error": "not found" if exc.status_code == 404 else "http", "detail": exc.detail}
        )

    # -- dependencies ------------------------------------------------------------------------------
    async def inject_faults(request: Request) -> None:
        if not faults.active:
            return
        delay = faults.delay_s()
        if delay:
            await asyncio.sleep(delay)
        if faults.error():
            raise ApiError(503, "injected", "injected fault (--error-rate): nothing was stored, retry")
        if faults.drop():
            request.scope.get(DROP_SCOPE_KEY, {})["drop"] = True

    async def verified(request: Request) -> tuple[Device, str, int]:
        """The signing device and its signature, checked but not yet remembered."""
        headers = request.headers
        device_id, stamp = headers.get(cp.HEADER_DEVICE), headers.get(cp.HEADER_TIMESTAMP)
        signature = headers.get(cp.HEADER_SIGNATURE)
        if not (device_id and stamp and signature):
            raise ApiError(401, "unsigned", f"{cp.HEADER_DEVICE}, {cp.HEADER_TIMESTAMP} and {cp.HEADER_SIGNATURE} "
                           "are required")  # fmt: skip
        timestamp = cp.parse_timestamp(stamp)
        if timestamp is None:
            shown = stamp if len(stamp) <= 24 else f"{stamp[:20]}… ({len(stamp)} characters)"
            raise ApiError(401, "bad timestamp", f"{cp.HEADER_TIMESTAMP} {shown!r} is not Unix seconds "
                           f"(1–{cp.MAX_TIMESTAMP_DIGITS} digits)")  # fmt: skip
        now = clock()
        entry = known.get(device_id)
        cached = device = entry[0] if entry is not None and entry[1] > now else None
        if device is None:
            device = store.device(device_id)
            if device is None:
                raise ApiError(404, "unknown device", f"device {device_id} was never claimed")
        body = await request.body()
        query = request.scope.get("query_string", b"")
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        path += "?" + query.decode("latin-1") if query else ""
        nonce, key = headers.get(cp.HEADER_NONCE, ""), headers.get(cp.HEADER_IDEMPOTENCY)
        reason = cp.verify(device.secret, request.method, path, timestamp, body, signature, now, nonce, key)
        if reason == "bad signature" and cached is not None:  # re-claimed since (maybe via another worker)?
            fresh = store.device(device_id)
            if fresh is not None and fresh.secret != cached.secret:
                device = fresh
                reason = cp.verify(device.secret, request.method, path, timestamp, body, signature, now, nonce, key)
        if reason is None:
            if device is not cached:
                known[device_id] = (device, now + _SECRET_CACHE_S)
        else:
            known.pop(device_id, None)
            raise ApiError(401, reason, f"{reason} for device {device_id} (server time {int(now)})")
        return device, signature.lower(), timestamp

    async def signed_device(request: Request) -> Device:
        device, signature, timestamp = await verified(request)
        if not store.remember_signature(signature, timestamp, clock()):
            raise ApiError(401, "replayed", _REPLAYED)
        return device

    async def loopback_only(request: Request) -> None:
        if not _is_loopback(request.client.host if request.client else None):
            raise ApiError(403, "forbidden", "sandbox admin endpoints answer loopback clients only")

    signed = Depends(signed_device)
    device_route: dict[str, Any] = {"dependencies": [Depends(inject_faults)], "responses": _ERRORS}
    admin_route: dict[str, Any] = {"dependencies": [Depends(loopback_only)], "tags": ["sandbox admin"]}
    install_online_orders(api, store.path, signed=signed, admin_route=admin_route, clock=clock, error=ApiError,
                          to_json=_json)  # fmt: skip
    api.include_router(provisioning_router(store, clock, signed_device, loopback_only))

    # -- device endpoints --------------------------------------------------------------------------
    @api.get("/v1/health", tags=["device"])
    async def health() -> Response:
        """Unsigned and cheap: the cloud is up and answers (what a box's reachability check asks)."""
        return _json(200, {"ok": True, "time": int(clock())})

    @api.post("/v1/devices/claim", status_code=201, response_model=ClaimOut, tags=["device"],
              responses={422: _ERRORS[422]}, openapi_extra=_body_doc("ClaimIn"))  # fmt: skip
    async def claim(request: Request) -> ClaimOut:
        """Register a box (unsigned; the sandbox accepts any claim). Re-claiming a serial rotates its secret."""
        body = _parse(ClaimIn, await request.body())
        device = store.claim("dev_" + secrets.token_hex(8), body.serial, body.model, body.store,
                             secrets.token_hex(32), clock())  # fmt: skip
        known.pop(device.device_id, None)
        return ClaimOut(device_id=device.device_id, secret=device.secret, store=device.store)

    @api.post(
        "/v1/transactions",
        status_code=201,
        tags=["device"],
        responses={**_ERRORS, 200: {"model": UploadOut, "description": "a retry: the stored answer"},
                   201: {"model": UploadOut}, 409: {"model": ErrorOut, "description": "key reused with another body"}},
        openapi_extra=_body_doc("UploadIn"),
    )  # fmt: skip
    async def ingest(request: Request) -> Response:
        """Store a transaction once per (device, Idempotency-Key) and answer what the box prints.

        The hot path: no FastAPI parameters or dependencies (their resolution cost ~15% of the CPU
        per upload); the body is documented through ``openapi_extra`` and validated here.
        """
        raw = await request.body()  # received first: a slow answer is slow *after* the cloud has the upload
        await inject_faults(request)
        device, signature, timestamp = await verified(request)
        key = request.headers.get(cp.HEADER_IDEMPOTENCY)
        if not key or len(key) > 128:
            raise ApiError(422, "missing idempotency key", f"{cp.HEADER_IDEMPOTENCY} (1–128 characters) is required")
        body = _parse(UploadIn, raw)
        doc = body.model_dump(mode="json")
        canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        now = clock()

        def make() -> NewRow:
            tx_id = transaction_id_for(device.device_id, key)
            order = None
            if body.kind == "pre_bill":
                auto = now + config.auto_pay_s if config.auto_pay_s is not None else None
                order = (order_no_for(tx_id), (body.transaction or {}).get("total"), auto)
            return Stored(tx_id, digest, answer_for(tx_id, body.kind, body.transaction)), body.kind, canonical, order

        outcome = await group.ingest(Ingest(device.device_id, key, signature, timestamp, now, make))
        if outcome is None:
            raise ApiError(401, "replayed", _REPLAYED)
        row, created = outcome
        if row.body_sha256 != digest:
            detail = f"key {key} was used for a different body (transaction {row.transaction_id})"
            raise ApiError(409, "idempotency conflict", detail)
        return _json(201 if created else 200, {"transaction_id": row.transaction_id, "duplicate": not created,
                                               "answer": row.answer})  # fmt: skip

    @api.post("/v1/devices/{device_id}/heartbeat", status_code=204, tags=["device"], **device_route,
              openapi_extra=_body_doc("HeartbeatIn"))  # fmt: skip
    async def heartbeat(device_id: str, request: Request, device: Device = signed) -> Response:
        """Record the device's state (free-form JSON object)."""
        state = _parse(HeartbeatIn, await request.body()).root
        if device_id != device.device_id:
            raise ApiError(403, "wrong device", f"signed by {device.device_id}, not {device_id}")
        store.heartbeat(device_id, state, clock())
        return Response(status_code=204)

    @api.get("/v1/payments/{order_no}", response_model=PaymentOut, tags=["device"], **device_route)
    async def payment(order_no: str, device: Device = signed) -> Response:
        """The payment status of a pre-bill's order."""
        row = store.order(order_no, clock())
        if row is None or row["device_id"] != device.device_id:  # another device's order is not there for it
            raise ApiError(404, "unknown order", f"no order {order_no} for device {device.device_id}")
        return _json(200, {k: row[k] for k in ("order_no", "status", "paid_at", "amount")})

    # -- sandbox admin (loopback, unsigned) --------------------------------------------------------
    @api.post("/v1/sandbox/orders/{order_no}/pay", response_model=PaymentOut, **admin_route)
    async def pay(order_no: str) -> Response:
        """Simulate the customer paying an order."""
        row = store.pay(order_no, clock())
        if row is None:
            raise ApiError(404, "unknown order", f"no order {order_no}")
        return _json(200, {k: row[k] for k in ("order_no", "status", "paid_at", "amount")})

    @api.get("/v1/devices", **admin_route)
    async def devices() -> Response:
        """Every claimed device with its last heartbeat state and transaction count."""
        return _json(200, {"devices": store.devices()})

    @api.get("/v1/transactions", **admin_route)
    async def transactions(
        device_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        """Stored transactions in arrival order; page with ``after`` = the last ``seq`` seen."""
        rows = store.transactions(device_id, limit, after)
        return _json(200, {"transactions": rows, "next_after": rows[-1]["seq"] if rows else after})

    @api.get("/v1/stats", **admin_route)
    async def stats() -> Response:
        """Counts: devices, transactions, by kind, orders, heartbeats; and the active faults."""
        commits = {"batches": group.batches, "ingests": group.batched}  # this worker's, since it started
        return _json(200, {**store.stats(), "faults": faults.as_dict(), "group_commit": commits})

    plain_openapi = api.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document plus the upload body, which the ingest route validates itself."""
        doc = plain_openapi()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _BODY_MODELS.items():
            schemas.setdefault(name, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        return doc

    api.openapi = openapi  # type: ignore[method-assign]
    return DropMiddleware(BodyLimits(api, config.max_body, config.body_timeout_s), faults)
