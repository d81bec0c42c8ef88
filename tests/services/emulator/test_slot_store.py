"""The slot store on a real disk, with the power cut after any number of written bytes."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kelaile_cli.core.box.errors import Refused
from kelaile_cli.core.box.firmware import FirmwareImage, build_image, key_id
from kelaile_cli.core.box.messages import ErrorCode
from kelaile_cli.services.emulator.slot_store import FACTORY_VERSION, Disk, SlotStore

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUST = {key_id(KEY.public_key()): KEY.public_key()}
BLOCK = 4096
CHUNK = 1024


def _image(version: str, size: int = 5 * BLOCK + 300, seed: int = 1) -> FirmwareImage:
    data = b"".join(hashlib.sha256(b"%d:%d" % (seed, i)).digest() for i in range(size // 32 + 1))[:size]
    return build_image(data, version, KEY, 1_700_000_000)


class PowerCut(BaseException):
    """Not an Exception: nothing in the store may catch it, as nothing survives a power cut."""


class CuttingDisk(Disk):
    """Writes ``budget`` bytes (a prefix of the write that crosses it), then the power is gone.

    The order of durable writes is what the budget models, so the real fsyncs are skipped here (they
    cost ~10 ms each on this machine); the other tests run the store on the real ``Disk``."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.dead = False

    def _spend(self, data: bytes) -> bytes:
        if self.dead:
            raise PowerCut
        if len(data) <= self.budget:
            self.budget -= len(data)
            return data
        self.dead = True
        return data[: self.budget]

    def pwrite(self, path: Path, offset: int, data: bytes) -> None:
        part = self._spend(data)
        super().pwrite(path, offset, part)
        if self.dead:
            raise PowerCut

    def fsync(self, path: Path) -> None:
        if self.dead:
            raise PowerCut

    def append(self, path: Path, data: bytes) -> None:
        part = self._spend(data)
        with open(path, "ab") as f:
            f.write(part)  # a torn record if the power went during it
        if self.dead:
            raise PowerCut

    def replace(self, path: Path, data: bytes) -> None:
        part = self._spend(data)
        if self.dead:  # the temp file is half written; the rename never happens
            path.with_name(path.name + ".tmp").write_bytes(part)
            raise PowerCut
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def _install(store: SlotStore, image: FirmwareImage, start: int | None = None) -> None:
    """The device side of a whole flash + reboot + confirm (as the emulator drives the store)."""
    h = image.header
    _slot, offset = store.begin(h.to_bytes(), h.length, h.sha256, None)
    offset = offset if start is None else start
    while offset < h.length:
        piece = image.payload[offset : offset + CHUNK]
        offset = store.write(offset, piece)
    assert store.verify() == h.sha256
    store.activate()
    assert store.boot()["trial"] is True
    store.confirm()


def _running_intact(store: SlotStore) -> dict:
    booted = store.boot()
    s = store.state.running
    assert booted["slot"] == store.state.active
    assert hashlib.sha256(store.slot_path(s.name).read_bytes()[: s.size]).hexdigest() == s.sha256
    return booted


