"""Provisioning in the sandbox cloud: claim codes, install records and the provisioning ticket's QR.

Tables (created here, next to the ones ``storage`` owns)::

    claim_codes        a code bound to a store; single use: the first box that claims with it owns it
    installs           one install record per device: the provisioning report ``klx provision`` uploads
    provision_tickets  a token per provisioning ticket; opening /v1/provision/<token> records a scan

A claim with a code is one SQLite transaction: the code is marked used and the device registered (or
re-bound to the store) together, so a box is never half-claimed. The same box claiming again with its
code gets its identity back unchanged (a re-run is idempotent); another box is refused.
"""

from __future__ import annotations

import html
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kelaile_cli.core.cloud.claim_code import ALPHABET, BODY_LENGTH, format_code, make_code, normalise_code
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox.storage import Device, Storage, db_path, read_database

__all__ = [
    "ClaimRefusedError",
    "ProvisioningStore",
    "create_tables",
    "issue_claim_code",
    "provisioning_router",
    "read_devices",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claim_codes (
    code        TEXT PRIMARY KEY,
    store       TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    serial      TEXT,            -- the box that used it (NULL: unused)
    device_id   TEXT,
    used_at     REAL
);
CREATE TABLE IF NOT EXISTS installs (
    device_id   TEXT PRIMARY KEY,
    serial      TEXT NOT NULL,
    store       TEXT,
    report      TEXT NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS provision_tickets (
    token          TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL,
    store          TEXT,
    created_at     REAL NOT NULL,
    scans          INTEGER NOT NULL DEFAULT 0,
    first_scan_at  REAL,
    last_scan_at   REAL
);
"""
MAX_REPORT = 256 * 1024  # bytes of an install record


def create_tables(db: sqlite3.Connection) -> None:
    """Create the provisioning tables if missing (idempotent)."""
    db.executescript(_SCHEMA)


class ClaimRefusedError(Exception):
    """A claim or ticket request the cloud refuses: HTTP status, stable code, one-line detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _new_code() -> str:
    return make_code("".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH)))


def _insert_code(db: sqlite3.Connection, store: str, ttl_s: float, now: float) -> dict[str, Any]:
    for _ in range(8):  # 29**8 codes: a collision is rare, a repeat of one rarer still
        code = _new_code()
        try:
            db.execute(
                "INSERT INTO claim_codes(code, store, created_at, expires_at) VALUES (?,?,?,?)",
                (code, store, now, now + ttl_s),
            )
        except sqlite3.IntegrityError:
            continue
        return {"code": format_code(code), "store": store, "expires": now + ttl_s}
    raise RuntimeError("could not draw a fresh claim code")  # pragma: no cover - 8 collisions in a row


def issue_claim_code(db: str | Path, store: str, ttl_s: float, now: float) -> dict[str, Any]:
    """A new claim code for ``store`` written straight into the database file (works while it is served)."""
    if not store.strip():
        raise InputError("--store: a store id is required", remedy="e.g. --store S-0042")
    path = db_path(db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"{path}: cannot open the database ({exc})", remedy="pick a writable --db FILE") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        create_tables(conn)
        return _insert_code(conn, store.strip(), ttl_s, now)
    except sqlite3.Error as exc:
        raise InputError(
            f"{path}: not a klx cloud database ({exc})", remedy="give the --db FILE of klx cloud serve"
        ) from None
    finally:
        conn.close()


def read_devices(db: str | Path) -> list[dict[str, Any]]:
    """Claimed devices with their install record, read-only from the database file."""
    return read_database(db, _devices)


def _devices(db: sqlite3.Connection) -> list[dict[str, Any]]:
    has_installs = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='installs'").fetchone()
    install = "(SELECT report FROM installs i WHERE i.device_id=d.device_id)" if has_installs else "NULL"
    rows = db.execute(
        "SELECT d.device_id, d.serial, d.model, d.store, d.claimed_at, d.last_seen, d.heartbeats, "
        f"(SELECT COUNT(*) FROM transactions t WHERE t.device_id=d.device_id), {install} FROM devices d "
        "ORDER BY d.claimed_at"
    ).fetchall()
    keys = ("device_id", "serial", "model", "store", "claimed_at", "last_seen", "heartbeats", "transactions")
    return [{**dict(zip(keys, r[:8], strict=True)), "install": json.loads(r[8]) if r[8] else None} for r in rows]


