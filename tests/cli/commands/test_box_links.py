"""Acceptance of the box on every link: ``klx box sim --pos pty --printer <a serial port whose other end is a
printer> --cloud … --store S-1`` against a real sandbox cloud — every byte of a bundled POS's receipts reaches
the serial printer unchanged, with the cloud's coupon QR above each cut (the rendered receipt decoded with
zxing-cpp); the same with a USB printer on the emulated pyusb backend; ``klx box info --json`` shows the
printer's health on each link."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import serial
import zxingcpp
from PIL import Image

from kelaile_cli.core.render.png import render_png
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services import jobs
from kelaile_cli.services.cloud.sandbox import read_stats, running_cloud
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.printer import SerialPrinter
from tests.doubles.usb_emulated import EmulatedPrinterBackend
from tests.helpers import ROOT, TEA_JOB, klx, klx_process, start_sim, stop_sim

SAMPLE = jobs.sample_source().data  # the bundled recording of a known POS (a restaurant's pre-bill and receipt)
CUTS = (b"\x1dV", b"\x1bi", b"\x1bm")


def _inserted(printed: bytes, original: bytes) -> list[bytes]:
    """The blocks ``printed`` has beyond ``original``; fails unless ``printed`` is ``original`` byte for byte
    with blocks inserted only right before cuts."""
    bounds = sorted({m.start() for cut in CUTS for m in re.finditer(re.escape(cut), original)} | {0})
    segments = [original[a:b] for a, b in zip(bounds, [*bounds[1:], len(original)], strict=True)]
    out, j = [], 0
    for n, segment in enumerate(segments):  # every segment but the first begins with a cut
        if not printed.startswith(segment, j):
            k = printed.find(segment, j)
            assert n > 0 and k > j, f"the POS's bytes from offset {bounds[n]} are not on the paper as sent"
            out.append(printed[j:k])
            j = k
        j += len(segment)
    assert j == len(printed), "the printer got bytes after the POS's last"
    return out


def _qr_texts(printed: bytes) -> list[str]:
    """The QR codes on the printed receipts, as a phone would read them off the rendered paper."""
    found = []
    for receipt in read_receipts(printed):
        if not receipt.codes:
            continue
        image = Image.open(io.BytesIO(render_png(receipt)))
        found += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def _wait(cond, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.05)


def _check_paper(printed: bytes, receipts: int, original: bytes = SAMPLE) -> None:
    inserted = _inserted(printed, original)
    assert len(inserted) == receipts and all(b"\x1d(k" in block for block in inserted)  # a QR above each cut
    sent = [m.group(1).decode() for block in inserted for m in re.finditer(rb"\x1d\(k..1P0([^\x1d]+)", block)]
    assert len(sent) == receipts and all(url.startswith("https://sandbox.kelaile.example/") for url in sent)
    codes = _qr_texts(printed)  # read off the rendered paper: the POS's own codes and the cloud's coupons
    assert sorted(codes) == sorted(_qr_texts(original) + sent)


def test_sim_on_a_serial_printer_with_a_cloud_prints_the_coupon_above_the_cut(tmp_path):
    receipts = len(read_receipts(SAMPLE))
    with running_cloud(tmp_path / "cloud.sqlite") as cloud, SerialPrinter() as printer:
        proc, info = start_sim("--state", str(tmp_path / "box"), "--listen", "socket://127.0.0.1:0", "--pos", "pty",
                               "--printer", printer.url, "--cloud", cloud.url, "--store", "S-1")  # fmt: skip
        try:
            assert info["pos"].startswith("/dev/pts/")
            with serial.serial_for_url(info["pos"], timeout=5) as pos:
                pos.write(SAMPLE)
                _wait(lambda: len(printer.jobs()) > len(SAMPLE) and printer.jobs().endswith(SAMPLE[-4:]))
            r = klx_process("box", "config", "set", "printer_watch_s=1", "--port", info["port"])
            assert r.returncode == 0, r.stderr
            time.sleep(1.5)
            r = klx_process("box", "info", "--json", "--port", info["port"])
            assert r.returncode == 0, r.stderr
            health = json.loads(r.stdout)["state"]["printer"]
        finally:
            stop_sim(proc)
        stats = read_stats(tmp_path / "cloud.sqlite")
    assert stats["transactions"] == receipts
    _check_paper(printer.jobs(), receipts)
    assert health["kind"] == "serial" and health["link"] == printer.url
    assert health["online"] is True and health["paper"] == "ok" and health["cover"] == "closed"
    assert health["model"] == "TM-T88V serial (emulated)"


def test_sim_on_a_usb_printer_with_a_cloud_prints_the_coupon_above_the_cut(tmp_path: Path):
    receipts = len(read_receipts(SAMPLE))
    backend = EmulatedPrinterBackend()
    with running_cloud(tmp_path / "cloud.sqlite") as cloud:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="pty", printer="usb://04b8:0202", usb_backend=backend))
        box.state.update_config({"cloud_url": cloud.url, "store": "S-1", "printer_watch_s": 1})
        box.start()
        try:
            with serial.serial_for_url(box.pos_address, timeout=5) as pos:
                pos.write(SAMPLE)
                _wait(lambda: len(backend.received) > len(SAMPLE) and SAMPLE[-4:] in backend.received)
            time.sleep(1.5)
            r = klx("box", "info", "--json", "--port", box.port)
            assert r.returncode == 0, r.stderr
            health = json.loads(r.stdout)["state"]["printer"]
        finally:
            box.stop()
    status = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"  # the box's own health questions, between jobs
    printed = backend.received.replace(status, b"").replace(b"\x1dI\x43", b"")
    _check_paper(printed, receipts)
    assert health["kind"] == "usb" and health["online"] is True and health["detail"] == "answered"


def _sim(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    """``klx box sim --json ARGS`` as systemd would run it (``env``: the service's environment)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", "box", "sim", "--json", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1", **env}, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    return proc, json.loads(line)


def test_sigterm_mid_idle_then_a_restart_on_the_same_state_keeps_the_box(tmp_path):
    """The unattended box: systemd stops it with SIGTERM (exit 0, lines in the journal) and starts it again on
    the same state directory — same identity, config, queued transactions and links."""
    state, paper = tmp_path / "box", tmp_path / "paper.bin"
    journal = {"JOURNAL_STREAM": "8:12345"}  # what systemd sets when stderr is the journal
    proc, info = _sim("--state", str(state), "--listen", "socket://127.0.0.1:0", "--pos", "pty",
                      "--printer", str(paper), env=journal)  # fmt: skip
    try:
        with serial.serial_for_url(info["pos"], timeout=5) as pos:
            pos.write(TEA_JOB)
        _wait(lambda: paper.exists() and paper.read_bytes() == TEA_JOB)
        r = klx_process("box", "config", "set", "store=S-7", "--port", info["port"])
        assert r.returncode == 0, r.stderr
        time.sleep(0.5)  # idle
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    lines = stderr.splitlines()
    assert any(re.fullmatch(rf"<5>box {info['serial']} up: host .*, 0 queued, state .*", x) for x in lines), lines
    assert f"<5>box {info['serial']} stopping (1 queued, kept)" in lines  # no cloud: the receipt waits

    again, info2 = _sim("--state", str(state), "--listen", "socket://127.0.0.1:0", env=journal)  # links: config
    try:
        assert info2["serial"] == info["serial"] and info2["pos"].startswith("/dev/pts/")
        r = klx_process("box", "info", "--json", "--port", info2["port"])
        assert r.returncode == 0, r.stderr
        body = json.loads(r.stdout)["state"]
        assert body["queue"] == 1 and body["links"]["printer"]["endpoint"] == str(paper)
        r = klx_process("box", "config", "get", "store", "--json", "--port", info2["port"])
        assert r.returncode == 0 and json.loads(r.stdout)["store"] == "S-7", r.stdout + r.stderr
        with serial.serial_for_url(info2["pos"], timeout=5) as pos:
            pos.write(TEA_JOB)
        _wait(lambda: paper.read_bytes() == TEA_JOB * 2)
        assert paper.read_bytes() == TEA_JOB * 2
    finally:
        stop_sim(again)
