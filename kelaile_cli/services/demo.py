"""``klx demo``: the whole Kelaile loop on this machine, with no hardware.

A sandbox cloud (real HTTP server, SQLite) and an emulated box (real host protocol over a pty, a
real TCP print server on the POS side, a network printer on 127.0.0.1 that writes to a file) are
started. A POS prints the bundled sample receipts to the box over TCP; the box passes every byte
to the printer, decodes the stream, recognises the POS, extracts each transaction and uploads it,
signed, to the cloud, which answers with the QR the box prints above each receipt's cut. Then the
host side asks the box for its state over its serial protocol, like a technician's laptop would,
and the report checks that the printer got every byte the POS sent, in order, with only the
answers added before the cuts.
"""

from __future__ import annotations

import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.errors import JobError
from kelaile_cli.core.formats.recording import TO_PRINTER
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services.box.client import BoxClient
from kelaile_cli.services.cloud.uploader import CloudUploader
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.jobs import Source, sample_source

__all__ = ["DemoReport", "network_printer", "run_demo", "send_job", "without_answers"]

Step = Callable[[str, str], None]  # (name, detail)


@dataclass(slots=True)
class DemoReport:
    workdir: str
    cloud_url: str = ""
    box_port: str = ""
    pos_address: str = ""
    jobs_sent: int = 0
    bytes_sent: int = 0
    bytes_printed: int = 0
    passthrough_exact: bool = False
    printed: bytes = b""
    injected: list[bytes] = field(default_factory=list)  # the answers printed above the cuts
    injected_found: int = 0
    uploads: list[dict[str, Any]] = field(default_factory=list)  # body + answer per transaction
    box_state: dict[str, Any] = field(default_factory=dict)
    box_identity: dict[str, Any] = field(default_factory=dict)
    cloud_stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "workdir": self.workdir, "cloud": self.cloud_url, "box_port": self.box_port, "pos": self.pos_address,
            "jobs_sent": self.jobs_sent, "bytes_sent": self.bytes_sent, "bytes_printed": self.bytes_printed,
            "passthrough_exact": self.passthrough_exact, "answers_printed": self.injected_found,
            "uploads": self.uploads, "box": {"identity": self.box_identity, "state": self.box_state},
            "cloud_stats": self.cloud_stats,
            "seconds": round(self.seconds, 3),
        }  # fmt: skip


def _jobs(source: Source) -> list[bytes]:
    """The sample's print jobs, one per recorded connection."""
    rec = source.recording
    if rec is None:
        return [source.data]
    return [rec.stream(TO_PRINTER, conn) for conn in rec.connections()]


def send_job(address: str, job: bytes, timeout: float = 5.0) -> None:
    host, port = address.removeprefix("listen://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(job)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        try:
            while sock.recv(4096):  # a printer's status replies, if any, until the box closes
                pass
        except TimeoutError:
            pass


class _Printer(socketserver.ThreadingTCPServer):
    """A network receipt printer on 127.0.0.1: appends every job it receives to a file."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.busy = 0  # jobs being received
        super().__init__(("127.0.0.1", 0), _PrinterJob)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server_address[1]}"


class _PrinterJob(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _Printer)
        with server.lock:
            server.busy += 1
        job = bytearray()
        try:
            while data := self.request.recv(65536):
                job += data
        finally:
            with server.lock, open(server.path, "ab") as fh:
                fh.write(job)
                server.busy -= 1


@contextmanager
def network_printer(path: Path) -> Iterator[_Printer]:
    server = _Printer(path)
    thread = threading.Thread(target=server.serve_forever, name="demo-printer", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        deadline = time.monotonic() + 5
        while server.busy and time.monotonic() < deadline:  # let jobs in flight land on "paper"
            time.sleep(0.01)
        server.shutdown()
        server.server_close()


def without_answers(printed: bytes, payloads: list[bytes]) -> bytes:
    """The printer's bytes with each injected answer taken out again (each must sit right before a cut)."""
    out = printed
    for payload in payloads:
        at = out.find(payload)
        if at < 0 or out[at + len(payload) : at + len(payload) + 2] not in (b"\x1dV", b"\x1bi", b"\x1bm"):
            return out  # not where it belongs: the comparison will fail
        out = out[:at] + out[at + len(payload) :]
    return out


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="klx-demo-") as tmp:
        yield Path(tmp)


