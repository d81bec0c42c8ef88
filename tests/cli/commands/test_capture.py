"""klx record / sniff / devices as a user runs them: subprocesses, real sockets, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading

from tests.helpers import JOB, ROOT, FakePrinter, klx, pos_print
from tests.helpers import start_capture as start


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


def test_record_on_a_disk_that_fills_then_frees(tmp_path):
    import resource
    import time

    printer = FakePrinter()
    out = tmp_path / "full.klr"
    limit = 500  # bytes: the header and a few jobs fit, then the "disk" is full

    small_disk = (  # then exec klx: an ignored SIGXFSZ and the limit survive exec
        "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY)); "
        "os.execv(sys.executable, [sys.executable, '-m', 'kelaile_cli', *sys.argv[1:]])"
    )
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-c", small_disk, "record", "listen://127.0.0.1:0", "--forward",
         f"tcp://127.0.0.1:{printer.port}", "-o", str(out), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        port = int(re.search(r"capturing on [\d.]+:(\d+)", proc.stderr.readline()).group(1))  # type: ignore[union-attr]
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
        reader.start()
        jobs = [JOB.replace(b"Table 7", b"Table %d" % i) for i in range(12)]
        for job in jobs[:6]:
            pos_print(port, job)
        deadline = time.monotonic() + 10
        while not any("cannot write" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(f"{out}: cannot write" in line for line in lines), lines  # said at once, while recording
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # freed
        for job in jobs[6:]:
            pos_print(port, job)
        assert len(printer.wait_for(12)) == 12
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout is not None
        stdout = proc.stdout.read()  # stderr is the reader thread's alone: what klx says last is not split off
        proc.wait(30)
        reader.join(10)
        printer.close()
        assert proc.returncode == 0, lines
        summary = json.loads(stdout)
        assert summary["lost_chunks"] > 0 and summary["connections"] == 12
        assert any("writing again" in line for line in lines)
        assert sorted(printer.jobs) == sorted(jobs)  # printing never noticed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        printer.close()
    r = klx("parse", str(out), "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr
    texts = {json.loads(x)["text"].splitlines()[0] for x in r.stdout.splitlines()}
    assert "Table 0" in texts and "Table 11" in texts  # before the disk filled, and after it freed
    assert "could not write" in r.stderr


def test_ctrl_c_ends_record_with_the_file_closed_the_summary_and_exit_130(tmp_path):
    printer = FakePrinter()
    out = tmp_path / "c.klr"
    proc, port = start("record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer.port}", "-o", str(out))
    pos_print(port, JOB, read_status=True)
    assert len(printer.wait_for(1)) == 1
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    printer.close()
    assert proc.returncode == 130, stderr
    assert "1 receipts" in stdout and "Traceback" not in stderr
    r = klx("parse", str(out), "--json")
    assert r.returncode == 0 and "Table 7" in json.loads(r.stdout.splitlines()[0])["text"]


def test_ctrl_c_ends_sniff_with_exit_130_and_sigterm_with_0():
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        proc, port = start("sniff", "listen://127.0.0.1:0", "--json")
        pos_print(port, JOB)
        assert proc.stdout is not None and "Tea" in proc.stdout.readline()  # the receipt, shown live
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == code, stderr
        assert "1 jobs" in stderr and "Traceback" not in stderr
