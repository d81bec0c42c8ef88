"""The sandbox cloud's SQLite store: devices, transactions (idempotent), orders, seen signatures.

One ``Storage`` per server process (uvicorn worker); several processes may share the file (WAL mode,
busy timeout). Idempotency rests on ``UNIQUE(device_id, idempotency_key)``: a transaction and its
answer are inserted in one commit, so a retry — from this process or another — finds the row and
gets the stored answer back. ``read_stats`` opens the file read-only and works while a server runs.

The database and its ``-wal``/``-shm`` files are private (0600; SQLite gives the side files the
database's mode) and device secrets are stored sealed under a server key in a separate 0600 file
(``secrets_box``). A database from before sealing is migrated when it is opened: its plain secrets
are sealed in one transaction, with SQLite's ``secure_delete`` so the plain text is overwritten.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kelaile_cli.core.cloud.protocol import MAX_SKEW_S
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox.secrets_box import SEALED_PREFIX, SecretBox, load_or_create_key, private_file

T = TypeVar("T")
LOST_PREFIX = "lost:"  # a sealed secret whose server key was lost: the device must claim again

__all__ = [
    "LOST_PREFIX",
    "Device",
    "Ingest",
    "NewRow",
    "Storage",
    "Stored",
    "db_path",
    "key_path",
    "read_database",
    "read_stats",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id   TEXT PRIMARY KEY,
    serial      TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL,
    store       TEXT,
    secret      TEXT NOT NULL,
    claimed_at  REAL NOT NULL,
    last_seen   REAL,
    heartbeats  INTEGER NOT NULL DEFAULT 0,
    state       TEXT
);
CREATE TABLE IF NOT EXISTS transactions (
    seq             INTEGER PRIMARY KEY,  -- rowid: rows are never deleted, so it only grows
    transaction_id  TEXT NOT NULL,        -- derived from (device_id, idempotency_key), unique with it
    device_id       TEXT NOT NULL REFERENCES devices(device_id),
    idempotency_key TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    answer          TEXT NOT NULL,
    created_at      REAL NOT NULL,
    UNIQUE (device_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS orders (
    order_no        TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    amount          TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      REAL NOT NULL,
    auto_pay_at     REAL,
    paid_at         REAL
);
CREATE TABLE IF NOT EXISTS seen_signatures (
    time_window  INTEGER NOT NULL,  -- the signed timestamp // SIGNATURE_WINDOW_S
    signature    BLOB NOT NULL,     -- first 16 bytes of the HMAC
    PRIMARY KEY (time_window, signature)
) WITHOUT ROWID;
"""
# Every index costs a page write per commit on the ingest path: transactions carry only the UNIQUE
# one idempotency needs. Seen signatures are clustered by the window of their *signed* timestamp (a
# replay carries the same one), so forgetting the stale ones is a range delete, never a scan.
SIGNATURE_WINDOW_S = 2 * MAX_SKEW_S
_PURGE_EVERY_S = 10.0
_CHECKPOINT_EVERY_S = 1.0


def db_path(url_or_path: str | Path) -> Path:
    """A database path from ``FILE``, ``sqlite:///FILE`` or ``sqlite:////abs/FILE``; other URLs are refused."""
    text = str(url_or_path)
    if text.startswith("sqlite:///"):
        return Path(text.removeprefix("sqlite:///"))
    if "://" in text:
        raise InputError(f"--db {text}: only SQLite is supported", remedy="give a file path or sqlite:///FILE")
    return Path(text)


def key_path(db: Path, key_file: str | Path | None = None) -> Path:
    """Where the server key of database ``db`` lives: ``key_file``, or beside it as ``<db>.key``."""
    return Path(key_file) if key_file is not None else db.with_name(db.name + ".key")


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    serial: str
    model: str
    store: str | None
    secret: str


@dataclass(frozen=True, slots=True)
class Stored:
    """A transaction as stored: what a retry is answered with."""

    transaction_id: str
    body_sha256: str
    answer: dict[str, Any]


# (row, kind, canonical body, pre-bill order (order_no, amount, auto-pay time) or None)
NewRow = tuple[Stored, str, str, tuple[str, str | None, float | None] | None]


@dataclass(frozen=True, slots=True)
class Ingest:
    """One upload to store: who, under which key and signature, and how to make its row if it is new."""

    device_id: str
    key: str
    signature: str
    timestamp: int
    now: float
    make: Callable[[], NewRow]