class ProvisioningStore:
    """The provisioning tables of one ``Storage`` (its connection and lock)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.db = storage.db
        self._lock: threading.Lock = storage._lock  # one lock for every writer of this connection
        with self._lock:
            create_tables(self.db)

    def issue(self, store: str, ttl_s: float, now: float) -> dict[str, Any]:
        with self._lock:
            return _insert_code(self.db, store, ttl_s, now)

    def claim(self, text: str, serial: str, model: str, now: float) -> tuple[Device, bool]:
        """Claim ``serial`` with the code ``text``: ``(device, reused)``; ``ClaimRefusedError`` otherwise."""
        code, why = normalise_code(text)
        if code is None:
            raise ClaimRefusedError(422, "CLAIM_CODE_MALFORMED", f"claim code {text!r}: {why}")
        with self._lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                device, reused = self._claim(code, serial, model, now)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return device, reused

    def _claim(self, code: str, serial: str, model: str, now: float) -> tuple[Device, bool]:
        db = self.db
        row = db.execute(
            "SELECT store, expires_at, serial, device_id FROM claim_codes WHERE code=?", (code,)
        ).fetchone()
        shown = format_code(code)
        if row is None:
            raise ClaimRefusedError(404, "CLAIM_CODE_UNKNOWN", f"claim code {shown} does not exist in this cloud")
        store, expires_at, used_by, device_id = row
        if used_by is not None and used_by != serial:
            raise ClaimRefusedError(409, "CLAIM_CODE_USED", f"claim code {shown} was already used by box {used_by}")
        if used_by == serial:
            found = db.execute(
                "SELECT device_id, serial, model, store, secret FROM devices WHERE device_id=?", (device_id,)
            ).fetchone()
            same = self.storage.device_from_row(found)  # the stored secret is sealed: opened here
            if same is not None and same.store == store:
                return same, True
        elif expires_at < now:
            raise ClaimRefusedError(410, "CLAIM_CODE_EXPIRED", f"claim code {shown} expired")
        device = self.storage.claim_locked("dev_" + secrets.token_hex(8), serial, model, store, secrets.token_hex(32),
                                           now)  # fmt: skip
        db.execute(
            "UPDATE claim_codes SET serial=?, device_id=?, used_at=? WHERE code=?",
            (serial, device.device_id, now, code),
        )
        return device, False

    def ticket(self, device: Device, now: float) -> str:
        """The device's provisioning-ticket token (one per device and store, reused by a re-run)."""
        with self._lock:
            row = self.db.execute(
                "SELECT token FROM provision_tickets WHERE device_id=? AND store IS ?", (device.device_id, device.store)
            ).fetchone()
            if row is not None:
                return str(row[0])
            token = secrets.token_urlsafe(12)
            self.db.execute(
                "INSERT INTO provision_tickets(token, device_id, store, created_at) VALUES (?,?,?,?)",
                (token, device.device_id, device.store, now),
            )
            return token

    def scan(self, token: str, now: float) -> dict[str, Any] | None:
        """Record a scan of the ticket's QR; the ticket (with its device), or None for an unknown token."""
        with self._lock:
            self.db.execute(
                "UPDATE provision_tickets SET scans=scans+1, first_scan_at=COALESCE(first_scan_at, ?), "
                "last_scan_at=? WHERE token=?",
                (now, now, token),
            )
        return self.ticket_status(token)

    def ticket_status(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.execute(
                "SELECT t.device_id, t.store, t.scans, t.first_scan_at, d.serial FROM provision_tickets t "
                "LEFT JOIN devices d ON d.device_id=t.device_id WHERE t.token=?",
                (token,),
            ).fetchone()
        if row is None:
            return None
        keys = ("device_id", "store", "scans", "first_scan_at", "serial")
        return dict(zip(keys, row, strict=True))

    def save_install(self, device_id: str, report: dict[str, Any], now: float) -> None:
        text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self.db.execute(
                "INSERT INTO installs(device_id, serial, store, report, updated_at) "
                "SELECT device_id, serial, store, ?, ? FROM devices WHERE device_id=? "
                "ON CONFLICT(device_id) DO UPDATE SET serial=excluded.serial, store=excluded.store, "
                "report=excluded.report, updated_at=excluded.updated_at",
                (text, now, device_id),
            )

    def devices(self) -> list[dict[str, Any]]:
        with self._lock:
            return _devices(self.db)


# -- HTTP -------------------------------------------------------------------------------------------
class CodeClaimIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    serial: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)


