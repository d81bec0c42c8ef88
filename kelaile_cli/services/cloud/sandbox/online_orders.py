"""Online orders (delivery platforms) printed by the box: the sandbox's order book and print-job endpoints.

The cycle follows Star CloudPRNT's poll / fetch / confirm rather than an invented one:

1. the box polls ``POST /v1/print/poll`` (signed) with its printer's status; the answer says whether a job
   is ready, its token, and how long to wait before the next poll. One addition to CloudPRNT: a box may take
   up to ``max_jobs`` ready jobs at once (``job_tokens``, oldest first), so a burst of orders costs one poll;
2. it fetches ``GET /v1/print/jobs/{token}`` (the order; the box renders it in the printer's width and code
   page, which only it knows);
3. it confirms ``DELETE /v1/print/jobs/{token}?code=OK`` once the printer took the job, or with the printer's
   status (``PAPER_OUT``, ``OFFLINE``, …) when it did not.

An offered job that is not confirmed within ``REOFFER_S`` is offered again; a job is marked printed only by
an ``OK`` confirmation for its current token, so nothing the printer did not take counts as printed, and a
repeated confirmation (a box that rebooted after printing) changes nothing. No job is offered to a box whose
printer reports it cannot print. Orders are created by the sandbox admin (``POST /v1/sandbox/orders``, loopback
only; ``klx cloud order``) and listed with their status by ``GET /v1/sandbox/orders`` (``klx cloud orders``).

The book keeps its own SQLite connection to the cloud's database file (WAL: several connections share it).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

__all__ = ["REOFFER_S", "OrderBook", "OrderIn", "install_online_orders"]

REOFFER_S = 30.0  # an offered job not confirmed this long is offered again
POLL_INTERVAL_S = 1.0  # what the cloud asks boxes to wait between polls
MAX_JOBS = 20  # the most job tokens one poll answer offers
_STATUSES = ("received", "printing", "printed", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_orders (
    seq         INTEGER PRIMARY KEY,
    order_id    TEXT NOT NULL UNIQUE,
    store       TEXT NOT NULL,
    platform    TEXT NOT NULL,
    number      TEXT NOT NULL,
    doc         TEXT NOT NULL,       -- the order as the box prints it (JSON)
    created_at  REAL NOT NULL,
    status      TEXT NOT NULL DEFAULT 'received',  -- received | printing | printed | failed (re-offered)
    token       TEXT,                -- the current offer's job token
    device_id   TEXT,                -- the box it was last offered to
    offered_at  REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    printed_at  REAL,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS online_orders_queue ON online_orders(store, status, seq);
"""


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    qty: int = Field(default=1, ge=1, le=999)
    price: str = Field(default="0", pattern=r"^-?\d+(\.\d{1,4})?$")
    options: list[str] = Field(default_factory=list, max_length=20)


class OrderIn(BaseModel):
    """An online order from a delivery platform."""

    store: str = Field(min_length=1, max_length=128)
    platform: str = Field(min_length=1, max_length=64)
    number: str | None = Field(default=None, max_length=64, description="the platform's order number")
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    customer: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, description="masked, e.g. 138****5678")
    mode: Literal["delivery", "pickup"] = "delivery"
    pickup_code: str | None = Field(default=None, max_length=20)
    fees: str | None = Field(default=None, pattern=r"^\d+(\.\d{1,4})?$")
    paid: bool = True
    due: str | None = Field(default=None, max_length=40, description="when the customer expects it")


class PollIn(BaseModel):
    """The box's printer as it stands (DLE EOT status); a printer that cannot print gets no job."""

    online: bool = True
    paper: Literal["ok", "near_end", "out"] = "ok"
    cover_open: bool = False
    busy: bool = False
    max_jobs: int = Field(default=1, ge=1, le=MAX_JOBS, description="how many ready jobs the box takes at once")


def _mask(phone: str | None) -> str | None:
    if not phone or "*" in phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def _document(order: OrderIn, order_id: str, number: str, created: float) -> dict[str, Any]:
    items, subtotal = [], Decimal(0)
    for item in order.items:
        try:
            amount = Decimal(item.price) * item.qty
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            amount = Decimal(0)
        subtotal += amount
        items.append({"name": item.name, "qty": item.qty, "price": item.price, "amount": f"{amount:.2f}",
                      "options": item.options})  # fmt: skip
    fees = Decimal(order.fees or 0)
    return {
        "order_id": order_id, "number": number, "store": order.store, "platform": order.platform,
        "items": items, "note": order.note, "customer": order.customer, "phone": _mask(order.phone),
        "mode": order.mode, "pickup_code": order.pickup_code, "subtotal": f"{subtotal:.2f}",
        "fees": f"{fees:.2f}" if order.fees else None, "total": f"{subtotal + fees:.2f}", "paid": order.paid,
        "due": order.due, "created": created,
    }  # fmt: skip


