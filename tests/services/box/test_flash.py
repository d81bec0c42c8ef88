"""``flash`` against the real emulator over socket:// and a pty, and the power-loss fault matrix."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kelaile_cli.core.box.firmware import ImageRejected, build_image
from kelaile_cli.core.box.messages import ErrorCode, MsgType
from kelaile_cli.core.box.replies import Identity
from kelaile_cli.core.errors import InputError, KlxError
from kelaile_cli.services.box import firmware_files as files
from kelaile_cli.services.box.client import BoxClient, BoxError
from kelaile_cli.services.box.flash import FlashOptions, _Flasher, flash
from kelaile_cli.services.emulator.box import BoxSim, Faults, SimOptions, parse_power_loss
from kelaile_cli.services.emulator.slot_store import BLOCK, FACTORY_VERSION, Disk, SlotStore

FAST = 921600  # the emulator paces every byte at its baud; tests use its fastest line
SIZE = 64 * 1024


class PowerCut(BaseException):
    """Raised in the emulator's threads when its power goes: nothing may catch it."""


class KillableDisk(Disk):
    """The real disk until the power goes; afterwards nothing more reaches it."""

    def __init__(self) -> None:
        self.off = False

    def _alive(self) -> None:
        if self.off:
            raise PowerCut

    def pwrite(self, path, offset, data):
        self._alive()
        super().pwrite(path, offset, data)

    def fsync(self, path):
        self._alive()
        super().fsync(path)

    def append(self, path, data):
        self._alive()
        super().append(path, data)

    def replace(self, path, data):
        self._alive()
        super().replace(path, data)