class ClaimCodeIn(BaseModel):
    store: str = Field(min_length=1, max_length=128)
    ttl_s: float = Field(default=7200.0, gt=0, le=90 * 86400)


def _answer(status: int, doc: Any) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status, media_type="application/json")


def _refused(exc: ClaimRefusedError) -> Response:
    return _answer(exc.status, {"error": exc.code, "detail": exc.detail})


_SCANNED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Kelaile</title>
<meta name="viewport" content="width=device-width"></head><body style="font-family:sans-serif">
<h1>&#10003; Kelaile box connected</h1><p>Box {serial} · store {store}</p><p>The provisioning check saw this scan;
the technician's screen moves on by itself.</p></body></html>"""


def provisioning_router(
    storage: Storage,
    clock: Callable[[], float],
    signed: Callable[..., Any],
    admin: Callable[..., Any],
) -> APIRouter:
    """The provisioning endpoints; ``signed`` is the app's signed-device dependency, ``admin`` its loopback check."""
    prov = ProvisioningStore(storage)
    router = APIRouter(tags=["provisioning"])
    signed_device = Depends(signed)
    admin_only = [Depends(admin)]

    @router.post("/v1/provision/claim", status_code=201)
    async def claim_with_code(body: CodeClaimIn) -> Response:
        """Claim a box for the store its claim code is bound to (unsigned: the code is the authority)."""
        try:
            device, reused = prov.claim(body.code, body.serial, body.model, clock())
        except ClaimRefusedError as exc:
            return _refused(exc)
        doc = {"device_id": device.device_id, "secret": device.secret, "store": device.store, "reused": reused}
        return _answer(200 if reused else 201, doc)

    @router.post("/v1/provision/tickets", status_code=201)
    async def new_ticket(request: Request, device: Device = signed_device) -> Response:
        """The token (and URL) the provisioning ticket's QR carries."""
        token = prov.ticket(device, clock())
        url = str(request.base_url).rstrip("/") + f"/v1/provision/{token}"
        return _answer(201, {"token": token, "url": url})

    @router.put("/v1/provision/{token}/install", status_code=204)
    async def install_record(token: str, request: Request) -> Response:
        """Store the install record (the provisioning report, a JSON object) of the ticket's device.

        The ticket's token is the authority: only the box (which asked for it) and whoever read its
        ticket know it, and it names one device."""
        ticket = prov.ticket_status(token)
        if ticket is None:
            return _answer(404, {"error": "unknown ticket", "detail": "no provisioning ticket with this token"})
        raw = await request.body()
        try:
            report = json.loads(raw) if len(raw) <= MAX_REPORT else None
        except ValueError:
            report = None
        if not isinstance(report, dict):
            return _answer(422, {"error": "invalid body", "detail": f"a JSON object of at most {MAX_REPORT} bytes"})
        prov.save_install(str(ticket["device_id"]), report, clock())
        return Response(status_code=204)

    @router.get("/v1/provision/{token}")
    async def scan(token: str) -> Response:
        """A phone opened the ticket's QR: record the scan, answer a small page."""
        ticket = prov.scan(token, clock())
        if ticket is None:
            return _answer(404, {"error": "unknown ticket", "detail": "no provisioning ticket with this token"})
        page = _SCANNED_PAGE.format(serial=html.escape(str(ticket["serial"])), store=html.escape(str(ticket["store"])))
        return Response(page, 200, media_type="text/html")

    @router.get("/v1/provision/{token}/status")
    async def ticket_status(token: str) -> Response:
        """Whether the ticket's QR was scanned (does not count as a scan)."""
        ticket = prov.ticket_status(token)
        if ticket is None:
            return _answer(404, {"error": "unknown ticket", "detail": "no provisioning ticket with this token"})
        return _answer(200, ticket)

    @router.post("/v1/sandbox/claim-codes", status_code=201, dependencies=admin_only, tags=["sandbox admin"])
    async def issue(body: ClaimCodeIn) -> Response:
        """A new claim code for a store (what the back office prints on the technician's work order)."""
        return _answer(201, prov.issue(body.store, body.ttl_s, clock()))

    @router.get("/v1/sandbox/installs", dependencies=admin_only, tags=["sandbox admin"])
    async def installs() -> Response:
        """Claimed devices with their install records."""
        return _answer(200, {"devices": prov.devices()})

    return router