class OrderBook:
    """The online orders of every store, and their print jobs."""

    def __init__(self, path: str | Path, *, reoffer_s: float = REOFFER_S) -> None:
        self.reoffer_s = reoffer_s
        self._lock = threading.Lock()
        self.db = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False, timeout=10.0)
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def create(self, order: OrderIn, now: float) -> dict[str, Any]:
        order_id = "ord_" + secrets.token_hex(8)
        number = order.number or f"{int(now) % 100000:05d}{secrets.randbelow(100):02d}"
        doc = _document(order, order_id, number, now)
        with self._lock:
            self.db.execute(
                "INSERT INTO online_orders(order_id, store, platform, number, doc, created_at) VALUES (?,?,?,?,?,?)",
                (order_id, order.store, order.platform, number, json.dumps(doc, ensure_ascii=False), now),
            )
        return self._public(order_id)

    def offer(self, device_id: str, store: str | None, now: float) -> str | None:
        """The token of the oldest job for ``store`` that is waiting (or whose offer went stale), or None."""
        tokens = self.offer_many(device_id, store, now, 1)
        return tokens[0] if tokens else None

    def offer_many(self, device_id: str, store: str | None, now: float, limit: int) -> list[str]:
        """Tokens of the ``limit`` oldest jobs for ``store`` that are waiting (or whose offer went stale), oldest
        first; a job already offered to this box keeps its token (it rebooted, or lost the answer)."""
        if not store:
            return []
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                rows = self.db.execute(
                    "SELECT order_id, status, token, device_id FROM online_orders WHERE store=? AND "
                    "(status IN ('received','failed') OR (status='printing' AND (device_id=? OR offered_at<?))) "
                    "ORDER BY seq LIMIT ?",
                    (store, device_id, now - self.reoffer_s, max(1, limit)),
                ).fetchall()
                tokens = []
                for order_id, status, offered, offered_to in rows:
                    if status == "printing" and offered_to == device_id and offered:
                        tokens.append(str(offered))  # the same box asks again: the same job
                        continue
                    token = f"{order_id}.{secrets.token_hex(6)}"
                    self.db.execute(
                        "UPDATE online_orders SET status='printing', token=?, device_id=?, offered_at=?, "
                        "attempts=attempts+1 WHERE order_id=?",
                        (token, device_id, now, order_id),
                    )
                    tokens.append(token)
                self.db.execute("COMMIT")
                return tokens
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def waiting(self, device_id: str, store: str | None, now: float) -> int:
        """How many jobs for ``store`` wait to be printed (what a box whose printer cannot print is told)."""
        if not store:
            return 0
        with self._lock:
            row = self.db.execute(
                "SELECT COUNT(*) FROM online_orders WHERE store=? AND "
                "(status IN ('received','failed') OR (status='printing' AND (device_id=? OR offered_at<?)))",
                (store, device_id, now - self.reoffer_s),
            ).fetchone()
        return int(row[0])

    def job(self, token: str, device_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.execute(
                "SELECT doc, status FROM online_orders WHERE token=? AND device_id=?", (token, device_id)
            ).fetchone()
        if row is None:
            return None
        return {"token": token, "status": row[1], "order": json.loads(row[0])}

    def confirm(self, token: str, device_id: str, code: str, now: float) -> str | None:
        """Record the printer's verdict on a job; the order's status after it, or None for an unknown token."""
        with self._lock:
            row = self.db.execute(
                "SELECT order_id, status FROM online_orders WHERE token=? AND device_id=?", (token, device_id)
            ).fetchone()
            if row is None:
                return None
            order_id, status = row
            if status == "printed":
                return "printed"  # a repeated confirmation: already counted
            if code.upper() == "OK":
                self.db.execute(
                    "UPDATE online_orders SET status='printed', printed_at=?, last_error=NULL WHERE order_id=?",
                    (now, order_id),
                )
                return "printed"
            self.db.execute(
                "UPDATE online_orders SET status='failed', last_error=?, token=NULL WHERE order_id=?",
                (code[:64], order_id),
            )
            return "failed"

    def _public(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            row = self.db.execute(
                "SELECT doc, status, attempts, printed_at, last_error, device_id FROM online_orders WHERE order_id=?",
                (order_id,),
            ).fetchone()
        doc = json.loads(row[0])
        return {**doc, "status": row[1], "attempts": row[2], "printed_at": row[3], "last_error": row[4],
                "device_id": row[5]}  # fmt: skip

    def find(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            known = self.db.execute("SELECT 1 FROM online_orders WHERE order_id=?", (order_id,)).fetchone()
        return self._public(order_id) if known else None

    def orders(self, store: str | None = None, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = "SELECT order_id FROM online_orders WHERE 1=1"
        args: list[Any] = []
        if store:
            query, args = query + " AND store=?", [*args, store]
        if status:
            query, args = query + " AND status=?", [*args, status]
        with self._lock:
            ids = [r[0] for r in self.db.execute(query + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()]
        return [self._public(i) for i in ids]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT status, COUNT(*) FROM online_orders GROUP BY status").fetchall()
        return {s: 0 for s in _STATUSES} | {str(s): int(n) for s, n in rows}


def install_online_orders(
    api: Any, db: str | Path, *, signed: Any, admin_route: dict[str, Any], clock: Callable[[], float],
    error: Callable[[int, str, str], Exception], to_json: Callable[[int, Any], Response],
) -> OrderBook:  # fmt: skip
    """Add the order book's endpoints to the sandbox app ``api`` (``signed``: the signed-device dependency)."""
    book = OrderBook(db)
    api.state.order_book = book
    api.router.add_event_handler("shutdown", book.close)

    @api.post("/v1/sandbox/orders", status_code=201, **admin_route)
    async def create_order(order: OrderIn) -> Response:
        """Create an online order for a store, as a delivery platform would."""
        return to_json(201, book.create(order, clock()))

    @api.get("/v1/sandbox/orders", **admin_route)
    async def list_orders(
        store: str | None = None,
        status: Annotated[str | None, Query(pattern="^(received|printing|printed|failed)$")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        """Online orders, newest first, with their print status and attempts."""
        return to_json(200, {"orders": book.orders(store, status, limit), "counts": book.counts()})

    @api.get("/o/{order_id}", tags=["customer"])
    async def order_page(order_id: str) -> Response:
        """Where the QR on a printed order leads: the order's number, platform and print status."""
        found = book.find(order_id)
        if found is None:
            raise error(404, "unknown order", f"no order {order_id}")
        keys = ("number", "platform", "store", "status", "total", "paid", "mode", "pickup_code")
        return to_json(200, {k: found.get(k) for k in keys})

    @api.post("/v1/print/poll", tags=["device"])
    async def poll(printer: PollIn, device: Any = signed) -> Response:
        """CloudPRNT-style poll: is a job ready for this box? A printer that cannot print gets none."""
        ready = printer.online and printer.paper != "out" and not printer.cover_open and not printer.busy
        now = clock()
        tokens = book.offer_many(device.device_id, device.store, now, printer.max_jobs) if ready else []
        waiting = book.waiting(device.device_id, device.store, now)  # offered or not: the box's printer's queue
        return to_json(200, {"job_ready": bool(tokens), "job_token": tokens[0] if tokens else None,
                             "job_tokens": tokens, "jobs_waiting": waiting,
                             "poll_interval_s": POLL_INTERVAL_S})  # fmt: skip

    @api.get("/v1/print/jobs/{token}", tags=["device"])
    async def fetch_job(token: str, device: Any = signed) -> Response:
        """The order behind a job token offered to this box."""
        job = book.job(token, device.device_id)
        if job is None:
            raise error(404, "unknown job", f"no job {token} for device {device.device_id}")
        return to_json(200, job)

    @api.delete("/v1/print/jobs/{token}", tags=["device"])
    async def confirm_job(
        token: str, code: Annotated[str, Query(min_length=1, max_length=64)], device: Any = signed
    ) -> Response:
        """Confirm a job: ``code=OK`` when the printer took it, else the printer's status (the job is offered again)."""
        status = book.confirm(token, device.device_id, code, clock())
        if status is None:
            raise error(404, "unknown job", f"no job {token} for device {device.device_id}")
        return to_json(200, {"token": token, "status": status})

    return book