class Rig:
    """One emulated box on a state directory; ``power_cycle`` restarts it there (a new port)."""

    def __init__(self, root: Path, trust: Path, pty: bool = False, baud: int = FAST) -> None:
        self.root, self.trust, self.pty, self.baud = root, trust, pty, baud
        self.box: BoxSim | None = None
        self.cut = threading.Event()

    def start(self, power_loss: str | None = None, fail_first_boot: bool = False, seed: int | None = None) -> str:
        disk = KillableDisk()
        store = SlotStore(self.root / "slots", files.load_trusted(self.trust), disk=disk)
        self.cut.clear()

        def power_off() -> None:
            disk.off = True
            self.cut.set()
            assert self.box is not None
            self.box.link.close()  # the line goes dead with the box
            raise PowerCut

        faults = Faults(power_loss=parse_power_loss(power_loss) if power_loss else None, seed=seed)
        faults.fail_first_boot = fail_first_boot
        options = SimOptions(
            state=self.root,
            listen=None if self.pty else "socket://127.0.0.1:0",
            baud=self.baud,
            faults=faults,
            slots=store,
            power_off=power_off,
        )
        self.box = BoxSim(options)
        with contextlib.suppress(PowerCut):  # the power went during the first boot
            self.box.start()
        return self.box.port

    def stop(self) -> None:
        if self.box is not None:
            self.box.stop()
            self.box = None


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("fw")
    files.keygen(root / "keys")
    payload = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(SIZE // 32))
    images = {}
    for version in ("1.4.0", "1.5.0", "0.9.0"):
        images[version] = root / f"fw-{version}.kfw"
        (root / "payload.bin").write_bytes(payload + version.encode())
        files.build_file(root / "payload.bin", version, root / "keys", images[version], built=1_700_000_000)
    return root / "keys", images


@pytest.fixture
def rigs():
    made: list[Rig] = []
    yield made
    for r in made:
        r.stop()


def _opts(**kw) -> FlashOptions:
    return FlashOptions(reboot_timeout=5.0, **kw)


def _identity(port: str) -> Identity:
    with BoxClient.connect(port) as c:
        return c.identity()


def _assert_confirmed(port: str, version: str) -> None:
    ident = _identity(port)
    running = ident.running
    assert running is not None
    assert (ident.fw, ident.trial, running.version, running.confirmed) == (version, False, version, True)


def test_flash_over_socket_then_rerun_is_a_no_op(tmp_path, keys, rigs):
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start()
    seen: list[str] = []
    report = flash(images["1.4.0"], port, _opts(on_phase=seen.append))
    assert (report.outcome, report.version, report.slot, report.confirmed) == ("installed", "1.4.0", "B", True)
    assert report.resumed_from == 0 and report.payload_sent <= SIZE + 10 and report.retransmitted == 0
    assert seen == ["hello", "begin", "transfer", "verify", "activate", "reboot", "boot", "confirm"]
    assert report.line_share > 0.5  # windowed, not stop-and-wait (which would be far below this at 921600)
    _assert_confirmed(port, "1.4.0")
    again = flash(images["1.4.0"], port, _opts())
    assert again.outcome == "already-installed" and again.payload_sent == 0
    with BoxClient.connect(port) as c, pytest.raises(BoxError) as no_trial:
        c.request(MsgType.FLASH_CONFIRM)  # nothing runs on trial: nothing to confirm
    assert no_trial.value.error is ErrorCode.BAD_STATE and no_trial.value.code == "BAD_STATE"
    newer = flash(images["1.5.0"], port, _opts(compress=False))
    assert (newer.slot, newer.compressed) == ("A", False)  # the other slot; 1.4.0 stays as the way back
    _assert_confirmed(port, "1.5.0")


def test_flash_over_a_pty_negotiates_the_fastest_baud(tmp_path, keys, rigs):
    trust, images = keys
    rig = Rig(tmp_path / "state", trust, pty=True, baud=115200)
    rigs.append(rig)
    port = rig.start()
    report = flash(images["1.4.0"], port, _opts(baud=115200))
    assert report.confirmed and report.baud == FAST  # switched up (the emulator paces at the new speed)
    assert report.transfer_s < SIZE / 11520 / 2  # so the transfer took far less than at 115200
    _assert_confirmed(port, "1.4.0")


def test_refused_images_write_nothing(tmp_path, keys, rigs):
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start()
    flash(images["1.4.0"], port, _opts())
    meta = (tmp_path / "state" / "slots" / "meta.json").read_bytes()
    with pytest.raises(ImageRejected, match=r"older than the running 1\.4\.0") as info:
        flash(images["0.9.0"], port, _opts())
    assert info.value.reason == "downgrade"
    data = bytearray(images["1.5.0"].read_bytes())
    data[-7] ^= 1
    (tmp_path / "tampered.kfw").write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not match its SHA-256"):
        flash(tmp_path / "tampered.kfw", port, _opts())
    (tmp_path / "cut.kfw").write_bytes(bytes(data[:5000]))
    with pytest.raises(InputError, match="truncated"):
        flash(tmp_path / "cut.kfw", port, _opts())
    k2 = tmp_path / "k2"
    files.keygen(k2)
    (tmp_path / "p.bin").write_bytes(b"\1" * 5000)
    files.build_file(tmp_path / "p.bin", "2.0.0", k2, tmp_path / "wrong-target.kfw", target="K2")
    with pytest.raises(ImageRejected, match="built for hardware K2, this box is K1-r2"):
        flash(tmp_path / "wrong-target.kfw", port, _opts())
    files.build_file(tmp_path / "p.bin", "2.0.0", k2, tmp_path / "stranger.kfw")
    with pytest.raises(ImageRejected, match="not trusted"):  # host-side, with --trust
        flash(tmp_path / "stranger.kfw", port, _opts(trust=trust))
    with pytest.raises(BoxError) as boxed:  # the box itself refuses a key it does not trust
        flash(tmp_path / "stranger.kfw", port, _opts())
    assert boxed.value.error == ErrorCode.REJECTED
    assert (tmp_path / "state" / "slots" / "meta.json").read_bytes() == meta  # nothing written
    report = flash(images["0.9.0"], port, _opts(allow_downgrade=True))
    assert report.confirmed and report.version == "0.9.0"


def test_an_image_that_fails_its_first_boot_is_reverted(tmp_path, keys, rigs):
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start(fail_first_boot=True)
    with pytest.raises(KlxError, match="reverted by itself"):
        flash(images["1.4.0"], port, _opts())
    assert _identity(port).fw == FACTORY_VERSION


def test_corrupted_and_lost_chunks_are_resent(tmp_path, keys, rigs):
    """Bytes corrupted on the line both ways during the transfer: CRC/COBS drop frames, the window recovers."""
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start(seed=2)  # seeded: the line damages bytes 2,641, 29,401, … of the transfer, both ways
    assert rig.box is not None
    faults = rig.box.faults

    def phase(name: str) -> None:  # the line is bad only while chunks flow (~7 damaged bytes each way)
        faults.corrupt = 1e-4 if name == "transfer" else 0.0

    report = flash(images["1.5.0"], port, _opts(on_phase=phase, compress=False))
    assert report.confirmed and report.retransmitted > 0
    assert report.payload_sent > SIZE  # some chunks went twice
    _assert_confirmed(port, "1.5.0")


def test_unplugged_mid_transfer_resumes_where_it_stopped(tmp_path, keys, rigs):
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start()

    def unplug(done: int, total: int) -> None:
        if done >= 24 * 1024 and rig.box is not None:
            rig.box.link.drop_host()  # the cable is pulled; the box keeps running

    with pytest.raises(KlxError, match=r"link to the box broke|did not answer"):
        flash(images["1.4.0"], port, _opts(on_progress=unplug))
    report = flash(images["1.4.0"], port, _opts())  # plugged in again
    assert report.confirmed and report.resumed_from >= 24 * 1024 and report.resumed_from % 4096 == 0
    assert report.payload_sent <= SIZE + 5 - report.resumed_from + 4096 * 16  # at most a window again
    _assert_confirmed(port, "1.4.0")


# power loss at 20 points spread over the whole sequence (phase counts: boot:1 is the emulator's own start)
POINTS = [
    "hello:1",
    "flash-begin:1",
    "flash-data:1",
    "flash-data:2",
    "flash-data:4",
    "flash-data:5",
    "flash-data:7",
    "flash-data:9",
    "flash-data:11",
    "flash-data:13",
    "flash-data:15",
    "flash-data:16",
    "bytes:30000",
    "bytes:50000",
    "flash-verify:1",
    "flash-activate:1",
    "reboot:1",
    "boot:2",
    "hello:2",
    "flash-confirm:1",
]


def _one_point(root: Path, trust: Path, image: Path, point: str) -> tuple[str, int, int]:
    rig = Rig(root, trust)
    acked = [0]

    def progress(done: int, total: int) -> None:
        acked[0] = max(acked[0], done)

    try:
        port = rig.start(power_loss=point)
        with pytest.raises(KlxError):
            flash(image, port, _opts(on_progress=progress))
        assert rig.cut.is_set(), f"{point}: the power never went"
    finally:
        rig.stop()
    try:
        port = rig.start()  # power back on the same state directory
        booted = rig.box.boot_info
        assert booted["version"] in (FACTORY_VERSION, "1.4.0")
        report = flash(image, port, _opts())
        _assert_confirmed(port, "1.4.0")
    finally:
        rig.stop()
    return point, acked[0], report.resumed_from


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # PowerCut ends threads
def test_fault_matrix_power_loss_at_20_points(tmp_path, keys):
    trust, images = keys
    with ThreadPoolExecutor(10) as pool:  # the runs are paced line time, not CPU: run them side by side
        jobs = [pool.submit(_one_point, tmp_path / f"p{i}", trust, images["1.4.0"], p) for i, p in enumerate(POINTS)]
        results = [j.result() for j in jobs]
    for point, acked, resumed in results:
        assert resumed % BLOCK == 0 or resumed == SIZE + 5, point
        if point.startswith(("flash-data", "bytes")):
            assert acked - resumed <= BLOCK, f"{point}: acked {acked}, resumed at {resumed}: more than one block"
    assert any(r > 0 for _p, _a, r in results)  # some runs really resumed


def test_no_box_and_wrong_port_are_one_line(tmp_path, keys):
    _trust, images = keys
    with pytest.raises(KlxError, match="nothing is listening"):
        flash(images["1.4.0"], "socket://127.0.0.1:9", _opts())
    with pytest.raises(KlxError, match="no such port"):
        flash(images["1.4.0"], str(tmp_path / "ttyNOPE"), _opts())


def test_signing_key_mismatch_detected_before_the_port(tmp_path):
    key = Ed25519PrivateKey.generate()
    image = build_image(b"abc", "1.0.0", key, 0)
    data = bytearray(image.to_bytes())
    data[150] ^= 1  # inside the embedded public key
    (tmp_path / "x.kfw").write_bytes(bytes(data))
    with pytest.raises(ImageRejected):
        flash(tmp_path / "x.kfw", "socket://127.0.0.1:9", _opts())  # refused before any connection attempt


def test_a_confirm_refused_as_no_trial_counts_only_if_this_image_runs_confirmed(tmp_path, keys, rigs):
    """A first FLASH_CONFIRM whose answer was lost makes the retry BAD_STATE: the flasher checks IDENTITY."""
    trust, images = keys
    rig = Rig(tmp_path / "state", trust)
    rigs.append(rig)
    port = rig.start()
    flash(images["1.4.0"], port, _opts())
    refusal = BoxError(MsgType.FLASH_CONFIRM, ErrorCode.BAD_STATE, "no image runs on trial")
    installed = _Flasher(files.read_image(images["1.4.0"]), "fw-1.4.0", port, _opts())
    other = _Flasher(files.read_image(images["1.5.0"]), "fw-1.5.0", port, _opts())
    with BoxClient.connect(port) as c:
        assert installed._confirmed_already(c, refusal) == {"slot": "B", "confirmed": True}
        with pytest.raises(BoxError) as info:
            other._confirmed_already(c, refusal)
    assert info.value is refusal