class Storage:
    """SQLite access for one server process. Methods are short and synchronous (no fsync per commit)."""

    def __init__(
        self, path: str | Path, *, key_file: str | Path | None = None, background_checkpoints: bool = True
    ) -> None:
        """Open (creating) the database, private, and its server key (``key_path``). With
        ``background_checkpoints`` the WAL is copied back into the database file by a thread of its own
        (``sqlite3`` releases the GIL), so no request waits for it."""
        self.path = db_path(path)
        self.key_file = key_path(self.path, key_file)
        self._lock = threading.Lock()  # the in-process test server and its caller may share one Storage
        self._stop = threading.Event()
        self._next_purge = 0.0
        self._checkpointer: threading.Thread | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for file in (self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))):
                private_file(file, create=file == self.path)
            self.key_created = not (self.key_file.exists() or self.key_file.is_symlink())
            self.box = SecretBox(load_or_create_key(self.key_file))
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, consistent always
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.execute("PRAGMA temp_store=MEMORY")
            self.db.execute("PRAGMA cache_size=-16000")
            self.db.execute("PRAGMA secure_delete=ON")  # a replaced secret leaves no plain copy in free pages
            self.db.executescript(_SCHEMA)
            self._seal_plain_secrets()
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                f"{self.path}: cannot open the database ({exc})", remedy="pick a writable --db FILE"
            ) from None
        if background_checkpoints:
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="klx-cloud-wal", daemon=True)
            self._checkpointer.start()

    def _seal_plain_secrets(self) -> None:
        """Migrate a database from before sealing; refuse a key that does not open its sealed secrets.

        A key created just now (the old one lost) cannot open them either: those devices' secrets are
        marked lost (``lost_devices`` counts them) — each device must claim again, which seals a new one."""
        rows = self.db.execute("SELECT device_id, secret FROM devices").fetchall()
        plain = [(d, s) for d, s in rows if not s.startswith((SEALED_PREFIX, LOST_PREFIX))]
        sealed = [(d, s) for d, s in rows if s.startswith(SEALED_PREFIX)]
        self.lost_devices = 0
        if sealed and self.key_created and self.box.open(*sealed[0]) is None:
            with self._lock:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("UPDATE devices SET secret=? WHERE device_id=?",
                                    [(LOST_PREFIX + s, d) for d, s in sealed])  # fmt: skip
                self.db.execute("COMMIT")
            self.lost_devices, sealed = len(sealed), []
        if sealed and self.box.open(*sealed[0]) is None:
            self.db.close()
            raise InputError(f"{self.key_file}: this server key does not open the device secrets in {self.path}",
                             remedy="give the --key-file that belongs to this database")  # fmt: skip
        if plain:
            with self._lock:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("UPDATE devices SET secret=? WHERE device_id=?",
                                    [(self.box.seal(d, s), d) for d, s in plain])  # fmt: skip
                self.db.execute("COMMIT")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old pages leave the WAL too

    def _device(self, row: Sequence[Any] | None) -> Device | None:
        if row is None:
            return None
        secret = self.box.open(row[0], row[4])
        if secret is None:  # checked at open; a row changed behind our back is an unknown device
            return None
        return Device(row[0], row[1], row[2], row[3], secret)

    def _checkpoint_loop(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        try:
            while not self._stop.wait(_CHECKPOINT_EVERY_S):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the database went away (tests' tmp dirs); the server's own errors surface on requests
        finally:
            db.close()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with self._lock:
            self.db.close()

    # -- devices ---------------------------------------------------------------------------------
    def claim(self, device_id: str, serial: str, model: str, store: str | None, secret: str, now: float) -> Device:
        """Register ``serial`` (or re-claim it: same device id, new secret)."""
        with self._lock:
            return self.claim_locked(device_id, serial, model, store, secret, now)

    def claim_locked(
        self, device_id: str, serial: str, model: str, store: str | None, secret: str, now: float
    ) -> Device:
        """``claim`` for a caller that holds the lock (inside its own transaction: a claim code's)."""
        self.db.execute(
            "INSERT INTO devices(device_id, serial, model, store, secret, claimed_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(serial) DO NOTHING",
            (device_id, serial, model, store, self.box.seal(device_id, secret), now),
        )
        # re-claimed: same device id, a new secret (sealed for that id)
        row = self.db.execute("SELECT device_id FROM devices WHERE serial=?", (serial,)).fetchone()
        self.db.execute(
            "UPDATE devices SET secret=?, model=?, store=?, claimed_at=? WHERE device_id=?",
            (self.box.seal(row[0], secret), model, store, now, row[0]),
        )
        return Device(row[0], serial, model, store, secret)

    def device_from_row(self, row: Sequence[Any] | None) -> Device | None:
        """A ``devices`` row (device_id, serial, model, store, sealed secret) as a ``Device``; None if unreadable."""
        return self._device(row)

    def device(self, device_id: str) -> Device | None:
        with self._lock:
            row = self.db.execute(
                "SELECT device_id, serial, model, store, secret FROM devices WHERE device_id=?", (device_id,)
            ).fetchone()
        return self._device(row)

    def heartbeat(self, device_id: str, state: dict[str, Any], now: float) -> None:
        with self._lock:
            self.db.execute(
                "UPDATE devices SET last_seen=?, heartbeats=heartbeats+1, state=? WHERE device_id=?",
                (now, json.dumps(state, ensure_ascii=False), device_id),
            )

    def devices(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.db.execute(
                "SELECT d.device_id, d.serial, d.model, d.store, d.claimed_at, d.last_seen, d.heartbeats, d.state, "
                "(SELECT COUNT(*) FROM transactions t WHERE t.device_id=d.device_id) FROM devices d ORDER BY claimed_at"
            ).fetchall()
        keys = ("device_id", "serial", "model", "store", "claimed_at", "last_seen", "heartbeats", "state")
        return [
            {**dict(zip(keys, r[:7], strict=False)), "state": json.loads(r[7]) if r[7] else None, "transactions": r[8]}
            for r in rows
        ]

    # -- replay protection -------------------------------------------------------------------------
    def remember_signature(self, signature: str, timestamp: int, now: float) -> bool:
        """Record a signature; ``False`` when it was already seen (a replay)."""
        with self._lock:
            return self._remember(signature, timestamp, now)

    def _remember(self, signature: str, timestamp: int, now: float) -> bool:
        if now >= self._next_purge:  # signatures whose timestamp is stale by now can never be accepted again
            self._next_purge = now + _PURGE_EVERY_S
            self.db.execute("DELETE FROM seen_signatures WHERE time_window < ?",
                            (int(now - MAX_SKEW_S) // SIGNATURE_WINDOW_S,))  # fmt: skip
        try:
            self.db.execute("INSERT INTO seen_signatures(time_window, signature) VALUES (?,?)",
                            (int(timestamp) // SIGNATURE_WINDOW_S, bytes.fromhex(signature[:32])))  # fmt: skip
        except sqlite3.IntegrityError:
            return False
        return True

    # -- transactions -----------------------------------------------------------------------------
    def find(self, device_id: str, key: str) -> Stored | None:
        with self._lock:
            return self._find(device_id, key)

    def _find(self, device_id: str, key: str) -> Stored | None:
        row = self.db.execute(
            "SELECT transaction_id, body_sha256, answer FROM transactions WHERE device_id=? AND idempotency_key=?",
            (device_id, key),
        ).fetchone()
        return Stored(row[0], row[1], json.loads(row[2])) if row else None

    def ingest(
        self,
        device_id: str,
        key: str,
        signature: str,
        timestamp: int,
        now: float,
        make: Callable[[], NewRow],
    ) -> tuple[Stored, bool] | None:
        """Remember the signature and store the transaction in one commit; ``None`` when the signature
        was seen before (a replay). ``make()`` → (row, kind, body, pre-bill order) runs only for a new key.

        Returns ``(row, created)``: an existing (device, key) comes back as it was stored, ``created=False``.
        """
        outcome = self.ingest_many([Ingest(device_id, key, signature, timestamp, now, make)])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def ingest_many(self, batch: Sequence[Ingest]) -> list[tuple[Stored, bool] | Exception | None]:
        """Several ingests in one transaction and one commit (group commit); an outcome per ingest, as
        ``ingest`` returns it, or the exception its ``make`` raised. A later ingest of a key an earlier
        one stored in the same batch finds that row. Nothing is committed if the commit fails."""
        outcomes: list[tuple[Stored, bool] | Exception | None] = []
        with self._lock:
            db = self.db
            try:
                db.execute("BEGIN IMMEDIATE")
                for item in batch:
                    try:
                        outcomes.append(self._ingest_one(item))
                    except sqlite3.Error:
                        raise
                    except Exception as exc:  # a bad document: this ingest fails, the batch goes on
                        outcomes.append(exc)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return outcomes

    def _ingest_one(self, item: Ingest) -> tuple[Stored, bool] | None:
        # Writes happen only after every check passed, so a refused ingest leaves nothing behind.
        if not self._remember(item.signature, item.timestamp, item.now):
            return None
        existing = self._find(item.device_id, item.key)
        if existing is not None:
            return existing, False
        stored, kind, body, order = item.make()
        answer = json.dumps(stored.answer, ensure_ascii=False, separators=(",", ":"))
        self.db.execute(
            "INSERT INTO transactions(transaction_id, device_id, idempotency_key, body_sha256, kind, body, "
            "answer, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (stored.transaction_id, item.device_id, item.key, stored.body_sha256, kind, body, answer, item.now),
        )
        if order is not None:
            order_no, amount, auto_pay_at = order
            self.db.execute(
                "INSERT OR IGNORE INTO orders(order_no, transaction_id, device_id, amount, created_at, "
                "auto_pay_at) VALUES (?,?,?,?,?,?)",
                (order_no, stored.transaction_id, item.device_id, amount, item.now, auto_pay_at),
            )
        return stored, True

    def transactions(self, device_id: str | None, limit: int, after: int) -> list[dict[str, Any]]:
        sql = "SELECT seq, transaction_id, device_id, idempotency_key, kind, body, answer, created_at FROM transactions"
        sql += " WHERE seq > ?" + (" AND device_id = ?" if device_id else "") + " ORDER BY seq LIMIT ?"
        params: tuple[Any, ...] = (after, device_id, limit) if device_id else (after, limit)
        with self._lock:
            rows = self.db.execute(sql, params).fetchall()
        return [
            {"seq": r[0], "transaction_id": r[1], "device_id": r[2], "idempotency_key": r[3], "kind": r[4],
             "body": json.loads(r[5]), "answer": json.loads(r[6]), "created_at": r[7]}
            for r in rows
        ]  # fmt: skip

    # -- payments ---------------------------------------------------------------------------------
    def order(self, order_no: str, now: float) -> dict[str, Any] | None:
        """An order's status; a pending order whose auto-pay time has passed is marked paid now."""
        with self._lock:
            self.db.execute(
                "UPDATE orders SET status='paid', paid_at=auto_pay_at "
                "WHERE order_no=? AND status='pending' AND auto_pay_at IS NOT NULL AND auto_pay_at <= ?",
                (order_no, now),
            )
            row = self.db.execute(
                "SELECT order_no, status, paid_at, amount, device_id, transaction_id FROM orders WHERE order_no=?",
                (order_no,),
            ).fetchone()
        if row is None:
            return None
        return {"order_no": row[0], "status": row[1], "paid_at": row[2], "amount": row[3],
                "device_id": row[4], "transaction_id": row[5]}  # fmt: skip

    def pay(self, order_no: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            self.db.execute("UPDATE orders SET status='paid', paid_at=? WHERE order_no=? AND status='pending'",
                            (now, order_no))  # fmt: skip
        return self.order(order_no, now)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return _stats(self.db)


def _stats(db: sqlite3.Connection) -> dict[str, Any]:
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    by_kind = dict(db.execute("SELECT kind, COUNT(*) FROM transactions GROUP BY kind").fetchall())
    return {
        "devices": one("SELECT COUNT(*) FROM devices"),
        "transactions": one("SELECT COUNT(*) FROM transactions"),
        "by_kind": by_kind,
        "orders": one("SELECT COUNT(*) FROM orders"),
        "orders_paid": one("SELECT COUNT(*) FROM orders WHERE status='paid'"),
        "heartbeats": one("SELECT COALESCE(SUM(heartbeats), 0) FROM devices"),
        "first_at": one("SELECT MIN(created_at) FROM transactions"),
        "last_at": one("SELECT MAX(created_at) FROM transactions"),
    }


def read_database(path: str | Path, read: Callable[[sqlite3.Connection], T]) -> T:
    """``read`` on a read-only connection to a cloud database file (fine while a server writes to it);
    a missing file or one that is not a klx cloud database is an ``InputError``."""
    file = db_path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such database", remedy="give the --db FILE that klx cloud serve uses")
    try:
        db = sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=10.0)
        try:
            return read(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise InputError(
            f"{file}: not a klx cloud database ({exc})", remedy="give the --db FILE of klx cloud serve"
        ) from None


def read_stats(path: str | Path) -> dict[str, Any]:
    """Counts straight from a database file (read-only; fine while a server writes to it)."""
    return read_database(path, _stats)
