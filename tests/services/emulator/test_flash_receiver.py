"""The device side of the flash messages: go-back-N acks, chunk CRC, zlib chunks, resume — and a windowed
transfer through the emulator over a real pty with a corrupted link.

The slot store is the firmware side's; here a minimal in-memory ``SlotBackend`` stands in for it, so
these tests pin down the protocol behaviour of ``FlashHandler`` on its own.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from typing import Any

import pytest

from kelaile_cli.core.box.errors import Refused
from kelaile_cli.core.box.messages import ErrorCode, Message, MsgType
from kelaile_cli.core.box.session import Response
from kelaile_cli.services.box.client import BoxClient
from kelaile_cli.services.emulator.box import BoxSim, Faults, SimOptions
from kelaile_cli.services.emulator.flash_receiver import CHUNK, FlashHandler
from kelaile_cli.services.emulator.state import BoxState


class MemorySlots:
    """Slot B in memory; durable in blocks of 16 KiB, as a store that journals per block would be."""

    block = 16384

    def __init__(self) -> None:
        self.data = bytearray()
        self.sha = b""
        self.state = "empty"
        self.active, self.trial, self.version = "A", False, "1.0.0"

    def boot(self, fail_trial: bool = False) -> dict[str, Any]:
        if self.trial and fail_trial:
            self.active, self.trial = "A", False
        return {"slot": self.active, "version": self.version, "trial": self.trial}

    def describe(self) -> dict[str, Any]:
        return {"active": self.active, "trial": self.trial, "slots": [{"name": "B", "state": self.state}]}

    def begin(
        self, header: bytes, size: int, sha256: bytes, slot: str | None, allow_downgrade: bool | None = None
    ) -> tuple[str, int]:
        if header != b"KFW-OK":
            raise Refused(ErrorCode.REJECTED, "bad signature")
        if sha256 != self.sha:
            self.data, self.sha = bytearray(), sha256
        durable = len(self.data) // self.block * self.block
        del self.data[durable:]
        self.state = "writing"
        return "B", durable

    def write(self, offset: int, data: bytes) -> int:
        assert offset == len(self.data)
        self.data += data
        return len(self.data)

    def verify(self) -> bytes:
        digest = hashlib.sha256(self.data).digest()
        if digest != self.sha:
            raise Refused(ErrorCode.VERIFY_FAILED, "slot B hash mismatch")
        self.state = "valid"
        return digest

    def activate(self) -> str:
        self.active, self.trial = "B", True
        return "B"

    def confirm(self) -> dict[str, Any]:
        self.trial = False
        return {"slot": self.active, "version": "2.0.0"}

    def abort(self) -> None:
        self.data.clear()


def data_msg(offset: int, chunk: bytes, z: bool = False, crc: int | None = None) -> Message:
    body = {
        "offset": offset,
        "data": zlib.compress(chunk) if z else chunk,
        "crc": zlib.crc32(chunk) if crc is None else crc,
    }
    if z:
        body["z"] = True
    return Message(MsgType.FLASH_DATA, 1, body)


def begin_msg(image: bytes, header: bytes = b"KFW-OK") -> Message:
    return Message(
        MsgType.FLASH_BEGIN, 1, {"header": header, "size": len(image), "sha256": hashlib.sha256(image).digest()}
    )


def test_go_back_n_crc_zlib_and_retransmissions():
    image = os.urandom(3 * CHUNK)
    h = FlashHandler(MemorySlots())
    with pytest.raises(Refused) as info:
        h.handle(data_msg(0, image[:CHUNK]))
    assert info.value.error is ErrorCode.BAD_STATE
    assert h.handle(begin_msg(image))["offset"] == 0
    assert h.handle(data_msg(0, image[:CHUNK])) == {"offset": 0, "next": CHUNK}
    with pytest.raises(Refused) as info:  # a gap: chunk 1 was lost on the way
        h.handle(data_msg(2 * CHUNK, image[2 * CHUNK :]))
    assert (info.value.error, info.value.next) == (ErrorCode.BAD_OFFSET, CHUNK)
    with pytest.raises(Refused) as info:
        h.handle(data_msg(CHUNK, image[CHUNK : 2 * CHUNK], crc=1))
    assert (info.value.error, info.value.next) == (ErrorCode.BAD_CHUNK, CHUNK)
    assert h.handle(data_msg(CHUNK, image[CHUNK : 2 * CHUNK], z=True))["next"] == 2 * CHUNK
    assert h.handle(data_msg(0, image[:CHUNK])) == {"offset": 0, "next": 2 * CHUNK}  # a duplicate: acked, not rewritten
    h.handle(data_msg(2 * CHUNK, image[2 * CHUNK :]))
    assert h.handle(Message(MsgType.FLASH_VERIFY, 2))["sha256"] == hashlib.sha256(image).digest()
    assert h.handle(Message(MsgType.FLASH_ACTIVATE, 3)) == {"slot": "B", "trial": True}


def test_bad_zlib_rejected_header_and_verify_failure():
    image = b"\x55" * CHUNK
    h = FlashHandler(MemorySlots())
    with pytest.raises(Refused) as info:
        h.handle(begin_msg(image, header=b"tampered"))
    assert info.value.error is ErrorCode.REJECTED
    h.handle(begin_msg(image))
    bad = Message(MsgType.FLASH_DATA, 1, {"offset": 0, "data": b"not zlib", "crc": 0, "z": True})
    with pytest.raises(Refused) as info:
        h.handle(bad)
    assert info.value.error is ErrorCode.BAD_CHUNK
    h.handle(data_msg(0, b"\x54" * CHUNK))  # CRC right, content not the announced image
    with pytest.raises(Refused) as info:
        h.handle(Message(MsgType.FLASH_VERIFY, 2))
    assert info.value.error is ErrorCode.VERIFY_FAILED


def windowed_send(c: BoxClient, image: bytes, start: int, window: int) -> int:
    """A minimal go-back-N sender (the real one is ``klx flash``); returns chunks sent."""
    sent_chunks, next_send, acked = 0, start, start
    outstanding: set[int] = set()
    # an answer may wait behind a whole window of chunks on the line: time out only after twice that
    patience = max(0.5, 2 * window * CHUNK * 10 / c.hello.baud)

    def go_back() -> int:
        for rid in outstanding:
            c.session.forget(rid)  # their answers, if any, arrive as garbage
        outstanding.clear()
        return acked

    while acked < len(image):
        while next_send < len(image) and len(outstanding) < window:
            chunk = image[next_send : next_send + CHUNK]
            outstanding.add(c.send(MsgType.FLASH_DATA, {"offset": next_send, "data": chunk, "crc": zlib.crc32(chunk)}))
            next_send += len(chunk)
            sent_chunks += 1
        c.pump()
        answers = c.ready()
        if not answers:
            oldest = min(outstanding)
            ans = c.answer(oldest, timeout=patience)
            if ans is None:  # lost on the way
                next_send = go_back()
                continue
            answers = [ans]
        for ans in answers:
            if ans.id not in outstanding:
                continue
            outstanding.discard(ans.id)
            if isinstance(ans, Response):
                acked = max(acked, ans.body["next"])
            else:  # a gap or a bad chunk: resend from where the box is
                acked = max(acked, ans.next or 0)
                next_send = go_back()
                break
    return sent_chunks


def test_windowed_flash_through_the_emulator_over_a_corrupted_pty(tmp_path):
    image = os.urandom(64 * 1024)
    slots = MemorySlots()
    box = BoxSim(SimOptions(state=tmp_path / "s", baud=921600, slots=slots, faults=Faults(corrupt=0.0001, seed=3)))
    box.start()
    try:
        for _ in range(10):
            try:
                c = BoxClient.connect(box.port, timeout=0.5)
                break
            except Exception:
                continue
        with c:
            assert "flash" in c.hello.caps
            begin = c.request(MsgType.FLASH_BEGIN, begin_msg(image).body)
            # ~7 bytes damaged on the way in: a small window keeps each go-back cheap
            sent = windowed_send(c, image, begin["offset"], window=4)
            assert bytes(slots.data) == image
            assert box.session.garbage + c.garbage > 0  # the link really was corrupted ...
            assert sent > len(image) // CHUNK  # ... and chunks were resent
            assert c.request(MsgType.FLASH_VERIFY)["sha256"] == hashlib.sha256(image).digest()
    finally:
        box.stop()
    assert BoxState(tmp_path / "s").serial  # the state dir is intact


def test_resume_after_an_interrupted_transfer_resends_at_most_one_block():
    image = os.urandom(5 * MemorySlots.block // 2)
    slots = MemorySlots()
    h = FlashHandler(slots)
    h.handle(begin_msg(image))
    for off in range(0, 9 * CHUNK, CHUNK):  # 36 KiB written, then the power goes
        h.handle(data_msg(off, image[off : off + CHUNK]))
    again = FlashHandler(slots)
    resume = again.handle(begin_msg(image))["offset"]
    assert 9 * CHUNK - resume <= MemorySlots.block and resume % MemorySlots.block == 0 and resume > 0
