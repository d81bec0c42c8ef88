"""klx firmware … and klx flash as a user runs them: the issue's acceptance session, SIGKILL included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import klx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sim(cwd: Path, url: str, *extra: str) -> subprocess.Popen:
    args = ["box", "sim", "--listen", url, "--state", "box-state/", "--trust", "keys/", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the port, once it listens
    assert line.strip() == url, proc.stderr.read() if proc.stderr else ""
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_acceptance_session_with_a_power_loss(tmp_path):
    (tmp_path / "payload.bin").write_bytes(os.urandom(24 * 1024))
    r = klx("firmware", "keygen", "--out", "keys/", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "keys" / "firmware.pub").exists(), r.stderr
    assert (tmp_path / "keys" / "firmware.key").stat().st_mode & 0o077 == 0  # the secret is private
    r = klx(
        "firmware", "build", "payload.bin", "--version", "1.4.0", "--key", "keys/", "-o", "fw-1.4.0.kfw", cwd=tmp_path
    )
    assert r.returncode == 0 and "version 1.4.0" in r.stdout, r.stderr
    url = f"socket://127.0.0.1:{_free_port()}"
    # first run: the power goes while the 5th chunk arrives (the emulator SIGKILLs itself)
    sim = _sim(tmp_path, url, "--power-loss-at", "flash-data:5")
    try:
        r = klx("flash", "fw-1.4.0.kfw", "--port", url, "--json", cwd=tmp_path)
        assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert sim.wait(5) == -signal.SIGKILL
    finally:
        _stop(sim)
    sim = _sim(tmp_path, url)  # power back on the same --state
    try:
        r = klx("flash", "fw-1.4.0.kfw", "--port", url, "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["outcome"] == "installed" and report["confirmed"] is True and report["version"] == "1.4.0"
        assert report["resumed_from"] == 16384  # the last durable block before the cut
        assert report["bytes_sent"] == 24 * 1024 - 16384  # random data: nothing compresses, nothing resent
        r = klx("box", "info", "--port", url, "--json", cwd=tmp_path)
        ident = json.loads(r.stdout)["identity"]
        running = next(s for s in ident["slots"] if s["name"] == ident["active"])
        assert (ident["fw"], ident["trial"], running["confirmed"]) == ("1.4.0", False, True)
        r = klx("flash", "fw-1.4.0.kfw", "--port", url, cwd=tmp_path)
        assert r.returncode == 0 and "already installed" in r.stdout
    finally:
        _stop(sim)


def test_verify_info_sign_and_bad_input(tmp_path):
    assert klx("firmware", "keygen", "--out", "k", cwd=tmp_path).returncode == 0
    r = klx("firmware", "keygen", "--out", "k", cwd=tmp_path)
    assert r.returncode == 2 and "a key is already there" in r.stderr
    assert klx("firmware", "keygen", "--out", "release", cwd=tmp_path).returncode == 0
    (tmp_path / "p.bin").write_bytes(b"\x55" * 3000)
    r = klx(
        "firmware", "build", "p.bin", "--version", "2.1.0", "--key", "k", "-o", "fw.kfw", "--built", "0", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    r = klx("firmware", "info", "fw.kfw", "--json", cwd=tmp_path)
    info = json.loads(r.stdout)
    assert (info["version"], info["length"], info["target"], info["built_utc"]) == (
        "2.1.0",
        3000,
        "K1",
        "1970-01-01T00:00:00Z",
    )
    assert klx("firmware", "verify", "fw.kfw", "--trust", "k", cwd=tmp_path).returncode == 0
    r = klx("firmware", "verify", "fw.kfw", "--trust", "release", cwd=tmp_path)
    assert r.returncode == 2 and "not trusted" in r.stderr
    r = klx("firmware", "sign", "fw.kfw", "--key", "release", "-o", "rel.kfw", "--json", cwd=tmp_path)
    assert json.loads(r.stdout)["key_id"] != info["key_id"]
    assert klx("firmware", "verify", "rel.kfw", "--trust", "release/firmware.pub", cwd=tmp_path).returncode == 0
    r = klx("firmware", "verify", "fw.kfw", "--trust", "k", "--current", "3.0.0", cwd=tmp_path)
    assert r.returncode == 2 and "--allow-downgrade" in r.stderr
    data = bytearray((tmp_path / "fw.kfw").read_bytes())
    data[1000] ^= 4
    (tmp_path / "bad.kfw").write_bytes(bytes(data))
    for args in (("verify", "bad.kfw", "--trust", "k"), ("info", "bad.kfw"), ("info", "missing.kfw")):
        r = klx("firmware", *args, cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = klx("flash", "fw.kfw", cwd=tmp_path, env={"KLX_PORT": ""})
    assert r.returncode == 2 and "--port" in r.stderr
    started = time.monotonic()
    r = klx("flash", "bad.kfw", "--port", "socket://127.0.0.1:9", cwd=tmp_path)
    assert r.returncode == 2 and "SHA-256" in r.stderr and time.monotonic() - started < 10  # refused before the port
    r = klx("flash", "--help")
    assert r.returncode == 0 and "--allow-downgrade" in r.stdout and "--no-compress" in r.stdout
