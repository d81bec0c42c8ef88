"""klx cloud serve|stats|pay|devices|transactions as a user runs them: a real server process."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kelaile_cli.core.cloud.protocol import idempotency_key, receipt_digest
from kelaile_cli.services.cloud.client import CloudClient, CloudError, RetryPolicy
from tests.helpers import ROOT, klx
from tests.services.cloud.sandbox.conftest import body


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    proc, url, _ = _start_noting(*args)
    return proc, url


def _start_noting(*args: str) -> tuple[subprocess.Popen, str, str]:
    """The server process, its URL and what it said before its ready line (warnings)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--port", "0", *args],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.stderr is not None
    said = ""
    for _ in range(5):
        line = proc.stderr.readline()
        if match := re.search(r"http://127\.0\.0\.1:\d+", line):
            return proc, match.group(), said
        said += line
    proc.kill()
    pytest.fail(f"no ready line: {said!r}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    db = tmp_path / "s.sqlite"
    proc, url = _start("--db", str(db))
    try:
        yield proc, url, db
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_serve_stats_pay_and_a_clean_stop(served) -> None:
    proc, url, db = served
    with CloudClient(url) as client:
        creds = client.claim("SN-CLI", "klx-test", store="s1")
        for n in range(3):
            client.upload(body(n), idempotency_key(creds.device_id, receipt_digest(f"receipt {n}".encode())))
        bill = client.upload(body(9, kind="pre_bill"), idempotency_key(creds.device_id, "ab" * 32))
    r = klx("cloud", "stats", "--db", str(db), "--json")  # while the server runs
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert (stats["devices"], stats["transactions"], stats["orders"]) == (1, 4, 1)
    order = bill.answer["order_no"]
    r = klx("cloud", "pay", order, "--cloud", url, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "paid"
    r = klx("cloud", "transactions", "--cloud", url, "--json", "--limit", "2")
    assert [t["seq"] for t in json.loads(r.stdout)["transactions"]] == [1, 2]
    r = klx("cloud", "devices", "--cloud", url, "--json")
    assert json.loads(r.stdout)[0]["transactions"] == 4
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0  # stopping is the normal end of serving


def test_ctrl_c_stops_the_server_with_exit_130_like_every_command(tmp_path: Path) -> None:
    for workers in ("1", "2"):
        proc, url = _start("--db", str(tmp_path / "s.sqlite"), "--workers", workers)
        _serving(url)  # workers start after the ready line
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 130, stderr
        assert "sandbox cloud stopped" in stderr and "Traceback" not in stderr


def test_a_port_in_use_is_one_line_and_exit_1(served, tmp_path: Path) -> None:
    _, url, _ = served
    port = url.rsplit(":", 1)[1]
    r = klx("cloud", "serve", "--db", str(tmp_path / "other.sqlite"), "--port", port)
    assert r.returncode == 1
    assert f"127.0.0.1:{port}: cannot listen" in r.stderr and "--port" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "other.sqlite").exists()


def test_bad_db_bad_options_and_unreachable_cloud_are_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = klx("cloud", "serve", "--db", str(blocker / "s.sqlite"), "--port", "0")
    assert r.returncode == 2 and "cannot open the database" in r.stderr and "Traceback" not in r.stderr
    r = klx("cloud", "serve", "--drop-rate", "1.5")
    assert r.returncode == 2 and "--drop-rate" in r.stderr
    r = klx("cloud", "stats", "--db", str(tmp_path / "none.sqlite"), "--json")
    assert r.returncode == 2 and "no such database" in r.stderr
    r = klx("cloud", "pay", "PO1", "--cloud", "http://127.0.0.1:9")
    assert r.returncode == 1 and "unreachable" in r.stderr and "klx cloud serve" in r.stderr


def test_two_workers_share_the_database_and_the_faults(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    proc, url = _start("--db", str(db), "--workers", "2", "--error-rate", "0.3", "--drop-rate", "0.3", "--seed", "1")
    try:
        retries: list = []
        with CloudClient(url, retry=RetryPolicy(40, 0.005, 0.05), on_retry=retries.append) as client:
            for _ in range(100):  # the workers come up after the socket is bound
                try:
                    creds = client.claim("SN-W", "klx-test")
                    break
                except CloudError:
                    time.sleep(0.1)
            keys = [idempotency_key(creds.device_id, receipt_digest(f"receipt {n}".encode())) for n in range(20)]
            for n, key in enumerate(keys):
                client.upload(body(n), key)
        assert {r.reason for r in retries} >= {"http 503", "dropped"}  # the workers got the fault settings
        r = klx("cloud", "stats", "--db", str(db), "--json")
        assert json.loads(r.stdout)["transactions"] == 20
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


# -- hardening settings on the command line --------------------------------------------------------
def _serving(url: str) -> None:
    """Wait (bounded) until the server answers: a signal before uvicorn took over the handlers is not a stop."""
    for _ in range(100):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/v1/stats", timeout=2).status_code == 200:
                return
        time.sleep(0.1)


def _stop(proc: subprocess.Popen, url: str) -> str:
    _serving(url)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    return stderr


def _raw(url: str, data: bytes, wait_s: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection, read until the server closes it; (what came back, seconds)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(data)
        got = b""
        while chunk := sock.recv(4096):
            got += chunk
    return got, time.monotonic() - started


def test_max_body_answers_413_above_the_limit_only(tmp_path: Path) -> None:
    proc, url = _start("--db", str(tmp_path / "s.sqlite"), "--max-body", "1K")
    try:
        big = httpx.post(f"{url}/v1/devices/claim", content=b"x" * 1025, timeout=10)
        small = httpx.post(f"{url}/v1/devices/claim", content=b'{"serial": "S", "model": "m"}' + b" " * 900, timeout=10)
    finally:
        _stop(proc, url)
    assert big.status_code == 413
    assert small.status_code == 201, small.text  # 929 bytes: under the limit, claimed


def test_body_timeout_answers_408_when_the_body_does_not_come(tmp_path: Path) -> None:
    proc, url = _start("--db", str(tmp_path / "s.sqlite"), "--body-timeout", "0.5")
    try:
        head = b"POST /v1/devices/claim HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
        got, seconds = _raw(url, head)
    finally:
        _stop(proc, url)
    assert got.startswith(b"HTTP/1.1 408"), got[:80]
    assert 0.4 < seconds < 5  # the default is 10 s


def test_header_timeout_closes_a_slow_connection(tmp_path: Path) -> None:
    proc, url = _start("--db", str(tmp_path / "s.sqlite"), "--header-timeout", "0.5")
    try:
        got, seconds = _raw(url, b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    finally:
        _stop(proc, url)
    assert got == b""
    assert 0.4 < seconds < 5  # the default is 10 s


def test_key_file_a_lost_key_and_a_wrong_key(tmp_path: Path) -> None:
    db, key = tmp_path / "s.sqlite", tmp_path / "keys" / "server.key"
    key.parent.mkdir()
    proc, url, said = _start_noting("--db", str(db), "--key-file", str(key))
    with CloudClient(url) as client:
        creds = client.claim("SN-K", "klx-test")
    assert "must claim again" not in said + _stop(proc, url)  # a new database: nothing lost
    assert key.stat().st_mode & 0o777 == 0o600 and not Path(f"{db}.key").exists()
    assert creds.secret not in db.read_bytes().decode("latin-1")

    # another database's key does not open these secrets: refused, nothing served
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    r = klx("cloud", "serve", "--db", str(db), "--key-file", str(other), "--port", "0")
    assert r.returncode == 2 and "does not open the device secrets" in r.stderr and "--key-file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr

    # the key lost: a new one is made, the server says once that the device must claim again, and it can
    key.unlink()
    for start in range(2):
        proc, url, said = _start_noting("--db", str(db), "--key-file", str(key))
        with CloudClient(url, creds, retry=RetryPolicy(attempts=1)) as client:
            if start == 0:
                with pytest.raises(CloudError) as lost:
                    client.upload(body(1), idempotency_key(creds.device_id, "cd" * 32))
                assert lost.value.status == 404
                again = client.claim("SN-K", "klx-test")  # the client signs with the new secret from here
                assert client.upload(body(1), idempotency_key(again.device_id, "cd" * 32)).duplicate is False
        said += _stop(proc, url)
        assert ("1 claimed device(s)" in said and "must claim again" in said) == (start == 0), said
    assert again.device_id == creds.device_id


def test_hardening_options_are_validated_in_one_line_and_shown_in_help(tmp_path: Path) -> None:
    bad = [("--max-body", "0"), ("--max-body", "lots"), ("--max-body", "5Q"), ("--body-timeout", "-1"),
           ("--body-timeout", "nan"), ("--header-timeout", "0"), ("--header-timeout", "soon")]  # fmt: skip
    for option, value in bad:
        r = klx("cloud", "serve", "--db", str(tmp_path / "s.sqlite"), "--port", "0", option, value)
        assert r.returncode == 2, (option, value, r.stderr)
        assert f"{option} {value}" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything was opened
    r = klx("cloud", "serve", "--help", env={"COLUMNS": "200"})
    for option in ("--key-file", "--max-body", "--body-timeout", "--header-timeout"):
        assert option in r.stdout
