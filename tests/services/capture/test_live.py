"""Live capture over real sockets and a real pty: bytes first and unchanged, taps beside the flow."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import tty

import pytest

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services.capture.live import Capture, CaptureOptions, ReceiptSink, SerialSettings
from kelaile_cli.transports.endpoints import parse_endpoint
from tests.helpers import JOB, FakePrinter, pos_print


class Running:
    """A started ``Capture`` with the bound port, stopped by ``join()`` once it ends by itself."""

    def __init__(self, source: str, forward: str | None, sinks, **kw) -> None:
        options = CaptureOptions(parse_endpoint(source), parse_endpoint(forward) if forward else None, sinks, **kw)
        self.capture = Capture(options)
        self.capture.start()
        self.port = self.capture.address[1]
        self.stats = self.capture.stats()

    def join(self) -> None:
        assert self.capture.wait(20)
        self.stats = self.capture.stop()


def test_passthrough_is_byte_exact_with_concurrent_pos_and_status_replies():
    printer = FakePrinter()
    chunks: list[Chunk] = []
    cap = Running("listen://127.0.0.1:0", f"tcp://127.0.0.1:{printer.port}", [chunks.append], max_jobs=6)
    jobs = [JOB.replace(b"Table 7", f"Table {i}".encode()) * (i + 1) for i in range(6)]
    statuses: list[bytes] = []
    threads = [threading.Thread(target=lambda j=j: statuses.append(pos_print(cap.port, j, True))) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    cap.join()
    printer.close()
    assert sorted(printer.wait_for(6)) == sorted(jobs)  # every job, every byte, in order within its connection
    assert statuses == [b"\x16"] * 6  # the printer's answer reached each POS
    by_conn: dict[int, bytes] = {}
    for c in chunks:
        if c.direction == TO_PRINTER:
            by_conn[c.conn] = by_conn.get(c.conn, b"") + c.data
    assert sorted(by_conn.values()) == sorted(jobs)
    assert sum(1 for c in chunks if c.direction == TO_HOST) >= 6
    assert cap.stats.connections == 6 and cap.stats.errors == 0


def test_a_crashing_tap_never_stops_printing():
    printer = FakePrinter()

    def broken(chunk: Chunk) -> None:
        raise RuntimeError("decoder exploded")

    cap = Running("listen://127.0.0.1:0", f"tcp://127.0.0.1:{printer.port}", [broken], max_jobs=3)
    for _ in range(3):
        pos_print(cap.port, JOB)
    cap.join()
    printer.close()
    assert printer.wait_for(3) == [JOB] * 3
    assert cap.stats.errors >= 3 and "decoder exploded" in cap.stats.last_error


def test_unreachable_printer_resets_the_pos_connection_every_time():
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there now
    cap = Running("listen://127.0.0.1:0", f"tcp://127.0.0.1:{port}", [], max_jobs=30)
    resets = 0
    for _ in range(30):  # every time, not most times
        try:  # the reset may reach the POS as soon as its connect, or on its send, or on its read
            with socket.create_connection(("127.0.0.1", cap.port), timeout=10) as s:
                s.settimeout(10)
                with contextlib.suppress(BrokenPipeError):
                    s.sendall(JOB)
                s.recv(1)  # a clean close (b"") would tell the POS its job printed
        except ConnectionResetError:
            resets += 1
    assert resets == 30
    with pytest.raises(JobError, match="unreachable"):
        cap.join()
    assert cap.capture.stats().refused == 30


def test_virtual_printer_decodes_receipts_and_answers_status():
    receipts = []
    sink = ReceiptSink(DecodeOptions(), lambda r, conn: receipts.append((conn, r)))
    cap = Running("listen://127.0.0.1:0", None, [sink], max_jobs=2)
    assert pos_print(cap.port, JOB, read_status=True) == b"\x16"
    pos_print(cap.port, JOB.replace(b"Table 7", b"Table 8"))
    cap.join()
    assert [(conn, r.lines[0].text) for conn, r in receipts] == [(0, "Table 7"), (1, "Table 8")]


def test_listen_port_in_use_is_a_clear_error():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    with pytest.raises(Exception, match="cannot listen"):
        Capture(CaptureOptions(parse_endpoint(f"listen://127.0.0.1:{port}"), duration=1)).start()
    busy.close()


def test_serial_pty_sniff_and_bridge():
    pos_master, pos_slave = os.openpty()
    prn_master, prn_slave = os.openpty()
    for fd in (pos_slave, prn_slave):
        tty.setraw(fd)
    chunks: list[Chunk] = []
    cap = Running(
        os.ttyname(pos_slave),
        os.ttyname(prn_slave),
        [chunks.append],
        duration=2.0,
        serial_line=SerialSettings(115200, "E", xonxoff=False),
    )
    os.write(pos_master, JOB)  # the POS writes to its serial port ...
    got = b""
    deadline = time.monotonic() + 5
    while len(got) < len(JOB) and time.monotonic() < deadline:
        got += os.read(prn_master, 4096)  # ... and the printer receives it through klx
    os.write(prn_master, b"\x16")  # the printer answers
    answer = os.read(pos_master, 16)
    cap.join()
    for fd in (pos_master, pos_slave, prn_master, prn_slave):
        os.close(fd)
    assert got == JOB and answer == b"\x16"
    assert b"".join(c.data for c in chunks if c.direction == TO_PRINTER) == JOB


def test_forward_to_usb_printer_serialises_jobs_and_returns_status():
    # No USB hardware exists here: pyusb runs its real code path over an emulated printer backend.
    from tests.doubles.usb_emulated import EmulatedPrinterBackend

    backend = EmulatedPrinterBackend(vid=0x04B8, pid=0x0202)
    chunks: list[Chunk] = []
    cap = Running("listen://127.0.0.1:0", "usb://04b8:0202", [chunks.append], max_jobs=3, usb_backend=backend)
    jobs = [JOB.replace(b"Table 7", f"Table {i}".encode()) * 20 for i in range(3)]
    statuses: list[bytes] = []
    threads = [threading.Thread(target=lambda j=j: statuses.append(pos_print(cap.port, j, True))) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    cap.join()
    got = backend.received
    assert len(got) == sum(map(len, jobs))
    assert sorted(got[i : i + len(jobs[0])] for i in range(0, len(got), len(jobs[0]))) == sorted(
        jobs
    )  # never interleaved
    assert all(s.startswith(b"\x16") for s in statuses) and len(statuses) == 3
    assert any(c.direction == TO_HOST for c in chunks)


def test_serial_pos_to_usb_printer():
    from tests.doubles.usb_emulated import EmulatedPrinterBackend

    backend = EmulatedPrinterBackend()
    master, slave = os.openpty()
    tty.setraw(slave)
    cap = Running(os.ttyname(slave), "usb://04b8:0202", [], duration=1.5, usb_backend=backend)
    os.write(master, JOB)
    answer = os.read(master, 16)
    cap.join()
    os.close(master)
    os.close(slave)
    assert backend.received == JOB and answer == b"\x16"


def test_missing_usb_printer_is_a_clear_error():
    from tests.doubles.usb_emulated import EmulatedPrinterBackend

    with pytest.raises(Exception, match="usb://dead:beef: no such device"):
        options = CaptureOptions(parse_endpoint("listen://127.0.0.1:0"), parse_endpoint("usb://dead:beef"),
                                 duration=0.1, usb_backend=EmulatedPrinterBackend())  # fmt: skip
        Capture(options).start()


def test_status_ticks_report_progress():
    seen: list[int] = []
    cap = Running("listen://127.0.0.1:0", None, [], duration=1.6, on_tick=lambda stats: seen.append(stats.bytes_out))
    pos_print(cap.port, JOB)
    cap.join()
    assert len(seen) >= 2 and seen[-1] == len(JOB)


def test_bad_serial_settings_are_refused():
    with pytest.raises(InputError, match="--parity X"):
        Capture(CaptureOptions(parse_endpoint("loop://"), duration=0.1, serial_line=SerialSettings(9600, "X"))).start()


def test_a_status_reply_long_after_the_pos_half_closes_is_still_relayed():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def slow_printer() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(10)
            while conn.recv(65536):
                pass  # until the POS half-closes
            time.sleep(2.5)  # busy printing, then answers
            conn.sendall(b"\x14status")

    threading.Thread(target=slow_printer, daemon=True).start()
    cap = Running("listen://127.0.0.1:0", f"tcp://127.0.0.1:{srv.getsockname()[1]}", [], max_jobs=1)
    with socket.create_connection(("127.0.0.1", cap.port), timeout=10) as pos:
        pos.settimeout(10)
        pos.sendall(JOB)
        pos.shutdown(socket.SHUT_WR)
        got = b""
        while data := pos.recv(64):
            got += data
    cap.join()
    srv.close()
    assert got == b"\x14status"
    assert cap.stats.bytes_in == len(b"\x14status")


def test_the_recording_never_lags_the_printer_by_more_than_its_bound():
    printer = FakePrinter()
    limit = 64 * 1024
    recorded = [0]
    worst = [0]
    stats_box: list = []

    def slow_recorder(chunk: Chunk) -> None:
        if chunk.direction == TO_PRINTER:
            worst[0] = max(worst[0], stats_box[0].bytes_out - recorded[0])
            time.sleep(0.002)  # a slow disk
            recorded[0] += len(chunk.data)

    cap = Running(
        "listen://127.0.0.1:0", f"tcp://127.0.0.1:{printer.port}", [], recorders=[slow_recorder], max_jobs=1,
        record_lag_bytes=limit,
    )  # fmt: skip
    stats_box.append(cap.capture.stats())
    job = bytes(range(256)) * 8 * 1024  # 2 MiB
    with socket.create_connection(("127.0.0.1", cap.port), timeout=10) as pos:
        for i in range(0, len(job), 4096):
            pos.sendall(job[i : i + 4096])
    cap.join()
    printer.close()
    assert printer.wait_for(1) == [job]
    assert recorded[0] == len(job)
    assert 0 < worst[0] <= limit  # room is taken before the bytes go to the printer
    assert cap.stats.record_waits > 0 and cap.stats.dropped == 0


def test_a_full_disk_never_stops_printing_and_the_recording_resumes(tmp_path, monkeypatch):
    from kelaile_cli.core.formats.recording import Header
    from kelaile_cli.services.capture import recorder
    from kelaile_cli.services.capture.recorder import RecordingWriter, read_recording

    printer = FakePrinter()
    problems: list[str] = []
    writer = RecordingWriter(tmp_path / "r.klr", Header("x", time.time(), "t"), on_problem=problems.append)
    full = threading.Event()
    real_write = os.write

    def write(fd: int, data) -> int:  # the disk: full while `full` is set (an injected ENOSPC)
        if fd == writer._fd and full.is_set():
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(recorder.os, "write", write)
    cap = Running("listen://127.0.0.1:0", f"tcp://127.0.0.1:{printer.port}", [], recorders=[writer], max_jobs=9)
    jobs = [b"\x1b@Table %d\nTea  2.00\n\x1dV\x00" % i for i in range(9)]
    for i, job in enumerate(jobs):
        if i == 3:
            full.set()
        if i == 6:
            full.clear()
        pos_print(cap.port, job)
        deadline = time.monotonic() + 5
        while writer.chunks + writer.lost < i + 1 and time.monotonic() < deadline:  # the recorder has seen it
            time.sleep(0.01)
    cap.join()
    writer.close()
    printer.close()
    assert sorted(printer.wait_for(9)) == sorted(jobs)  # printing never noticed
    assert cap.stats.errors == 0, cap.stats.last_error
    assert problems and "No space left" in problems[0] and "writing again" in problems[-1]
    rec = read_recording(tmp_path / "r.klr")
    kept = [c.data for c in rec.chunks if c.direction == TO_PRINTER]
    assert sorted(kept) == sorted(jobs[:3] + jobs[6:])
    assert rec.lost_chunks == writer.lost >= 3
