"""``klx flash``: install a signed image on a box over its protocol, resumably, without bricking it.

Sequence (docs/firmware-image.md): check the image (hash, signature, and the trusted keys if given)
before opening the port → HELLO → check target and version against the box → negotiate the fastest
baud both ends can do (not on socket://) → FLASH_BEGIN (the box answers the resume offset) → stream
chunks with a window of requests outstanding, zlib per chunk when it pays, CRC-32 per chunk →
FLASH_VERIFY (slot hash) → FLASH_ACTIVATE → REBOOT → reconnect to the same box (by serial number) and
check it runs the new image on trial → FLASH_CONFIRM.

Re-running after any interruption finishes the job: an image already running on trial is only
confirmed, one already confirmed is reported as installed, a partial slot resumes at its durable offset.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli.core.box.firmware import FirmwareImage, ImageRejected, verify_header
from kelaile_cli.core.box.messages import ErrorCode, MsgType
from kelaile_cli.core.box.session import Failure, Response
from kelaile_cli.core.errors import DeviceTimeoutError, JobError
from kelaile_cli.services.box.client import DEFAULT_BAUD, BoxClient, BoxError
from kelaile_cli.services.box.firmware_files import load_trusted, read_image

__all__ = ["FlashOptions", "FlashReport", "flash"]

SAFE_BAUDS = (921600, 460800, 230400)  # tried fastest first; each confirmed with a PING at the new speed
COMPRESS_LEVEL = 6
ATTEMPTS = 3  # tries of an idempotent request whose answer does not come


@dataclass
class FlashOptions:
    allow_downgrade: bool = False
    compress: bool = True
    trust: Path | None = None  # also require the signer to be one of these keys (the box always does)
    baud: int = DEFAULT_BAUD  # to open the port at
    negotiate: bool = True  # try a faster baud (never on socket://)
    hello_timeout: float = 2.0
    reboot_timeout: float = 15.0
    on_phase: Callable[[str], None] = lambda phase: None
    on_progress: Callable[[int, int], None] = lambda done, total: None  # image bytes acknowledged, total


@dataclass
class FlashReport:
    image: str
    version: str
    size: int
    outcome: str = "installed"  # installed | confirmed (was on trial) | already-installed
    slot: str = ""
    resumed_from: int = 0
    payload_sent: int = 0  # chunk bytes on the wire (compressed, retransmissions included)
    wire_bytes: int = 0  # every byte klx wrote to the port
    retransmitted: int = 0  # chunks sent more than once
    rewinds: int = 0  # times the box said "go back to next" (a bad or missing chunk)
    stalls: int = 0  # times no answer came within the patience and the window was resent
    compressed: bool = False
    baud: int = 0
    transfer_s: float = 0.0
    elapsed_s: float = 0.0
    confirmed: bool = False
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Image bytes installed per second of transfer."""
        return (self.size - self.resumed_from) / self.transfer_s if self.transfer_s > 0 else 0.0

    @property
    def line_share(self) -> float:
        """Throughput as a share of the line rate (8N1: baud/10 bytes per second)."""
        return self.throughput / (self.baud / 10) if self.baud else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "version": self.version,
            "size": self.size,
            "outcome": self.outcome,
            "slot": self.slot,
            "confirmed": self.confirmed,
            "resumed_from": self.resumed_from,
            "bytes_sent": self.payload_sent,
            "wire_bytes": self.wire_bytes,
            "retransmitted_chunks": self.retransmitted,
            "rewinds": self.rewinds,
            "stalls": self.stalls,
            "compressed": self.compressed,
            "baud": self.baud,
            "transfer_s": round(self.transfer_s, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "throughput_Bps": round(self.throughput),
            "line_rate_share": round(self.line_share, 3),
            "phases_s": {k: round(v, 3) for k, v in self.phases.items()},
        }


