"""klx cloud serve|stats|pay|devices|transactions as a user runs them: a real server process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kelaile_cli.core.cloud.protocol import idempotency_key, receipt_digest
from kelaile_cli.services.cloud.client import CloudClient, CloudError, RetryPolicy
from tests.helpers import ROOT, klx
from tests.services.cloud.sandbox.conftest import body


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--port", "0", *args],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        proc.kill()
        pytest.fail(f"no ready line: {line!r}")
    return proc, match.group()


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


def test_ctrl_c_stops_the_server_with_exit_0(tmp_path: Path) -> None:
    proc, _ = _start("--db", str(tmp_path / "s.sqlite"))
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0


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