def test_factory_then_install_and_reopen(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    assert store.describe()["version"] == FACTORY_VERSION and store.state.active == "A"
    img = _image("1.4.0")
    _install(store, img)
    again = SlotStore(tmp_path, TRUST, block=BLOCK)
    assert _running_intact(again) == {"slot": "B", "version": "1.4.0", "trial": False}
    assert again.describe()["slots"][1]["confirmed"] is True


def test_header_refusals_write_nothing(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    before = (tmp_path / "meta.json").read_bytes()
    other = Ed25519PrivateKey.generate()
    stranger = build_image(b"x" * 100, "2.0.0", other, 1)
    bad_target = build_image(b"x" * 100, "2.0.0", KEY, 1, "K2")
    tampered = bytearray(_image("2.0.0").header.to_bytes())
    tampered[24] ^= 1  # 2.0.0 -> 3.0.0: still a version, but not the signed one
    for hdr, code in (
        (stranger.header.to_bytes(), ErrorCode.REJECTED),
        (bad_target.header.to_bytes(), ErrorCode.REJECTED),
        (bytes(tampered), ErrorCode.REJECTED),
        (b"nonsense", ErrorCode.BAD_PAYLOAD),
    ):
        with pytest.raises(Refused) as info:
            store.begin(hdr, 100, b"\0" * 32, None)
        assert info.value.error is code
    assert (tmp_path / "meta.json").read_bytes() == before and not (tmp_path / "B.bin").exists()


def test_box_side_downgrade_rule_when_the_host_states_its_consent(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    _install(store, _image("1.4.0"))
    old = _image("1.2.0", size=100).header
    with pytest.raises(Refused, match=r"older than the running 1\.4\.0") as info:
        store.begin(old.to_bytes(), old.length, old.sha256, None, allow_downgrade=False)
    assert info.value.error is ErrorCode.REJECTED
    assert store.begin(old.to_bytes(), old.length, old.sha256, None, allow_downgrade=True) == ("A", 0)


def test_failed_verify_invalidates(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    img = _image("1.4.0")
    h = img.header
    store.begin(h.to_bytes(), h.length, h.sha256, None)
    wrong = bytes(len(img.payload))
    for off in range(0, h.length, CHUNK):
        store.write(off, wrong[off : off + CHUNK])
    with pytest.raises(Refused) as info:
        store.verify()
    assert info.value.error is ErrorCode.VERIFY_FAILED
    assert SlotStore(tmp_path, TRUST, block=BLOCK).describe()["slots"][1]["state"] == "empty"


def test_write_out_of_order_is_refused_with_the_expected_offset(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    h = _image("1.4.0").header
    store.begin(h.to_bytes(), h.length, h.sha256, None)
    with pytest.raises(Refused) as info:
        store.write(CHUNK, b"x" * CHUNK)
    assert info.value.error is ErrorCode.BAD_OFFSET and info.value.next == 0


_TOTAL: list[int] = []


def _total_bytes(tmp_path: Path, img: FirmwareImage) -> int:
    """How many bytes a whole install writes (to spread cut points over all of it)."""
    if not _TOTAL:
        probe = CuttingDisk(10**9)
        store = SlotStore(tmp_path / "probe", TRUST, block=BLOCK, disk=CuttingDisk(10**9))
        store.disk = probe
        _install(store, img)
        _TOTAL.append(10**9 - probe.budget)
    return _TOTAL[0]


IMG = _image("1.4.0")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_power_cut_at_any_byte_leaves_a_bootable_consistent_store(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("slots")
    SlotStore(root, TRUST, block=BLOCK, disk=CuttingDisk(10**9))  # the factory state, before the budget
    total = _total_bytes(tmp_path_factory.mktemp("probe"), IMG)
    cut = data.draw(st.integers(0, total), label="cut after bytes")
    disk = CuttingDisk(cut)
    store = SlotStore(root, TRUST, block=BLOCK, disk=disk)
    written_before = 0
    try:
        h = IMG.header
        _slot, offset = store.begin(h.to_bytes(), h.length, h.sha256, None)
        while offset < h.length:
            offset = store.write(offset, IMG.payload[offset : offset + CHUNK])
            written_before = offset
        store.verify()
        store.activate()
        store.boot()
        store.confirm()
    except PowerCut:
        pass
    # power back: a new process opens the same directory
    after = SlotStore(root, TRUST, block=BLOCK, disk=CuttingDisk(10**9))
    booted = _running_intact(after)
    assert booted["version"] in (FACTORY_VERSION, "1.4.0")
    assert after.state.problem() is None
    if booted["version"] == "1.4.0" and not booted["trial"]:
        return  # the cut came after the confirm was durable
    if after.state.trial:  # the cut came after the trial boot, before confirm: the next boot reverts
        assert _running_intact(after)["version"] == FACTORY_VERSION
    # resume: the same image continues where the durable journal says, at most one block back
    h = IMG.header
    _slot, resume = after.begin(h.to_bytes(), h.length, h.sha256, None)
    path = after.slot_path(after.state.inactive)
    slot_file = path.read_bytes() if path.exists() else b""
    assert slot_file[:resume] == IMG.payload[:resume]  # everything below the resume offset is right
    if resume < h.length:
        assert resume % BLOCK == 0
        assert written_before - resume <= BLOCK + CHUNK
    offset = resume
    while offset < h.length:
        offset = after.write(offset, IMG.payload[offset : offset + CHUNK])
    assert after.verify() == h.sha256
    after.activate()
    assert after.boot() == {"slot": after.state.active, "version": "1.4.0", "trial": True}
    after.confirm()
    final = SlotStore(root, TRUST, block=BLOCK, disk=CuttingDisk(10**9))
    assert _running_intact(final) == {"slot": final.state.active, "version": "1.4.0", "trial": False}


def test_torn_journal_record_is_ignored(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    h = IMG.header
    store.begin(h.to_bytes(), h.length, h.sha256, None)
    offset = 0
    while offset < 3 * BLOCK:
        offset = store.write(offset, IMG.payload[offset : offset + CHUNK])
    journal = (tmp_path / "journal").read_bytes()
    assert len(journal) == 3 * 48
    (tmp_path / "journal").write_bytes(journal[:-5])  # the last record torn
    again = SlotStore(tmp_path, TRUST, block=BLOCK)
    assert again.begin(h.to_bytes(), h.length, h.sha256, None)[1] == 2 * BLOCK
    bad = bytearray(journal)
    bad[-10] ^= 0xFF  # a corrupted record fails its CRC
    (tmp_path / "journal").write_bytes(bytes(bad))
    assert SlotStore(tmp_path, TRUST, block=BLOCK).begin(h.to_bytes(), h.length, h.sha256, None)[1] == 2 * BLOCK
    assert zlib.crc32(b"") == 0  # (CRC of nothing: the journal format relies on zlib's CRC-32)


def test_damaged_active_slot_falls_back_at_boot(tmp_path):
    store = SlotStore(tmp_path, TRUST, block=BLOCK)
    _install(store, IMG)
    data = bytearray(store.slot_path("B").read_bytes())
    data[100] ^= 1  # bit rot in the running image
    store.slot_path("B").write_bytes(bytes(data))
    again = SlotStore(tmp_path, TRUST, block=BLOCK)
    assert again.boot() == {"slot": "A", "version": FACTORY_VERSION, "trial": False}
    assert again.describe()["slots"][1]["state"] == "failed"