def run_demo(keep: Path | None = None, on_step: Step | None = None, timeout: float = 20.0) -> DemoReport:
    """Run the loop once; ``keep`` keeps the box state, cloud database and printer output there."""
    from kelaile_cli.services.cloud.sandbox import read_stats, running_cloud  # FastAPI/uvicorn only when used

    step = on_step or (lambda name, detail: None)
    started = time.monotonic()
    with _workdir(keep) as work:
        report = DemoReport(str(work))
        printer_file = work / "printer.bin"
        printer_file.unlink(missing_ok=True)
        with running_cloud(work / "cloud.sqlite") as cloud, network_printer(printer_file) as printer:
            report.cloud_url = cloud.url
            step("cloud", f"sandbox cloud on {cloud.url} (SQLite {work / 'cloud.sqlite'})")
            box = BoxSim(SimOptions(state=work / "box", pos="listen://127.0.0.1:0", printer=printer.url))
            uploader = CloudUploader(
                cloud.url, work / "box", box.state.serial,
                on_answer=lambda item, answer: report.uploads.append({"body": item["body"], "answer": answer}),
            )  # fmt: skip
            box.options.uploader = uploader
            box.start()
            try:
                deadline = time.monotonic() + timeout
                while not box.pos_address:
                    if time.monotonic() > deadline:
                        raise JobError("the emulated box did not open its POS port in time")
                    time.sleep(0.01)
                report.box_port, report.pos_address = box.port, box.pos_address
                step("box", f"emulated box {box.state.serial}: host link {box.port}, POS side {box.pos_address}, "
                     f"printer {printer.url}")  # fmt: skip
                jobs = _jobs(sample_source())
                receipts = [r for job in jobs for r in read_receipts(job)]
                expected = len(receipts)
                for job in jobs:
                    send_job(box.pos_address, job)
                report.jobs_sent, report.bytes_sent = len(jobs), sum(map(len, jobs))
                step("pos", f"a POS printed {len(jobs)} job{'s' * (len(jobs) != 1)} ({expected} receipts, "
                     f"{report.bytes_sent} bytes) to the box over TCP")  # fmt: skip
                while len(report.uploads) < expected or len(box.state.queue):
                    if time.monotonic() > deadline:
                        raise JobError(
                            f"uploads did not finish in {timeout:.0f} s ({len(report.uploads)} delivered)",
                            remedy=uploader.last_error or "see the box's last errors with klx box info",
                        )
                    time.sleep(0.02)
                step("cloud", f"{len(report.uploads)} transactions uploaded, signed, each answered with a QR")
                with BoxClient.connect(box.port, timeout=5.0) as host:
                    report.box_identity = host.identity().to_body()
                    report.box_state = host.state().to_body()
                step("host", f"box answered over its serial protocol: firmware {report.box_identity.get('fw')}")
            finally:
                box.stop()
                uploader.close()
            report.cloud_stats = read_stats(work / "cloud.sqlite")
        report.printed = printer_file.read_bytes() if printer_file.exists() else b""
        report.bytes_printed = len(report.printed)
        # the box composes each answer for its receipt's paper width: recompose them alike to find them
        report.injected = [
            compose_answer(u["answer"], width=r.width) for u, r in zip(report.uploads, receipts, strict=True)
        ]
        report.injected_found = sum(1 for p in report.injected if p and p in report.printed)
        report.passthrough_exact = without_answers(report.printed, report.injected) == b"".join(jobs)
        report.seconds = time.monotonic() - started
    return report
