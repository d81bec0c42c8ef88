"""klx box sim | info | config | tap | reboot as a user runs them: subprocesses over a real pty."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.test_app import ROOT, klx
from tests.services.capture.test_live import JOB, pos_print


def start_sim(*args: str) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", "box", "sim", "--json", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    return proc, json.loads(line)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_sim_info_and_config_over_a_pty(tmp_path):
    proc, info = start_sim("--state", str(tmp_path / "box-state"), "--baud", "921600")
    try:
        assert info["port"].startswith("/dev/pts/")
        r = klx("box", "info", "--port", info["port"], "--json")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["identity"]["serial"] == info["serial"]
        assert report["state"]["links"]["host"]["baud"] == 921600
        r = klx("box", "config", "set", "--port", info["port"], "store=S-7", "pos_baud=19200")
        assert r.returncode == 0, r.stderr
        assert "pos_baud apply after" in r.stdout
        r = klx("box", "info", "--port", info["port"])
        assert r.returncode == 0 and info["serial"] in r.stdout and "slot" in r.stdout
        r = klx("box", "upload-profile", str(ROOT / "profiles" / "meiwei-pos.yaml"), "--activate", "-p", info["port"])
        assert r.returncode == 0 and "profile meiwei-pos stored and active" in r.stdout, r.stderr
    finally:
        stop(proc)


def test_tap_renders_what_the_pos_prints(tmp_path):
    proc, info = start_sim("--state", str(tmp_path / "s"), "--pos", "listen://127.0.0.1:0")
    try:
        env = {**os.environ, "NO_COLOR": "1"}
        tap = subprocess.Popen(
            [sys.executable, "-m", "kelaile_cli", "box", "tap", "--port", info["port"], "--duration", "20",
             "--count", "1", "--json", "--raw", str(tmp_path / "raw.bin")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        assert tap.stderr is not None
        assert "tapping" in tap.stderr.readline()
        pos_print(int(info["pos"].rsplit(":", 1)[1]), JOB)
        stdout, stderr = tap.communicate(timeout=30)
        assert tap.returncode == 0, stderr
        receipts = [json.loads(line) for line in stdout.splitlines()]
        assert len(receipts) == 1 and "Table 7" in receipts[0]["text"] and "Tea" in receipts[0]["text"]
        assert (tmp_path / "raw.bin").read_bytes() == JOB
    finally:
        stop(proc)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["box", "info", "--port", "/dev/does-not-exist"], 1, "no such port"),
        (["box", "info", "--port", "socket://127.0.0.1:1", "--timeout", "0.5"], 1, "nothing is listening"),
        (["box", "config", "set", "--port", "/dev/null", "nokey=1"], 2, "unknown config key"),
        (["box", "sim", "--state", "/proc/nope"], 2, "cannot create the state directory"),
        (["box", "sim", "--state", "x", "--fault", "drop:7"], 2, "drop:RATE"),
        (["box", "info"], 2, "give --port PORT or --box SERIAL"),
        (["box", "info", "--box", "KLB0000000000"], 1, "no box with serial number KLB0000000000"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(args, code, needle):
    r = klx(*args, env={"NO_COLOR": "1"})
    assert r.returncode == code, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3  # one message, wrapped at most


def test_a_silent_port_is_refused_in_time(tmp_path):
    master, slave = os.openpty()
    try:
        t = time.monotonic()
        r = klx("box", "info", "--port", os.ttyname(slave), "--timeout", "0.5", env={"NO_COLOR": "1"})
        assert r.returncode == 1 and "no box answered" in r.stderr
        assert time.monotonic() - t < 10
    finally:
        os.close(master)
        os.close(slave)


def test_power_loss_kills_the_sim_and_a_restart_boots_from_the_same_state(tmp_path):
    state = tmp_path / "st"
    proc, info = start_sim("--state", str(state), "--power-loss-at", "hello:2")
    r = klx("box", "config", "set", "--port", info["port"], "store=S-7", "pos_baud=19200")  # first HELLO: fine
    assert r.returncode == 0, r.stderr
    r = klx("box", "info", "--port", info["port"], "--timeout", "1")  # the second cuts the power
    assert r.returncode == 1
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    proc, again = start_sim("--state", str(state))
    try:
        assert again["serial"] == info["serial"]
        r = klx("box", "config", "get", "--port", again["port"], "store", "pos_baud", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"store": "S-7", "pos_baud": 19200}  # the config survived the cut
        r = klx("box", "reboot", "--port", again["port"], "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["back"] is True, r.stderr
    finally:
        stop(proc)


def test_a_pos_port_in_use_stops_the_sim_with_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        pos = f"listen://127.0.0.1:{port}"
        r = klx("box", "sim", "--state", str(tmp_path / "s"), "--pos", pos, env={"NO_COLOR": "1"})
    assert r.returncode == 2 and "cannot listen" in r.stderr and "Traceback" not in r.stderr
