"""The device side of the flash messages: FLASH_BEGIN/DATA/VERIFY/ACTIVATE/CONFIRM/ABORT over a slot store.

The emulator hands every FLASH_* request here. The slots themselves (A/B, trial boot, crash-safe
writes) belong to the firmware slot store; this module only speaks the protocol in front of it,
through the small ``SlotBackend`` interface below, so a store can be swapped without touching the
emulator.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from kelaile_cli.core.box.errors import ErrorCode, Refused
from kelaile_cli.core.box.messages import Message, MsgType

__all__ = ["CHUNK", "WINDOW", "FlashHandler", "SlotBackend"]

CHUNK = 4096  # largest decompressed chunk a host may send
WINDOW = 16  # chunks a host may have outstanding
SLOW_FLASH_BPS = 64 * 1024  # --slow-flash: writes at a NOR-flash-like 64 KiB/s


class SlotBackend(Protocol):
    """What the emulator needs from a firmware slot store. Errors are ``Refused`` with a typed code."""

    block: int  # durability unit: a resumed transfer restarts at a multiple of it

    def boot(self, fail_trial: bool = False) -> dict[str, Any]:
        """Power-up: pick the image to run (revert an unconfirmed trial). -> {slot, version, trial}.
        ``fail_trial``: a trial image crashes during this boot (the store reverts to the old slot)."""
        ...

    def describe(self) -> dict[str, Any]:
        """{active, version, trial, slots: [{name, state, version, size, sha256 (hex), confirmed}]}."""
        ...

    def begin(
        self, header: bytes, size: int, sha256: bytes, slot: str | None, allow_downgrade: bool | None = None
    ) -> tuple[str, int]:
        """Check the image header (signature, target, version) and open the inactive slot for it;
        ``allow_downgrade`` is the host's consent to an older image (FLASH_BEGIN ``downgrade``).
        -> (slot, resume offset): the durable bytes of this same image already written there."""
        ...

    def write(self, offset: int, data: bytes) -> int:
        """Write ``data`` at ``offset`` (== the next expected offset) -> the next expected offset."""
        ...

    def verify(self) -> bytes:
        """SHA-256 of the written image; ``Refused(VERIFY_FAILED)`` if it is not the announced one."""
        ...

    def activate(self) -> str:
        """Mark the verified slot for a trial boot -> its name."""
        ...

    def confirm(self) -> dict[str, Any]:
        """Make the running trial image permanent -> {slot, version}."""
        ...

    def abort(self) -> None:
        """Forget the transfer in progress (the slot stays invalid)."""
        ...


@dataclass
class FlashHandler:
    """Turns FLASH_* requests into slot store calls and answers."""

    slots: SlotBackend
    slow: bool = False
    chunks: int = 0  # FLASH_DATA requests seen (for power-loss faults)
    _next: int | None = None  # next expected offset of the open transfer
    _slot: str = ""

    def handle(self, msg: Message) -> dict[str, Any]:
        if msg.type is MsgType.FLASH_BEGIN:
            if msg["size"] <= 0 or len(msg["sha256"]) != 32:
                raise Refused(ErrorCode.BAD_PAYLOAD, "size must be positive and sha256 32 bytes")
            slot, offset = self.slots.begin(
                msg["header"], msg["size"], msg["sha256"], msg.get("slot"), allow_downgrade=bool(msg.get("downgrade"))
            )
            self._next, self._slot = offset, slot
            return {"slot": slot, "offset": offset, "block": self.slots.block, "chunk": CHUNK, "window": WINDOW}
        if msg.type is MsgType.FLASH_DATA:
            return self._data(msg)
        if msg.type is MsgType.FLASH_VERIFY:
            if self._next is None:
                raise Refused(ErrorCode.BAD_STATE, "no transfer in progress (send FLASH_BEGIN)")
            digest = self.slots.verify()
            return {"sha256": digest, "slot": self._slot}
        if msg.type is MsgType.FLASH_ACTIVATE:
            slot = self.slots.activate()
            self._next = None
            return {"slot": slot, "trial": True}
        if msg.type is MsgType.FLASH_CONFIRM:
            done = self.slots.confirm()
            return {**done, "confirmed": True}
        if msg.type is MsgType.FLASH_ABORT:
            self.slots.abort()
            self._next = None
            return {}
        raise Refused(ErrorCode.UNKNOWN_TYPE, f"{msg.type.name} is not a flash message")

    def _data(self, msg: Message) -> dict[str, Any]:
        self.chunks += 1
        if self._next is None:
            raise Refused(ErrorCode.BAD_STATE, "FLASH_DATA without FLASH_BEGIN")
        offset = msg["offset"]
        if offset < self._next:  # a retransmission of something already written
            return {"offset": offset, "next": self._next}
        if offset > self._next:
            raise Refused(ErrorCode.BAD_OFFSET, f"chunk at {offset}, expected {self._next}", self._next)
        data = msg["data"]
        if msg.get("z"):
            try:
                data = zlib.decompress(data, bufsize=CHUNK)
            except zlib.error as exc:
                why = f"chunk at {offset} does not decompress ({exc})"
                raise Refused(ErrorCode.BAD_CHUNK, why, self._next) from None
        if len(data) > CHUNK:
            raise Refused(ErrorCode.TOO_LARGE, f"chunk of {len(data)} bytes (max {CHUNK})", self._next)
        if zlib.crc32(data) != msg["crc"]:
            raise Refused(ErrorCode.BAD_CHUNK, f"chunk at {offset} fails its CRC", self._next)
        if self.slow:
            time.sleep(len(data) / SLOW_FLASH_BPS)
        self._next = self.slots.write(offset, data)
        return {"offset": offset, "next": self._next}
