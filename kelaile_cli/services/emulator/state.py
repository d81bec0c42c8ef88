"""The emulated box's persistent state: one directory, so a restart is a power cycle.

Layout of ``--state DIR``::

    identity.json   model, serial number, hardware revision (created once)
    config.json     the config keys (docs/box-protocol.md), replaced atomically
    queue.jsonl     the upload queue: one transaction per line, appended and fsync'd
    profiles/       profiles uploaded with PROFILE_UPLOAD
    slots/          firmware slots (the firmware slot store owns this)

Every write survives a power loss at any moment: whole files are replaced by write-to-temp, fsync,
rename, fsync of the directory; the queue is append-only and a torn last line is ignored on load.

``config.json`` (it holds the device secret) and ``queue.jsonl`` (transactions: personal and payment
data) are private: created 0600, tightened to 0600 if an older version left them wider, and never
reached through a symbolic link (``O_NOFOLLOW``; the rename replaces a link rather than following it).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Protocol

from kelaile_cli.core.box.config import DEFAULT_CONFIG
from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.files import write_atomic

__all__ = ["BoxState", "KeepQueued", "UploadQueue", "Uploader", "write_private"]

MODEL = "Kelaile Box K1 (emulated)"
HW_REV = "K1-r2"


PRIVATE = 0o600
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def _open_private(path: Path, flags: int) -> int:
    """``os.open`` that refuses a symbolic link and leaves the file 0600 (tightened if it was wider)."""
    try:
        fd = os.open(path, flags | _NOFOLLOW, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: is a symbolic link; the box state does not follow links") from None
        raise
    if os.fstat(fd).st_mode & 0o777 != PRIVATE:
        os.fchmod(fd, PRIVATE)
    return fd


def write_private(path: Path, data: bytes) -> None:
    """``write_atomic`` for a private file: the temporary file is 0600 and opened without following links."""
    tmp = path.with_name(path.name + ".tmp")
    fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_json(path: Path, private: bool = False) -> dict[str, Any] | None:
    try:
        if private:
            with os.fdopen(_open_private(path, os.O_RDONLY), "rb") as f:
                data = json.loads(f.read().decode("utf-8"))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable box state ({exc})", remedy="restore it or use a fresh --state") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a JSON object", remedy="restore it or start with a fresh --state")
    return data


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class UploadQueue:
    """Transactions waiting for the cloud, one JSON object per line, durable on return of ``push``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        if path.exists() or path.is_symlink():
            with os.fdopen(_open_private(path, os.O_RDONLY), "rb") as f:
                lines = f.read().splitlines()
            for line in lines:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue  # a line torn by a power loss: that push never returned
                if isinstance(item, dict):
                    self._items.append(item)

    def push(self, item: dict[str, Any]) -> None:
        line = _line(item)
        with self._lock, os.fdopen(_open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND), "ab") as f:
            size = os.fstat(f.fileno()).st_size
            if size and os.pread(f.fileno(), 1, size - 1) != b"\n":
                f.write(b"\n")  # close a torn line so the new item stays readable
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
            self._items.append(item)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)

    def remove(self, keys: set[str]) -> None:
        """Drop delivered items (by their ``key``), rewriting the file atomically."""
        with self._lock:
            self._items = [i for i in self._items if i.get("key") not in keys]
            data = b"".join(_line(i) for i in self._items)
            write_private(self.path, data)

    def __len__(self) -> int:
        return len(self._items)


class Uploader(Protocol):
    """Delivers queued transactions to the cloud. ``upload`` returns the cloud's answer (e.g. a QR
    payload to print) when the item was delivered, or None to keep it queued for a later try."""

    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None: ...


class KeepQueued:
    """The default uploader: delivers nothing, so every transaction stays in the queue (no cloud configured)."""

    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
        return None


PRINTED_MEMORY = 20_000  # receipts remembered for re-print counting (a few days of a busy shop)


class BoxState:
    """Identity, config and queue of one emulated box, kept in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            (root / "profiles").mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(f"{root}: cannot create the state directory ({exc.strerror or exc})") from None
        self._lock = threading.Lock()
        identity = _read_json(root / "identity.json")
        if identity is None:
            identity = {"model": MODEL, "serial": "KLB" + secrets.token_hex(5).upper(), "hw": HW_REV}
            write_atomic(root / "identity.json", json.dumps(identity, indent=1).encode())
        self.identity: dict[str, Any] = identity
        self.config: dict[str, Any] = {**DEFAULT_CONFIG, **(_read_json(root / "config.json", private=True) or {})}
        self.queue = UploadQueue(root / "queue.jsonl")
        self._printed: dict[str, int] = _read_json(root / "printed.json") or {}

    @property
    def serial(self) -> str:
        return str(self.identity["serial"])

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    @property
    def slots_dir(self) -> Path:
        return self.root / "slots"

    def next_occurrence(self, receipt_sha256: str) -> int:
        """How many times this exact receipt was printed before (0 the first time), kept across power
        cycles: a re-print after a restart must get a new idempotency key, not collide with the old one."""
        with self._lock:
            seen = self._printed.get(receipt_sha256, 0)
            self._printed.pop(receipt_sha256, None)
            self._printed[receipt_sha256] = seen + 1  # most recent last
            while len(self._printed) > PRINTED_MEMORY:
                del self._printed[next(iter(self._printed))]
            write_atomic(self.root / "printed.json", json.dumps(self._printed).encode())
            return seen

    def update_config(self, values: dict[str, Any]) -> None:
        with self._lock:
            self.config.update(values)
            write_private(self.root / "config.json", json.dumps(self.config, indent=1).encode())
