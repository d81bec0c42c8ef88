"""The shared test helpers: one module that test modules import from (never from each other).

* ``klx(...)`` runs the command line in-process (the lazy group, the one error boundary, exit codes,
  stdout and stderr captured); ``klx_process(...)`` runs it as a user does, in a subprocess.
* ``ROOT``/``SAMPLES``: the repository and its bundled samples.
* ``FakePrinter``, ``pos_print``, ``JOB``: a network printer on 127.0.0.1 and a POS printing to a port.
* ``start_capture``/``start_sim``/``stop_sim``: long-running klx commands as subprocesses.
* pcap/pcapng and usbmon builders (``connection``, ``frame``, ``write_pcap``…) for the import tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dpkt

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "recordings" / "samples"

# -- the command line -------------------------------------------------------------------------------


@dataclass
class Result:
    """What a klx run left: the same fields as ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def klx(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run ``klx ARGS`` in this process, as ``main`` would (minus ``sys.exit``), and capture everything."""
    from kelaile_cli.cli import console
    from kelaile_cli.cli.app import run

    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.update({"COLUMNS": "100", **(env or {})})
    os.environ.pop("FORCE_COLOR", None)
    try:
        os.chdir(cwd or ROOT)
        console.reset()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        console.reset()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Result(int(code), out.getvalue(), err.getvalue())


def klx_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``python -m kelaile_cli ARGS`` as a user would (a real process: signals, start-up, exit code)."""
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "kelaile_cli", *args], check=False, capture_output=True, text=True,
        env=full_env, cwd=cwd or ROOT, timeout=timeout,
    )  # fmt: skip


def start_capture(*args: str) -> tuple[subprocess.Popen, int]:
    """``klx record|sniff ARGS`` in the background; returns the process and the port it listens on."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"capturing on [\d.]+:(\d+)", line)
    assert m, line
    return proc, int(m.group(1))


def start_sim(*args: str) -> tuple[subprocess.Popen, dict]:
    """``klx box sim --json ARGS`` in the background; returns the process and its announcement."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", "box", "sim", "--json", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    return proc, json.loads(line)


def stop_sim(proc: subprocess.Popen) -> None:
    """SIGTERM, the normal way to stop the emulator: it must exit 0."""
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0


# -- a POS and a network printer --------------------------------------------------------------------

JOB = b"\x1b@Table 7\nTea  2.00\n\x10\x04\x01\x1dV\x00"


class FakePrinter:
    """A network printer on 127.0.0.1: records every connection's bytes (``jobs``, and ``spans`` with when each
    connection began and ended) and answers a status request (``trigger``, DLE EOT 1) with ``answer`` (0x16;
    None: a printer that never answers)."""

    def __init__(self, answer: bytes | None = b"\x16", trigger: bytes = b"\x10\x04\x01") -> None:
        self.answer, self.trigger = answer, trigger
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.jobs: list[bytes] = []
        self.spans: list[tuple[float, float, bytes]] = []  # (connected, closed, bytes), monotonic seconds
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        began, got = time.monotonic(), b""
        conn.settimeout(10)
        while data := conn.recv(65536):
            got += data
            if self.answer is not None and self.trigger in data:
                conn.sendall(self.answer)
        with self.lock:  # recorded before the close, so a peer that saw the close sees the job
            self.jobs.append(got)
            self.spans.append((began, time.monotonic(), got))
        conn.close()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.jobs) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.jobs

    def close(self) -> None:
        self.sock.close()


def pos_print(port: int, data: bytes, read_status: bool = False) -> bytes:
    """Print ``data`` to 127.0.0.1:``port`` as a POS does (python-escpos), optionally reading a status reply."""
    from escpos.printer import Network

    p = Network("127.0.0.1", port, timeout=10)
    p.open()
    p._raw(data)
    status = b""
    if read_status:
        p.device.settimeout(5)
        status = p.device.recv(16)
    p.close()
    return status


# -- packet captures (built with dpkt; addresses inside the files only, no traffic is sent) ------------

POS, PRINTER = ("10.0.0.5", 51000), ("10.0.0.9", 9100)  # addresses inside the file only: no traffic is sent


def ip(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def frame(
    src: tuple[str, int], dst: tuple[str, int], seq: int, data: bytes = b"", flags: int = dpkt.tcp.TH_ACK
) -> bytes:
    tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq % (1 << 32), flags=flags, data=data)
    pkt = dpkt.ip.IP(src=ip(src[0]), dst=ip(dst[0]), p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=pkt))


def connection(job: bytes, reply: bytes, *, pos=POS, isn: int = 1000, isn_srv: int = 5000, seg: int = 100,
               t0: float = 1795609800.0) -> list[tuple[float, bytes]]:  # fmt: skip
    """Handshake, the job in ``seg``-byte segments, the printer's reply, FINs — in order."""
    pk = [(t0, frame(pos, PRINTER, isn, flags=dpkt.tcp.TH_SYN)),
          (t0 + 0.001, frame(PRINTER, pos, isn_srv, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK))]  # fmt: skip
    t = t0 + 0.002
    for off in range(0, len(job), seg):
        pk.append((t, frame(pos, PRINTER, isn + 1 + off, job[off : off + seg])))
        t += 0.001
    pk.append((t, frame(PRINTER, pos, isn_srv + 1, reply)))
    pk.append((t + 0.001, frame(pos, PRINTER, isn + 1 + len(job), flags=dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)))
    pk.append((t + 0.002, frame(PRINTER, pos, isn_srv + 1 + len(reply), flags=dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)))
    return pk


def write_pcap(path: Path, packets: list[tuple[float, bytes]], linktype: int = dpkt.pcap.DLT_EN10MB) -> None:
    with path.open("wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=linktype)
        for t, data in packets:
            w.writepkt(data, ts=t)


def write_pcapng(path: Path, packets: list[tuple[float, bytes]]) -> None:
    with path.open("wb") as fh:
        w = dpkt.pcapng.Writer(fh)
        for t, data in packets:
            w.writepkt(data, ts=t)


def usbmon(kind: bytes, epnum: int, data: bytes, dev: int = 3, bus: int = 1) -> bytes:
    """A 64-byte-header (link type 220) usbmon record carrying ``data``."""
    head = struct.pack("<QcBBBHccqiiII8s", 0xFFFF0001, kind, 3, epnum, dev, bus, b"-", b"=" if not data else b"\0",
                       0, 0, 0, len(data), len(data), b"\0" * 8)  # fmt: skip
    return head + struct.pack("<iiII", 0, 0, 0, 0) + data


# -- print jobs -------------------------------------------------------------------------------------

#: a receipt a café POS prints (bold header, one item, total, partial cut): the box answers above its cut
TEA_JOB = b"\x1b@\x1b!\x08TEA HOUSE\n\x1b!\x00Green tea 1   3.00\nTOTAL   3.00\n\x1dVA\x00"

#: personal data the redactor must mask (phone, card, member id, phone) and a line it must keep
PII = ["手机 13812345678", "卡号 4111 1111 1111 1111", "会员号: 8800 1234 5678", "Tel +86 21 6123 4567", "合计 152.90"]


def pii_job(lines: list[str], enc: str = "gb18030") -> bytes:
    """A python-escpos job printing ``lines`` (GB18030 with FS &) plus a QR and an EAN-13, then a cut."""
    from escpos.printer import Dummy

    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p._raw(b"\x1c&")
    p.set(bold=True)
    for line in lines:
        p._raw(line.encode(enc) + b"\n")
    p.qr("https://kelaile.example/m/13812345678", native=True)
    p.barcode("4006381333931", "EAN13")
    p.cut()
    return p.output
