"""The box on every link: a serial printer (a pty whose other end is a printer), a USB printer (the emulated
pyusb backend), ``/dev/usb/lp`` and the USB printer gadget (a pty standing in for the character device),
behind a POS on a pty, a gadget or ``listen://`` — passthrough byte-exact, the answer above the cut, status
relayed, the box's own jobs between POS jobs, flow control honoured, health reported per link."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import serial

from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.escpos.status import PORT_NOT_ERROR, PORT_PAPER_EMPTY, PORT_SELECTED
from kelaile_cli.services.demo import without_answers
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.printer import SerialPrinter
from kelaile_cli.services.emulator.printer_health import PrinterHealth
from kelaile_cli.transports.chardev import CharDeviceLink
from kelaile_cli.transports.pty import PtyLink
from tests.doubles.usb_emulated import EmulatedPrinterBackend
from tests.helpers import TEA_JOB

ANSWER = {"kind": "loyalty", "qr": "https://k.example/c/LINK1", "text": ["Thank you!", "Coupon LINK1"]}
PAYLOAD = compose_answer(ANSWER, width=48)


class _Answers:
    """The cloud as an uploader: answers every receipt with ``answer``."""

    def __init__(self, answer: dict[str, Any] | None = ANSWER) -> None:
        self.answer = answer
        self.items: list[dict[str, Any]] = []

    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
        self.items.append(item)
        return self.answer


def _box(tmp_path: Path, boxes: list[BoxSim], answers: _Answers | None = None, **kw: Any) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "state", listen="socket://127.0.0.1:0", **kw))
    box.options.uploader = answers or _Answers()
    box.start()
    boxes.append(box)
    return box


def _until(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(cond())


def _pos(box: BoxSim) -> serial.Serial:
    assert _until(lambda: bool(box.pos_address))
    return serial.serial_for_url(box.pos_address, timeout=5)


def test_serial_printer_gets_every_byte_with_the_answer_above_the_cut_and_relays_status(tmp_path, boxes):
    with SerialPrinter() as printer:
        answers = _Answers()
        box = _box(tmp_path, boxes, answers, pos="pty", printer=printer.url)
        pos = _pos(box)
        try:
            pos.write(TEA_JOB + TEA_JOB.replace(b"Green", b"Black"))
            expected = len(TEA_JOB) * 2 + len(PAYLOAD) * 2
            got = printer.wait_for(expected)
            assert got.count(PAYLOAD + b"\x1dVA\x00") == 2  # each answer right above its cut
            assert without_answers(got, [PAYLOAD, PAYLOAD]) == TEA_JOB + TEA_JOB.replace(b"Green", b"Black")
            pos.write(b"\x10\x04\x01")  # the POS asks the printer's status: the printer's own answer comes back
            assert pos.read(1) == b"\x12"
            printer.offline = True
            pos.write(b"\x10\x04\x01")
            assert pos.read(1) == b"\x1a"  # relayed, not made up: now with the offline bit
        finally:
            pos.close()
        assert len(answers.items) == 2 and box.answers.stats.printed == 2


def test_usb_printer_gets_the_answer_above_the_cut_and_its_health_is_reported(tmp_path, boxes):
    backend = EmulatedPrinterBackend()
    box = _box(tmp_path, boxes, pos="pty", printer="usb://04b8:0202", usb_backend=backend)
    pos = _pos(box)
    try:
        pos.write(TEA_JOB)
        assert _until(lambda: len(backend.received) >= len(TEA_JOB) + len(PAYLOAD))
        assert backend.received == TEA_JOB.replace(b"\x1dVA\x00", PAYLOAD + b"\x1dVA\x00")
        pos.write(b"\x10\x04\x01")
        assert pos.read(1) == b"\x16"
        assert _until(lambda: not box.pipeline.turns.pos_busy)  # a quiet gap ended the POS's job
        health = box.provisioning.printer.check()  # now the box may ask the printer itself
        assert health is not None and health.online and health.paper == "ok"
        report = box.provisioning.printer.report()
        assert report["kind"] == "usb" and report["detail"] == "answered" and report["link"] == "usb://04b8:0202"
        asked = backend.received[len(TEA_JOB) + len(PAYLOAD) + 3 :]
        assert asked.startswith(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")  # on the printer's own link
    finally:
        pos.close()


def test_printer_health_on_a_serial_link_follows_the_printer(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, pos="pty", printer=printer.url)
        watch = box.provisioning.printer
        health = watch.check()
        assert health is not None and health.online and health.model == "TM-T88V serial (emulated)"
        printer.paper, printer.cover_open = "end", True
        health = watch.check()
        assert health is not None and (health.paper, health.cover) == ("end", "open")
        assert watch.report()["kind"] == "serial"
        printer.offline = True
        health = watch.check()
        assert health is not None and not health.online
        # the box's questions never reached the POS
        pos = _pos(box)
        try:
            assert not _readable(pos, 0.3)
        finally:
            pos.close()


def _readable(port: serial.Serial, timeout: float) -> bool:
    return bool(select.select([port.fileno()], [], [], timeout)[0])


def test_xoff_holds_the_box_back_and_nothing_is_lost_or_reordered(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url, printer_flow="xonxoff")
        pos = _pos(box)
        job = b"".join(b"\x1b@line %05d ......................\n" % i for i in range(1500)) + b"\x1dVA\x00"
        try:
            printer.busy(True)
            writer = threading.Thread(target=pos.write, args=(job,), daemon=True)
            writer.start()
            time.sleep(0.5)
            assert len(printer.received) == 0  # busy: the box sent nothing
            printer.busy(False)
            assert printer.wait_for(len(job)) == job  # every byte, in order
        finally:
            writer.join(5)
            pos.close()


def test_a_paced_printer_with_a_small_buffer_gets_everything_in_order(tmp_path, boxes):
    with SerialPrinter(baud=115200, buffer=2048) as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url, printer_flow="xonxoff")
        pos = _pos(box)
        job = bytes(range(32, 127)) * 400 + b"\x1dVA\x00"  # 38 kB: far more than the printer's buffer
        try:
            pos.write(job)
            assert printer.wait_for(len(job), timeout=20) == job
        finally:
            pos.close()
        assert printer.xoffs > 0  # it did assert busy (and the box resumed after each XON)


def test_gadget_pos_side_and_lp_printer_are_character_devices(tmp_path, boxes):
    """A pty stands in for /dev/g_printer0 (the POS PC writes to its master) and for /dev/usb/lp0."""
    gadget = PtyLink()
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, pos=f"chardev://{gadget.name}", printer=f"chardev://{printer.url}")
        assert box.pos_address == f"chardev://{gadget.name}"
        gadget.write(TEA_JOB)
        got = printer.wait_for(len(TEA_JOB) + len(PAYLOAD))
        assert got == TEA_JOB.replace(b"\x1dVA\x00", PAYLOAD + b"\x1dVA\x00")
        gadget.write(b"\x10\x04\x04")  # the POS PC asks (the gadget's bulk OUT) ...
        answer = b""
        deadline = time.monotonic() + 5
        while not answer and time.monotonic() < deadline:
            answer = gadget.read(0.1) or b""
        assert answer == b"\x12"  # ... and the printer's answer goes back (bulk IN)
        assert box.provisioning.printer.report()["kind"] == "lp"
    gadget.close()


def test_tcp_pos_on_a_serial_printer_gets_the_answer_and_status(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, pos="listen://127.0.0.1:0", printer=printer.url)
        assert _until(lambda: bool(box.pos_address))
        host, port = box.pos_address.removeprefix("listen://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(TEA_JOB + b"\x10\x04\x01")
            assert s.recv(1) == b"\x12"
        got = printer.wait_for(len(TEA_JOB) + len(PAYLOAD) + 3)
        assert got == TEA_JOB.replace(b"\x1dVA\x00", PAYLOAD + b"\x1dVA\x00") + b"\x10\x04\x01"


def test_the_box_prints_its_own_job_only_between_pos_jobs_on_a_serial_printer(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url)
        box.state.update_config({"cut_wait_ms": 0})
        pos = _pos(box)
        own = b"\x1b@ONLINE ORDER 42\n\x1dVA\x00"
        try:
            pos.write(b"\x1b@part one\n")
            time.sleep(0.1)  # the POS's job is in progress ...
            done = threading.Event()

            def order() -> None:
                with box.pipeline.turns.box_turn(5):
                    box.pipeline.print_job(own)
                done.set()

            threading.Thread(target=order, daemon=True).start()
            time.sleep(0.2)
            pos.write(b"part two\n\x1dVA\x00")  # ... and goes on: the order waits for its end
            assert done.wait(5)
            got = printer.wait_for(len(own) + 30)
            assert got == b"\x1b@part one\npart two\n\x1dVA\x00" + own
        finally:
            pos.close()


def test_a_printer_port_that_is_missing_stops_the_sim_with_one_line(tmp_path):
    box = BoxSim(SimOptions(state=tmp_path / "state", listen="socket://127.0.0.1:0", pos="pty",
                            printer="/dev/ttyKLX-missing"))  # fmt: skip
    with pytest.raises(InputError, match="/dev/ttyKLX-missing: no such port"):
        box.start()


def test_bad_printer_urls_are_refused_before_the_box_starts(tmp_path):
    for bad, needle in (("usb://zz:1", "expected usb://VID:PID"), ("tcp://:9100", "needs a host")):
        with pytest.raises(InputError, match=needle):
            BoxSim(SimOptions(state=tmp_path / bad.replace("/", "_"), printer=bad))
    assert not os.path.exists(tmp_path / "never")


def test_a_serial_pos_stream_that_never_ends_keeps_only_the_receipt_in_progress():
    from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
    from kelaile_cli.services.emulator.pipeline import ReceiptPipeline

    raws: list[bytes] = []
    pipeline = ReceiptPipeline(lambda receipt, raw: raws.append(raw))
    for i in range(300):  # one stream (a serial POS), in uneven chunks
        job = TEA_JOB.replace(b"Green", b"Gr%03d" % i)
        pipeline(Chunk(float(i), TO_PRINTER, 0, job[:7]))
        pipeline(Chunk(float(i), TO_PRINTER, 0, job[7:]))
        assert pipeline.kept(0) < len(job)  # what a finished receipt used is let go
    assert raws == [TEA_JOB.replace(b"Green", b"Gr%03d" % i) for i in range(300)]


def test_gs_r_and_asb_from_a_serial_printer_reach_the_pos_between_jobs(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url)
        pos = _pos(box)
        try:
            pos.write(b"\x1da\x04")  # GS a: the POS turns ASB on (passed through)
            assert printer.wait_for(3) == b"\x1da\x04"
            time.sleep(0.6)  # no POS job in progress
            asb = b"\x10\x00\x00\x00"  # the printer's automatic status back, unasked
            printer.send(asb)
            assert pos.read(4) == asb
        finally:
            pos.close()


def test_a_test_print_on_a_serial_printer_without_a_pos_side_is_refused_not_written_as_a_file(tmp_path):
    from kelaile_cli.core.box.errors import Refused

    with SerialPrinter() as printer:
        box = BoxSim(SimOptions(state=tmp_path / "state", listen="socket://127.0.0.1:0", printer=printer.url))
        box.start()
        try:
            with pytest.raises(Refused, match="open only while the POS side runs"):
                box.pipeline.print_job(b"\x1b@test\n")
        finally:
            box.stop()
        assert printer.received == b""


def test_a_test_print_during_a_serial_pos_job_waits_for_its_end(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url)
        pos = _pos(box)
        own = b"\x1b@TEST PRINT\n\x1dVA\x00"
        try:
            pos.write(b"\x1b@part one\n")
            time.sleep(0.1)
            printing = threading.Thread(target=box.pipeline.print_job, args=(own,), daemon=True)  # no turn held
            printing.start()
            time.sleep(0.2)
            pos.write(b"part two\n\x1dVA\x00")
            printing.join(5)
            assert printer.wait_for(len(own) + 30) == b"\x1b@part one\npart two\n\x1dVA\x00" + own
        finally:
            pos.close()


def test_the_printer_is_not_asked_inside_a_pos_job_and_what_was_known_stands(tmp_path, boxes):
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=printer.url)
        watch = box.provisioning.printer
        known = watch.check()
        assert known is not None and known.online
        before = len(printer.received)
        pos = _pos(box)
        try:
            pos.write(b"\x1b@a long job\n")  # in progress: no quiet gap for ANSWER_TIMEOUT_S
            stop = threading.Event()

            def keep_printing() -> None:
                while not stop.wait(0.1):
                    pos.write(b"more\n")

            feeder = threading.Thread(target=keep_printing, daemon=True)
            feeder.start()
            assert _until(lambda: box.pipeline.turns.pos_busy)  # the box has begun passing the job on
            printer.offline = True  # it would say so if asked
            assert watch.check() == known  # not asked: the job is not interrupted
            stop.set()
            feeder.join(2)
            assert b"\x10\x04" not in printer.received[before:]
        finally:
            pos.close()


def test_a_serial_printer_unplugged_and_plugged_back_gets_what_the_pos_printed_meanwhile(tmp_path, boxes):
    """A USB-serial adapter pulled out and put back: the device node goes and comes back at the same path
    (a symlink to a pty stands for it). The box keeps the POS's bytes (it stops reading the POS, whose flow
    control holds it), reopens the port and sends them once the printer is back: none lost, none twice."""
    device = tmp_path / "ttyUSB0"
    later = TEA_JOB.replace(b"Green", b"Black")
    with SerialPrinter() as first:
        device.symlink_to(first.url)
        box = _box(tmp_path, boxes, _Answers(None), pos="pty", printer=str(device))
        pos = _pos(box)
        pos.write(TEA_JOB)
        assert first.wait_for(len(TEA_JOB)) == TEA_JOB
    device.unlink()  # unplugged: the port is gone
    try:
        pos.write(later)  # the cashier prints again meanwhile
        side = box.pipeline.printer_side
        assert side is not None and _until(lambda: "ttyUSB0" in side.down)  # reopening the link
        away = box.provisioning.printer.check()  # the health the box reports meanwhile
        assert away is not None and not away.online
        with SerialPrinter() as second:
            device.symlink_to(second.url)  # plugged back in
            got = second.wait_for(len(later))
            assert _until(lambda: side.error == "")
            watch = box.provisioning.printer  # asked again once the POS's job is over: online
            assert _until(lambda: (watch.check() or PrinterHealth(online=False)).online)
        assert got == later
        assert side.reopened == 1
    finally:
        pos.close()


def test_a_gadget_pos_side_shows_the_printer_s_health_as_the_usb_port_status(tmp_path, boxes, monkeypatch):
    """The PC's USB printer driver reads paper-empty/selected/error from the gadget (GET_PORT_STATUS); the box
    sets it from the printer's health. No gadget exists here: the ioctl's value is recorded instead."""
    shown: list[int] = []
    monkeypatch.setattr(CharDeviceLink, "set_port_status", lambda self, status: shown.append(status) or True)
    gadget = PtyLink()
    with SerialPrinter() as printer:
        box = _box(tmp_path, boxes, pos=f"chardev://{gadget.name}", printer=printer.url)
        box.state.update_config({"printer_watch_s": 0.2})  # as `klx provision` sets a watch
        box.provisioning.printer.wake()
        assert _until(lambda: bool(shown) and shown[-1] == PORT_SELECTED | PORT_NOT_ERROR)  # online, no error
        printer.paper = "end"
        assert _until(lambda: shown[-1] == PORT_SELECTED | PORT_PAPER_EMPTY)  # the PC's driver: out of paper
        printer.paper = "ok"
        assert _until(lambda: shown[-1] == PORT_SELECTED | PORT_NOT_ERROR)
        assert box.provisioning.printer.report()["paper"] == "ok"
    gadget.close()


def test_a_device_that_is_no_printer_gadget_has_no_port_status_and_says_so():
    stand_in = PtyLink()
    link = CharDeviceLink(stand_in.name)
    try:
        assert link.set_port_status(PORT_SELECTED | PORT_NOT_ERROR) is False  # ENOTTY: not refused loudly
    finally:
        link.close()
        stand_in.close()
    assert link.set_port_status(0) is False
