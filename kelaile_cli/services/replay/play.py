"""``klx play``: send a recording's print stream to a box's POS port or a printer, as the POS did.

Connection by connection (one TCP connection per recorded job, or one after another on a serial line),
the POS→printer chunks go out in order — as fast as the target takes them, or with the recorded gaps
(``speed``: 1 as recorded, 10 ten times faster). Where the recording shows the printer answering (a status
request such as ``DLE EOT n``), the player reads the target's answer for a bounded time, as a POS waits for
it; a target that stays silent is answered from the recording (counted, so the report shows it), and the
play goes on. The report says, per connection, what was sent and what came back.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kelaile_cli import __version__
from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, Header, Recording
from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.transports.endpoints import Endpoint, parse_endpoint

__all__ = ["ConnectionResult", "PlayOptions", "PlayReport", "pick_connections", "play"]

REPLY_WAIT_S = 1.0  # how long a POS waits for the printer's answer to a status request
READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class PlayOptions:
    speed: float | None = None  # None: as fast as the target takes; 1.0: as recorded; 10: ten times faster
    reply_wait_s: float = REPLY_WAIT_S
    connect_timeout_s: float = 5.0


@dataclass(slots=True)
class ConnectionResult:
    conn: int
    sent: int = 0  # bytes
    chunks: int = 0
    received: bytes = b""  # what the target sent back
    replies_expected: int = 0  # answers the recording shows the printer giving
    replies_from_target: int = 0
    replies_from_recording: int = 0  # the target stayed silent: the recorded answer stood in
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "connection": self.conn,
            "bytes_sent": self.sent,
            "chunks": self.chunks,
            "bytes_back": len(self.received),
            "back_hex": self.received[:64].hex(" "),
            "replies_expected": self.replies_expected,
            "replies_from_target": self.replies_from_target,
            "replies_from_recording": self.replies_from_recording,
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class PlayReport:
    recording: str
    target: str
    connections: list[ConnectionResult] = field(default_factory=list)

    @property
    def bytes_sent(self) -> int:
        return sum(c.sent for c in self.connections)

    def to_dict(self) -> dict[str, Any]:
        return {"recording": self.recording, "target": self.target, "bytes_sent": self.bytes_sent,
                "connections": [c.to_dict() for c in self.connections]}  # fmt: skip


class _Link(Protocol):
    def write(self, data: bytes) -> None: ...
    def read(self, timeout: float) -> bytes: ...


class _TcpLink:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float) -> bytes:
        self.sock.settimeout(max(0.001, timeout))
        try:
            return self.sock.recv(READ_SIZE)
        except TimeoutError:
            return b""
        except OSError:
            return b""


class _SerialLink:
    def __init__(self, port: Any) -> None:
        self.port = port

    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read(self, timeout: float) -> bytes:
        self.port.timeout = max(0.001, timeout)
        return bytes(self.port.read(max(1, self.port.in_waiting or 1)))


class _FileLink:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def read(self, timeout: float) -> bytes:
        return b""  # a file never answers: recorded replies stand in


@contextlib.contextmanager
def _tcp(target: Endpoint, timeout: float) -> Iterator[_Link]:
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise JobError(
            f"{target}: cannot connect ({exc.strerror or exc})",
            layer="network",
            code="PLAY_CONNECT",
            remedy="is the box (klx box sim --pos listen://…) or the printer listening there?",
        ) from None
    try:
        yield _TcpLink(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)  # the job is whole: the POS half-closes, as a print spooler does
            sock.settimeout(0.5)
            while sock.recv(READ_SIZE):
                pass
    finally:
        sock.close()


def _open_serial(target: Endpoint) -> Any:
    import serial  # pyserial

    try:
        return serial.serial_for_url(target.path, baudrate=115200, timeout=0.05, write_timeout=30)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise JobError(
            f"{target}: cannot open the port ({exc})",
            layer="cable",
            code="PLAY_PORT",
            remedy="check the port name (klx devices) and that no other program holds it",
        ) from None


def _turns(chunks: list[Chunk]) -> Iterator[tuple[Chunk, list[Chunk]]]:
    """Each POS→printer chunk with the printer→POS chunks the recording shows right after it."""
    pending: Chunk | None = None
    replies: list[Chunk] = []
    for chunk in chunks:
        if chunk.direction == TO_PRINTER:
            if pending is not None:
                yield pending, replies
            pending, replies = chunk, []
        elif chunk.direction == TO_HOST and pending is not None:
            replies.append(chunk)
    if pending is not None:
        yield pending, replies


def _play_one(link: _Link, chunks: list[Chunk], result: ConnectionResult, options: PlayOptions) -> None:
    began = time.monotonic()
    first_t = chunks[0].t if chunks else 0.0
    for chunk, replies in _turns(chunks):
        if options.speed:
            due = began + (chunk.t - first_t) / options.speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        link.write(chunk.data)
        result.sent += len(chunk.data)
        result.chunks += 1
        if replies:
            result.replies_expected += 1
            want = sum(len(r.data) for r in replies)
            got = b""
            deadline = time.monotonic() + options.reply_wait_s
            while len(got) < want and (left := deadline - time.monotonic()) > 0:
                got += link.read(left)
            result.received += got
            if got:
                result.replies_from_target += 1
            else:
                result.replies_from_recording += 1
    # whatever else the target says before the job ends (late status, ASB)
    result.received += link.read(0.05)
    result.seconds = time.monotonic() - began


def pick_connections(
    rec: Recording, *, connection: list[int] | None = None, receipt: str | None = None,
    profile_dirs: list[Path] | None = None, decode: DecodeOptions | None = None, name: str = "",
) -> list[int]:  # fmt: skip
    """The recording's connections to play: all, the ``connection`` numbers given, or those printing ``receipt``
    (an order number, found by the profiles as ``klx parse`` would)."""
    known = rec.connections()
    if connection:
        missing = [c for c in connection if c not in known]
        if missing:
            raise InputError(f"--connection {missing[0]}: {name} has no such connection",
                             remedy=f"its connections: {', '.join(map(str, known)) or 'none'}")  # fmt: skip
        return [c for c in known if c in connection]
    if receipt is None:
        return known
    detector = Detector(load_profiles(profile_dirs or []).profiles)
    source = jobs.Source(name, rec.stream(TO_PRINTER), rec)
    found, orders = [], set()
    for r in jobs.source_receipts(source, decode or DecodeOptions()):
        tx = analyse(r, detector).transaction
        order = tx.order_no if tx is not None else None
        if order:
            orders.add(order)
        if order == receipt and r.connection not in found:
            found.append(r.connection)
    if not found:
        raise InputError(f"--receipt {receipt}: no receipt in {name} has this order number",
                         remedy=f"order numbers found: {', '.join(sorted(orders)[:8]) or 'none'}")  # fmt: skip
    return [c for c in known if c in found]


def play(
    path: Path,
    to: str,
    options: PlayOptions | None = None,
    *,
    connection: list[int] | None = None,
    receipt: str | None = None,
    profile_dirs: list[Path] | None = None,
    on_connection: Callable[[ConnectionResult], None] | None = None,
) -> PlayReport:
    """Play the POS side of the recording at ``path`` to the endpoint ``to`` and report what came back."""
    options = options or PlayOptions()
    if options.speed is not None and options.speed <= 0:
        raise InputError(f"--speed {options.speed}: must be more than 0")
    target = parse_endpoint(to)
    if target.kind in ("listen", "usb"):
        raise InputError(f"--to {to}: play sends to a box's POS port or a printer",
                         remedy="give tcp://HOST:PORT, a serial port or pyserial URL, or a file to write")  # fmt: skip
    source = jobs.load_source(path)
    rec = source.recording
    if rec is None:  # a raw job: one connection, no timing, no replies
        rec = Recording(Header(str(path), 0.0, __version__), [Chunk(0.0, TO_PRINTER, 0, source.data)])
    conns = pick_connections(rec, connection=connection, receipt=receipt, profile_dirs=profile_dirs, name=str(path))
    report = PlayReport(str(path), to)
    by_conn: dict[int, list[Chunk]] = {c: [] for c in conns}
    for chunk in rec.chunks:
        if chunk.conn in by_conn:
            by_conn[chunk.conn].append(chunk)
    serial_port = _open_serial(target) if target.kind == "serial" else None
    file_handle = None
    try:
        if target.kind == "file":
            try:
                file_handle = open(target.path, "ab")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise InputError(f"--to {to}: cannot write ({exc.strerror or exc})") from None
        for conn in conns:
            result = ConnectionResult(conn)
            if target.kind == "tcp":
                with _tcp(target, options.connect_timeout_s) as link:
                    _play_one(link, by_conn[conn], result, options)
            elif serial_port is not None:
                _play_one(_SerialLink(serial_port), by_conn[conn], result, options)
            else:
                _play_one(_FileLink(file_handle), by_conn[conn], result, options)
            report.connections.append(result)
            if on_connection is not None:
                on_connection(result)
    except OSError as exc:
        raise JobError(f"--to {to}: the target went away ({exc.strerror or exc})", layer="network",
                       code="PLAY_LINK", remedy="check the box or printer, then play again") from None  # fmt: skip
    finally:
        if serial_port is not None:
            serial_port.close()
        if file_handle is not None:
            file_handle.close()
    return report
