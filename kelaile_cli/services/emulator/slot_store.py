"""The box's A/B firmware slots on disk, crash-safe: a power loss at any byte leaves a bootable, consistent store.

Layout of ``STATE/slots/``::

    meta.json   the slot state machine (core/box/slots.py), replaced atomically (tmp, fsync, rename, fsync dir)
    A.bin B.bin slot contents (image payloads), written in place
    journal     durable write offsets: 48-byte records (slot, image sha256, offset, CRC-32), appended + fsync'd

Writing an image: ``begin`` resets the journal (atomically) *before* ``meta.json`` names the new image, so
a record can only ever describe the image ``meta.json`` names. Chunks are written in place; each time
the write position reaches a block boundary (or the end) the slot file is fsync'd and then a journal
record is appended and fsync'd. After a power loss the resume offset is the last intact record of that
slot and image: a resumed transfer resends at most one block. Boot checks the active slot's hash and
falls back to the other valid slot, so the box always boots a valid image.

All file writes go through ``Disk`` so tests can cut the power after any number of bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kelaile_cli.core.box import slots as sm
from kelaile_cli.core.box.errors import Refused
from kelaile_cli.core.box.firmware import FirmwareHeader, ImageRejected, verify_header
from kelaile_cli.core.box.messages import ErrorCode
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.box.firmware_files import load_trusted
from kelaile_cli.transports.files import append_durable, write_atomic

__all__ = ["BLOCK", "FACTORY_VERSION", "Disk", "SlotStore", "factory_payload", "open_backend"]

BLOCK = 16384  # durability unit (a multiple of the protocol's 4 KiB chunk)
FACTORY_VERSION = "1.0.0"
HARDWARE = "K1-r2"  # the emulated box's hardware id (box_state.HW_REV)
MAX_IMAGE = 16 * 1024 * 1024  # slot capacity
_RECORD = struct.Struct("<1s32sQI3x")  # slot, sha256, durable offset, CRC-32 of the first three fields


def factory_payload() -> bytes:
    """The image a new box leaves the factory with (slot A, confirmed)."""
    line = f"Kelaile K1 factory firmware {FACTORY_VERSION}\n".encode()
    return line * (4096 // len(line))


class Disk:
    """The store's file operations, every one durable on return. Tests subclass it to cut the power."""

    def pwrite(self, path: Path, offset: int, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    def fsync(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, path: Path, data: bytes) -> None:
        append_durable(path, data)

    def replace(self, path: Path, data: bytes) -> None:
        """Atomically: a power loss leaves the old or the new content."""
        write_atomic(path, data)


def _record(slot: str, sha: bytes, offset: int) -> bytes:
    head = struct.pack("<1s32sQ", slot.encode(), sha, offset)
    return _RECORD.pack(slot.encode(), sha, offset, zlib.crc32(head))


def _durable(journal: bytes, slot: str, sha: bytes) -> int:
    """The last intact journal offset for ``slot`` holding image ``sha`` (0 if none)."""
    best = 0
    for i in range(0, len(journal) - _RECORD.size + 1, _RECORD.size):
        name, digest, offset, crc = _RECORD.unpack_from(journal, i)
        if zlib.crc32(struct.pack("<1s32sQ", name, digest, offset)) != crc:
            continue  # torn by a power loss
        if name == slot.encode() and digest == sha:
            best = max(best, offset)
    return best


class SlotStore:
    """The ``SlotBackend`` of the emulator (services/emulator/flash_receiver.py): A/B slots in ``root``."""

    block = BLOCK

    def __init__(
        self,
        root: Path,
        trusted: dict[bytes, Ed25519PublicKey] | None = None,
        hardware: str = HARDWARE,
        disk: Disk | None = None,
        block: int = BLOCK,
    ) -> None:
        self.root = root
        self.trusted = trusted or {}
        self.hardware = hardware
        self.disk = disk or Disk()
        self.block = block
        self._lock = threading.Lock()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{root}: cannot create the slot directory ({exc.strerror or exc})") from None
        self.state = self._load()

    # -- persistence -----------------------------------------------------------------------------
    @property
    def meta_path(self) -> Path:
        return self.root / "meta.json"

    @property
    def journal_path(self) -> Path:
        return self.root / "journal"

    def slot_path(self, name: str) -> Path:
        return self.root / f"{name}.bin"

    def _load(self) -> sm.SlotsState:
        if not self.meta_path.exists():
            return self._factory()
        try:
            state = sm.SlotsState.from_json(json.loads(self.meta_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{self.meta_path}: unreadable slot metadata ({exc})", remedy="restore it or use a fresh --state"
            ) from None
        writing = state.slot(state.inactive)
        if writing.state == "writing":  # resume from what is durable, never from what merely was sent
            journal = self.journal_path.read_bytes() if self.journal_path.exists() else b""
            durable = _durable(journal, writing.name, bytes.fromhex(writing.sha256))
            state = state.with_slot(sm.Slot(**{**writing.to_json(), "written": max(writing.written, durable)}))
        return state

    def _factory(self) -> sm.SlotsState:
        payload = factory_payload()
        self.disk.replace(self.slot_path("A"), payload)
        state = sm.initial(FACTORY_VERSION, len(payload), hashlib.sha256(payload).hexdigest())
        self._save(state)
        return state

    def _save(self, state: sm.SlotsState) -> None:
        data = json.dumps(state.to_json(), indent=1).encode()
        self.disk.replace(self.meta_path, data)
        self.state = state

    def _hash(self, name: sm.SlotName, size: int) -> str:
        h = hashlib.sha256()
        try:
            with open(self.slot_path(name), "rb") as f:
                h.update(f.read(size))
        except FileNotFoundError:
            return ""
        return h.hexdigest()

    # -- SlotBackend -----------------------------------------------------------------------------
    def boot(self, fail_trial: bool = False) -> dict[str, Any]:
        with self._lock:
            state = sm.boot(self.state, fail=fail_trial)
            running = state.running
            if self._hash(state.active, running.size) != running.sha256:
                state = self._fall_back(state)
            self._save(state)
            return {"slot": state.active, "version": state.running.version, "trial": state.trial}

    def _fall_back(self, state: sm.SlotsState) -> sm.SlotsState:
        """The active slot's content is damaged: run the other one (it must be valid and intact)."""
        other = state.slot(state.inactive)
        if other.state != "valid" or self._hash(other.name, other.size) != other.sha256:
            raise InputError(f"{self.root}: no slot holds an intact image", remedy="restore the state directory")
        damaged = sm.Slot(state.active, "failed")
        return sm.SlotsState(state.slots, other.name, last_event="fell-back").with_slot(damaged)

    def describe(self) -> dict[str, Any]:
        s = self.state
        slots = [
            {
                "name": x.name,
                "state": x.state,
                "version": x.version,
                "size": x.size,
                "sha256": x.sha256,
                "confirmed": x.confirmed,
                **({"written": x.written} if x.state == "writing" else {}),
            }
            for x in s.slots
        ]
        return {
            "active": s.active,
            "version": s.running.version,
            # a trial is under way: the running image is unconfirmed, or the next boot tries a new one
            "trial": s.trial or s.pending is not None,
            "pending": s.pending,
            "slots": slots,
        }

    def begin(
        self, header: bytes, size: int, sha256: bytes, slot: str | None, allow_downgrade: bool | None = None
    ) -> tuple[str, int]:
        """``allow_downgrade``: the host's consent (FLASH_BEGIN ``downgrade``); None: the caller does not pass
        it (the version rule is then the host's), False: an image older than the running one is REJECTED."""
        current = None if allow_downgrade is None else self.state.running.version
        try:
            hdr = FirmwareHeader.parse(header, "FLASH_BEGIN header")
            verify_header(hdr, self.trusted, self.hardware, current, bool(allow_downgrade), name="image")
        except ImageRejected as exc:
            raise Refused(ErrorCode.REJECTED, exc.message) from None
        except InputError as exc:
            raise Refused(ErrorCode.BAD_PAYLOAD, exc.message) from None
        if hdr.length != size or hdr.sha256 != sha256:
            raise Refused(ErrorCode.BAD_PAYLOAD, "size/sha256 differ from the signed header's")
        if size > MAX_IMAGE:
            raise Refused(ErrorCode.TOO_LARGE, f"image of {size} bytes, a slot holds {MAX_IMAGE}")
        with self._lock:
            if slot is not None and slot != self.state.inactive:
                raise Refused(ErrorCode.BAD_STATE, f"slot {slot} is not the inactive slot {self.state.inactive}")
            try:
                state, offset = sm.begin(self.state, str(hdr.version), size, sha256.hex(), header.hex())
            except sm.SlotError as exc:
                raise Refused(ErrorCode.BAD_STATE, exc.text) from None
            before = self.state.slot(state.inactive)
            fresh = offset == 0 and not (before.state == "writing" and before.sha256 == sha256.hex())
            if fresh:
                self.disk.replace(self.journal_path, b"")  # no record may outlive the image it describes
            elif 0 < offset < size:
                self.disk.fsync(self.slot_path(state.inactive))  # the offset we promise must be on disk
            self._save(state)
            self._next_sync = (offset // self.block + 1) * self.block
            return state.inactive, offset

    def write(self, offset: int, data: bytes) -> int:
        with self._lock:
            try:
                state = sm.write(self.state, offset, len(data))
            except sm.SlotError as exc:
                raise Refused(exc.error, exc.text, self.state.slot(self.state.inactive).written) from None
            slot = state.slot(state.inactive)
            path = self.slot_path(slot.name)
            self.disk.pwrite(path, offset, data)
            self.state = state  # in memory: written; on disk only at the next durable point
            if slot.written >= self._next_sync or slot.written == slot.size:
                self.disk.fsync(path)
                self.disk.append(self.journal_path, _record(slot.name, bytes.fromhex(slot.sha256), slot.written))
                self._next_sync = (slot.written // self.block + 1) * self.block
            return slot.written

    _next_sync = BLOCK

    def verify(self) -> bytes:
        with self._lock:
            slot = self.state.slot(self.state.inactive)
            digest = self._hash(slot.name, slot.size)
            try:
                state = sm.finish(self.state, digest)
            except sm.SlotError as exc:
                if exc.state is not None:
                    self._save(exc.state)
                raise Refused(exc.error, exc.text) from None
            self._save(state)
            return bytes.fromhex(digest)

    def activate(self) -> str:
        with self._lock:
            try:
                state = sm.activate(self.state)
            except sm.SlotError as exc:
                raise Refused(ErrorCode.BAD_STATE, exc.text) from None
            self._save(state)
            return str(state.pending)

    def confirm(self) -> dict[str, Any]:
        with self._lock:
            try:
                state = sm.confirm(self.state)
            except sm.SlotError as exc:
                raise Refused(ErrorCode.BAD_STATE, exc.text) from None
            if state != self.state:
                self._save(state)
            return {"slot": state.active, "version": state.running.version}

    def abort(self) -> None:
        with self._lock:
            name = self.state.inactive
            if self.state.slot(name).state == "writing":
                self._save(sm.invalidate(self.state, name))


def open_backend(slots_dir: Path, trust_dir: Path) -> SlotStore:
    """The slot store of the emulator: images must be signed by a key in ``trust_dir``."""
    return SlotStore(slots_dir, load_trusted(trust_dir))