def _ask(client: BoxClient, mtype: MsgType, body: dict[str, Any] | None = None, timeout: float = 3.0) -> dict:
    """An idempotent request, sent again if it or its answer was lost on the line (a corrupted frame
    is dropped without an answer); an ``ERROR`` answer is final."""
    for attempt in range(ATTEMPTS):
        try:
            return client.request(mtype, body, timeout=timeout)
        except DeviceTimeoutError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class _Flasher:
    def __init__(self, image: FirmwareImage, name: str, port: str, options: FlashOptions) -> None:
        self.image = image
        self.port = port
        self.options = options
        self.report = FlashReport(name, str(image.header.version), image.header.length)
        self._t0 = time.monotonic()
        self._phase_t = self._t0
        self._phase_name = ""

    def phase(self, name: str) -> None:
        now = time.monotonic()
        if self._phase_name:
            self.report.phases[self._phase_name] = self.report.phases.get(self._phase_name, 0.0) + now - self._phase_t
        self._phase_name, self._phase_t = name, now
        if name:
            self.options.on_phase(name)

    def run(self) -> FlashReport:
        self.phase("hello")
        client = BoxClient.connect(self.port, baud=self.options.baud, timeout=self.options.hello_timeout)
        try:
            self._run(client)
        finally:
            self.report.wire_bytes += client.bytes_sent
            client.close()
            self.phase("")
            self.report.elapsed_s = time.monotonic() - self._t0
        return self.report

    def _run(self, client: BoxClient) -> None:
        hello = client.hello
        if "flash" not in hello.caps:
            raise JobError(f"{self.port}: this box cannot be flashed (no 'flash' capability)", remedy="update the box")
        sha = self.image.header.sha256.hex()
        ident = client.identity()
        running = ident.running
        self.report.baud = hello.baud or self.options.baud
        if running is not None and running.sha256 == sha:  # a re-run after the transfer: finish what is left
            self.report.slot = ident.active
            if ident.trial:
                self._confirm(client, "confirmed")
            else:
                self.report.outcome, self.report.confirmed = "already-installed", True
            return
        try:  # target and version, before a single image byte is sent
            verify_header(self.image.header, None, hello.hw, hello.fw, self.options.allow_downgrade)
        except ImageRejected as exc:
            why = f"{self.report.image}: refused for box {hello.serial}: {exc}"
            raise ImageRejected(exc.reason, why) from None
        self._negotiate(client)
        self.phase("begin")
        header = self.image.header
        begun = _ask(
            client,
            MsgType.FLASH_BEGIN,
            # downgrade: consent for a box that enforces the version rule itself (an extra field old boxes skip)
            {
                "header": header.to_bytes(),
                "size": header.length,
                "sha256": header.sha256,
                "downgrade": self.options.allow_downgrade,
            },
        )
        self.report.slot, self.report.resumed_from = str(begun["slot"]), int(begun["offset"])
        self.phase("transfer")
        t = time.monotonic()
        self._stream(client, int(begun["offset"]), int(begun.get("chunk", 4096)), int(begun.get("window", 8)))
        self.report.transfer_s = time.monotonic() - t
        self.phase("verify")
        digest = _ask(client, MsgType.FLASH_VERIFY, timeout=30)["sha256"]
        if bytes(digest) != header.sha256:
            raise JobError(f"{self.port}: slot hash {bytes(digest).hex()[:16]}… differs", remedy="re-run klx flash")
        self.phase("activate")
        _ask(client, MsgType.FLASH_ACTIVATE)
        self._reboot(client)
        self._confirm(client, "installed")

    def _negotiate(self, client: BoxClient) -> None:
        if not self.options.negotiate or self.port.startswith("socket://"):
            return
        if "baud" not in client.hello.caps:
            return
        self.phase("baud")
        offered = set(client.hello.bauds)
        current = client.hello.baud or self.options.baud
        for baud in (b for b in SAFE_BAUDS if b in offered and b > current):
            try:
                answer = client.request(MsgType.SET_BAUD, {"baud": baud})
            except BoxError:
                continue
            client.link.baud = baud
            try:
                client.ping(timeout=1.0)
            except JobError:
                client.link.baud = current  # the box goes back by itself after its timeout
                time.sleep(float(answer.get("timeout", 2.0)) + 0.1)
                client.link.discard_input()
                continue
            self.report.baud = baud
            return

    def _stream(self, client: BoxClient, start: int, chunk: int, window: int) -> None:
        """Go-back-N: up to ``window`` chunks in flight; the box acks cumulatively (``next``), an ERROR with
        ``next`` sends the host back there, and silence (lost chunks at the tail) resends from the last ack.
        Chunks given up on stay known, so their late answers still count as acks and as signs of life."""
        data = self.image.payload
        size = len(data)
        line = self.report.baud / 10 or 11520
        # answers come one chunk's line time apart while the window flows; silence much longer than that
        # means the last chunks or their answers were lost (nothing later arrived to reveal the gap)
        patience = 2.0 + 2 * (chunk + 64) / line
        heard = time.monotonic()
        acked = send_at = start
        seq = rewind_seq = 0
        live: dict[int, int] = {}  # id -> send sequence, for chunks that count against the window
        stale: dict[int, int] = {}  # given up on after a stall: answers still welcome
        sent_offsets: set[int] = set()
        self.options.on_progress(acked, size)
        while acked < size:
            if not live:
                heard = time.monotonic()
            while len(live) < window and send_at < size:
                piece = data[send_at : send_at + chunk]
                body: dict[str, Any] = {"offset": send_at, "crc": zlib.crc32(piece)}
                packed = zlib.compress(piece, COMPRESS_LEVEL) if self.options.compress else piece
                if self.options.compress and len(packed) < len(piece):
                    body.update(data=packed, z=True)
                    self.report.compressed = True
                else:
                    body["data"] = piece
                seq += 1
                live[client.send(MsgType.FLASH_DATA, body)] = seq
                self.report.payload_sent += len(body["data"])
                if send_at in sent_offsets:
                    self.report.retransmitted += 1
                sent_offsets.add(send_at)
                send_at += len(piece)
            client.pump()
            for ans in client.ready():
                sent_seq = live.pop(ans.id, None)
                if sent_seq is None:
                    sent_seq = stale.pop(ans.id, None)
                if sent_seq is None:
                    continue
                heard = time.monotonic()
                if isinstance(ans, Response):
                    acked = max(acked, int(ans.body.get("next", acked)))
                elif isinstance(ans, Failure) and sent_seq > rewind_seq:
                    if ans.code not in (ErrorCode.BAD_CHUNK, ErrorCode.BAD_OFFSET) or ans.next is None:
                        raise BoxError.from_failure(ans)
                    send_at, rewind_seq = int(ans.next), seq  # go back; ignore the answers already under way
                    acked = max(acked, send_at)
                    self.report.rewinds += 1
            if live and time.monotonic() - heard > patience:
                stale.update(live)
                live.clear()
                send_at, rewind_seq = acked, seq
                self.report.stalls += 1
            send_at = max(send_at, acked)
            self.options.on_progress(acked, size)
        for msg_id in (*live, *stale):  # their answers no longer matter
            client.session.forget(msg_id)

    def _reboot(self, client: BoxClient) -> None:
        self.phase("reboot")
        with contextlib.suppress(JobError):  # the answer may be lost as the link drops; the reconnect tells
            client.request(MsgType.REBOOT, timeout=3.0)
        self.phase("boot")
        client.reconnect(timeout=self.options.reboot_timeout, baud=self.options.baud)

    def _confirm(self, client: BoxClient, outcome: str) -> None:
        ident = client.identity()
        version = str(self.image.header.version)
        if ident.fw != version or not ident.trial:
            raise JobError(
                f"{self.port}: the new image did not stay up: the box runs {ident.fw} from slot "
                f"{ident.active} (it reverted by itself)",
                remedy="the image failed its trial boot; check it and re-run klx flash",
            )
        self.phase("confirm")
        try:
            done = _ask(client, MsgType.FLASH_CONFIRM)
        except BoxError as exc:
            if exc.error is not ErrorCode.BAD_STATE:
                raise
            done = self._confirmed_already(client, exc)
        self.report.slot = str(done.get("slot", ident.active))
        self.report.confirmed = bool(done.get("confirmed"))
        self.report.outcome = outcome

    def _confirmed_already(self, client: BoxClient, refusal: BoxError) -> dict[str, Any]:
        """FLASH_CONFIRM was refused (no trial): an earlier confirm whose answer was lost on the line may
        have done it. Success only if the box now runs this image, confirmed."""
        ident = client.identity()
        running = ident.running
        if ident.trial or running is None or running.sha256 != self.image.header.sha256.hex() or not running.confirmed:
            raise refusal
        return {"slot": ident.active, "confirmed": True}


def flash(path: Path, port: str, options: FlashOptions | None = None) -> FlashReport:
    """Install the image in ``path`` on the box at ``port``; ``JobError``/``InputError`` say why not."""
    options = options or FlashOptions()
    image = read_image(path)  # hash and structure, before the port is touched
    verify_header(image.header, load_trusted(options.trust) if options.trust else None, name=str(path))
    return _Flasher(image, str(path), port, options).run()
