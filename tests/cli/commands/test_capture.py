"""klx record / sniff / devices as a user runs them: subprocesses, real sockets, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from tests.cli.test_app import ROOT, klx
from tests.services.capture.test_live import JOB, FakePrinter, pos_print


def start(*args: str) -> tuple[subprocess.Popen, int]:
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


def test_record_with_passthrough_then_parse(tmp_path):
    printer = FakePrinter()
    out = tmp_path / "x.klr"
    proc, port = start("record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer.port}", "-o", str(out))
    for i in range(3):
        pos_print(port, JOB.replace(b"Table 7", f"Table {i}".encode()), read_status=True)
    assert len(printer.wait_for(3)) == 3  # all jobs through before klx is stopped
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    printer.close()
    assert proc.returncode == 0, stderr
    assert "3 receipts" in stdout
    r = klx("parse", str(out), "--json")
    texts = sorted(json.loads(x)["text"].splitlines()[0] for x in r.stdout.splitlines())
    assert texts == ["Table 0", "Table 1", "Table 2"]


def test_sniff_json_stops_after_max_jobs():
    proc, port = start("sniff", "listen://127.0.0.1:0", "--json", "--max-jobs", "2")
    pos_print(port, JOB)
    pos_print(port, JOB.replace(b"Tea", b"Cake"))
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    objs = [json.loads(x) for x in stdout.splitlines()]
    assert [o["text"].splitlines()[1].split()[0] for o in objs] == ["Tea", "Cake"]
    assert [o["connection"] for o in objs] == [0, 1]


def test_bad_endpoints_exit_2_and_a_missing_port_exit_1_in_one_line(tmp_path):
    r = klx("record", "ftp://nowhere", "-o", str(tmp_path / "a.klr"))
    assert r.returncode == 2 and "unknown scheme" in r.stderr and "Traceback" not in r.stderr
    r = klx("sniff", "/dev/no-such-port", "--duration", "1")  # the one serial opener: PortError, as in box commands
    assert r.returncode == 1 and "/dev/no-such-port: no such port" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_devices_json():
    r = klx("devices", "--json")
    assert r.returncode == 0
    assert isinstance(json.loads(r.stdout), list)


def test_stopping_klx_never_resets_jobs_already_sent(tmp_path):
    import socket

    printer = FakePrinter()
    out = tmp_path / "burst.klr"
    proc, port = start("record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer.port}", "-o", str(out))
    socks = []
    for i in range(20):  # a burst of jobs, then klx is stopped at once: some still sit in the accept queue
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"\x1b@job %d\n\x1dV\x00" % i)
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert sorted(printer.wait_for(20)) == sorted(b"\x1b@job %d\n\x1dV\x00" % i for i in range(20))
    for s in socks:
        s.close()
    printer.close()
