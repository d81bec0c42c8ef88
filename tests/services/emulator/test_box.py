"""The box emulator with the real client: over a real pty and over socket://, with real TCP POS and printer."""

from __future__ import annotations

import json
import os
import select
import threading
import time
from pathlib import Path

import pytest
import serial

from kelaile_cli.core.box.messages import ErrorCode, MsgType
from kelaile_cli.core.box.session import HELLO_PROBE
from kelaile_cli.core.errors import InputError, JobError, PortError
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services import jobs
from kelaile_cli.services.box import client as box_client
from kelaile_cli.services.box.client import BoxClient, BoxError
from kelaile_cli.services.emulator import device, host_link
from kelaile_cli.services.emulator.box import BoxSim, Faults, SimOptions, parse_fault, parse_power_loss
from kelaile_cli.services.emulator.host_link import PACE_SLACK
from kelaile_cli.services.emulator.state import UploadQueue
from tests.helpers import JOB, FakePrinter, pos_print

SAMPLE = jobs.sample_source().data  # a real recorded print stream of a known POS
RECEIPTS = len(read_receipts(SAMPLE)) + len(read_receipts(JOB))


def sim(tmp_path: Path, **kw) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "state", **kw))
    box.start()
    return box


def test_pty_info_and_config_survive_a_power_cycle(tmp_path, boxes):
    box = sim(tmp_path)
    boxes.append(box)
    assert box.port.startswith("/dev/pts/")
    with BoxClient.connect(box.port) as c:
        assert c.hello.serial == box.state.serial and "tap" in c.hello.caps
        ident = c.identity()
        assert ident.serial == c.hello.serial and {s.name for s in ident.slots} == {"A", "B"}
        c.config_set({"store": "S-0042", "device_secret": "s3cret", "printer_baud": 19200})
        assert c.config_get(["device_secret"]) == {"device_secret": "<set>"}  # secrets never read back
        with pytest.raises(BoxError) as info:
            c.config_set({"store": 42})
        assert info.value.error is ErrorCode.BAD_CONFIG
    box.stop()
    boxes.remove(box)
    again = sim(tmp_path)  # same state dir: a power cycle; a new pty
    boxes.append(again)
    with BoxClient.connect(again.port) as c:
        cfg = c.config_get()
        assert cfg["store"] == "S-0042" and cfg["printer_baud"] == 19200
        assert c.hello.serial == box.state.serial  # the same box, though the port name changed


def test_pty_is_opened_exclusively(tmp_path, boxes):
    box = sim(tmp_path)
    boxes.append(box)
    with BoxClient.connect(box.port), pytest.raises(JobError, match="in use by another program"):
        BoxClient.connect(box.port)


def test_never_writes_more_than_the_probe_to_a_silent_port():
    master, slave = os.openpty()
    try:
        with pytest.raises(JobError, match=r"no box answered within 0\.5 s; nothing else was sent"):
            BoxClient.connect(os.ttyname(slave), timeout=0.5)
        got = b""
        while select.select([master], [], [], 0.2)[0]:
            got += os.read(master, 4096)
        assert got == HELLO_PROBE
    finally:
        os.close(master)
        os.close(slave)


def test_a_device_that_answers_like_a_printer_is_refused(tmp_path):
    master, slave = os.openpty()

    def printer() -> None:  # answers anything with printer status bytes
        if select.select([master], [], [], 3)[0]:
            os.read(master, 4096)
            os.write(master, b"\x16\x12\x12\x16" * 4)

    t = threading.Thread(target=printer)
    t.start()
    try:
        with pytest.raises(JobError, match="not like a Kelaile box"):
            BoxClient.connect(os.ttyname(slave), timeout=0.7)
    finally:
        t.join()
        os.close(master)
        os.close(slave)


def test_socket_busy_and_no_box_errors(tmp_path, boxes):
    box = sim(tmp_path, listen="socket://127.0.0.1:0")
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        assert c.ping() < 1
        with pytest.raises(JobError, match="another klx already connected"):
            BoxClient.connect(box.port, timeout=1)
    with pytest.raises(JobError, match="nothing is listening"):
        BoxClient.connect("socket://127.0.0.1:1", timeout=0.5)
    with pytest.raises(PortError, match="no such port"):
        BoxClient.connect(str(tmp_path / "ttyNOPE"))


def test_passthrough_exact_tap_streams_and_queue_persists(tmp_path, boxes):
    printer = FakePrinter()
    box = sim(
        tmp_path, listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0", printer=f"tcp://127.0.0.1:{printer.port}"
    )
    boxes.append(box)
    pos_port = int(box.pos_address.rsplit(":", 1)[1])
    with BoxClient.connect(box.port) as c:
        c.tap(True)
        pos_print(pos_port, SAMPLE)
        pos_print(pos_port, JOB, read_status=True)
        tapped = bytearray()
        for ev in c.events(timeout=10, stop=lambda: len(tapped) >= len(SAMPLE) + len(JOB)):
            if ev.type is MsgType.EV_TAP:
                tapped.extend(ev["data"])
        assert sorted(printer.wait_for(2)) == sorted([SAMPLE, JOB])  # byte-exact, every byte
        assert tapped == SAMPLE + JOB  # the POS printed one job after the other
        deadline = time.monotonic() + 10
        while c.state().queue < RECEIPTS and time.monotonic() < deadline:
            time.sleep(0.05)
        state = c.state()
        assert state.counters["bytes_to_printer"] == len(SAMPLE) + len(JOB)
        assert state.counters["receipts"] == state.queue == RECEIPTS
        assert state.counters["recognised"] == len(read_receipts(SAMPLE))  # the sample's POS is known
    printer.close()
    queued = UploadQueue(tmp_path / "state" / "queue.jsonl").items()
    box.stop()
    boxes.remove(box)
    again = sim(tmp_path, listen="socket://127.0.0.1:0")
    boxes.append(again)
    with BoxClient.connect(again.port) as c:
        assert c.state().queue == len(queued)
    bodies = [q["body"] for q in queued]
    assert {b["profile"] for b in bodies} >= {"meiwei-pos"}
    assert len({q["key"] for q in queued}) == len(queued)  # one idempotency key per printing


def test_printer_side_as_a_file_and_test_print(tmp_path, boxes):
    out = tmp_path / "printer.prn"
    box = sim(tmp_path, listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0", printer=str(out))
    boxes.append(box)
    pos_print(int(box.pos_address.rsplit(":", 1)[1]), SAMPLE)
    deadline = time.monotonic() + 5
    while (not out.exists() or out.stat().st_size < len(SAMPLE)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.read_bytes() == SAMPLE
    with BoxClient.connect(box.port) as c:
        sent = c.request(MsgType.TEST_PRINT, {"text": "hello"})["bytes"]
    assert out.read_bytes()[len(SAMPLE) :].count(b"hello") == 1 and out.stat().st_size == len(SAMPLE) + sent


def test_reboot_comes_back_with_a_boot_event_and_tap_off(tmp_path, boxes):
    box = sim(tmp_path)
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        c.tap(True)
        c.reboot()
        boots = [e for e in c.events(timeout=1.0) if e.type is MsgType.EV_BOOT]
        assert boots and boots[0]["slot"] == "A"
        assert c.state().tap is False and c.state().uptime < 5


def test_pacing_follows_the_simulated_baud(tmp_path, boxes):
    box = sim(tmp_path, baud=9600)
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        before = box.host.bytes_in + box.host.bytes_out
        t = time.monotonic()
        c.identity()
        c.state()
        elapsed = time.monotonic() - t
        moved = box.host.bytes_in + box.host.bytes_out - before
    assert moved > 300
    # a pty alone would take microseconds; the emulator makes up at most PACE_SLACK per burst (4 here)
    assert elapsed >= moved * 10 / 9600 - 4 * PACE_SLACK


def test_baud_switch_and_revert_when_nothing_comes(tmp_path, boxes, monkeypatch):
    monkeypatch.setattr(host_link, "BAUD_PROBATION", 0.5)
    box = sim(tmp_path, baud=115200)
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        r = c.request(MsgType.SET_BAUD, {"baud": 921600})
        assert r == {"baud": 921600, "old": 115200, "timeout": 0.5}
        time.sleep(0.05)
        c.ping()  # the confirming frame at the new speed
        assert c.hello.baud == 115200 and c.state().links["host"]["baud"] == 921600
        with pytest.raises(BoxError) as info:
            c.request(MsgType.SET_BAUD, {"baud": 12345})
        assert info.value.error is ErrorCode.UNSUPPORTED
        c.request(MsgType.SET_BAUD, {"baud": 57600})
        time.sleep(0.9)  # silence: the box goes back to the old speed by itself
        assert box.baud == 921600
        assert any("reverted" in e for e in c.state().last_errors)


def test_corrupted_link_is_survived_with_retries(tmp_path, boxes):
    box = sim(tmp_path, listen="socket://127.0.0.1:0", faults=Faults(corrupt=0.001, seed=7))
    boxes.append(box)
    ok = 0
    for _ in range(12):  # ~20% of HELLO exchanges are hit: connecting is retried, as a user would
        try:
            c = BoxClient.connect(box.port, timeout=0.3)
            break
        except JobError:
            time.sleep(0.05)
    else:
        pytest.fail("no HELLO got through a 0.1% corrupted link in 12 tries")
    with c:
        for _ in range(16):
            ans = c.answer(c.send(MsgType.CONFIG_GET), timeout=0.15)
            ok += ans is not None
    assert 5 < ok < 16  # most get through, some are lost — and nothing crashed
    assert box.session.garbage + c.garbage > 0


def test_fault_option_parsing():
    f = Faults()
    parse_fault("drop:0.01", f)
    assert f.drop == 0.01
    with pytest.raises(InputError, match="drop:RATE"):
        parse_fault("drop:2", f)
    assert parse_power_loss("flash-data:7").n == 7
    assert parse_power_loss("bytes:1000").phase == "bytes"
    with pytest.raises(InputError, match="phases"):
        parse_power_loss("lunch")


def test_power_loss_at_a_phase_cuts_power(tmp_path, boxes):
    cut = threading.Event()
    box = sim(tmp_path, faults=Faults(power_loss=parse_power_loss("hello:2")), power_off=cut.set)
    boxes.append(box)
    BoxClient.connect(box.port).close()
    assert not cut.is_set()
    BoxClient.connect(box.port).close()
    assert cut.is_set()


def test_state_files_are_json(tmp_path, boxes):
    box = sim(tmp_path)
    boxes.append(box)
    assert json.loads((tmp_path / "state" / "identity.json").read_text())["serial"].startswith("KLB")


class Collecting:
    """An uploader that accepts everything (stands in for the cloud client of another branch)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def upload(self, item: dict) -> dict | None:
        self.items.append(item)
        return {"status": "stored"}


def test_a_delivering_uploader_empties_the_queue(tmp_path, boxes):
    up = Collecting()
    box = sim(tmp_path, listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0", uploader=up)
    boxes.append(box)
    pos_print(int(box.pos_address.rsplit(":", 1)[1]), SAMPLE)
    deadline = time.monotonic() + 10
    while (len(up.items) < len(read_receipts(SAMPLE)) or len(box.state.queue)) and time.monotonic() < deadline:
        time.sleep(0.05)  # delivered, then taken off the queue
    assert [i["body"]["profile"] for i in up.items] == ["meiwei-pos"] * len(read_receipts(SAMPLE))
    assert len(box.state.queue) == 0
    assert UploadQueue(tmp_path / "state" / "queue.jsonl").items() == []  # gone from disk too


def test_events_for_config_changes_and_receipts(tmp_path, boxes):
    box = sim(tmp_path, listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0")
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        c.config_set({"store": "S-1"})
        pos_print(int(box.pos_address.rsplit(":", 1)[1]), JOB)
        seen = []
        for ev in c.events(timeout=10, stop=lambda: any(e.type is MsgType.EV_STATE for e in seen)):
            seen.append(ev)
    logs = [e["text"] for e in seen if e.type is MsgType.EV_LOG]
    states = [e["state"] for e in seen if e.type is MsgType.EV_STATE]
    assert "config changed: store" in logs
    assert states[0]["queue"] == 1 and states[0]["counters"]["receipts"] == 1


def test_profile_upload_is_validated_and_used(tmp_path, boxes):
    root = Path(__file__).resolve().parents[3]
    text = (root / "profiles" / "meiwei-pos.yaml").read_text(encoding="utf-8")
    box = sim(tmp_path)
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        with pytest.raises(BoxError) as info:
            c.request(MsgType.PROFILE_UPLOAD, {"name": "broken", "yaml": b"id: [unclosed"})
        assert info.value.error is ErrorCode.BAD_PAYLOAD and "broken" in info.value.text
        custom = text.replace("id: meiwei-pos", "id: meiwei-custom", 1)
        r = c.request(MsgType.PROFILE_UPLOAD, {"name": "mine", "yaml": custom.encode(), "activate": True})
        assert r["id"] == "meiwei-custom" and "meiwei-custom" in r["profiles"]
        assert c.config_get(["profile"]) == {"profile": "meiwei-custom"}
    assert (tmp_path / "state" / "profiles" / "mine.yaml").read_text(encoding="utf-8") == custom


def test_pos_on_a_pty_passthrough_both_ways_and_the_port_survives_a_reboot(tmp_path, boxes):
    printer = FakePrinter()
    box = sim(tmp_path, listen="socket://127.0.0.1:0", pos="pty", printer=f"tcp://127.0.0.1:{printer.port}")
    boxes.append(box)
    pos_port = box.pos_address
    assert pos_port.startswith("/dev/pts/") and pos_port != box.port
    pos = serial.serial_for_url(pos_port, timeout=5)
    try:
        pos.write(SAMPLE + JOB)  # JOB ends with DLE EOT 1: the printer answers
        assert pos.read(1) == b"\x16"  # the printer's status came back through the box
        with BoxClient.connect(box.port) as c:
            c.reboot()  # ends the box's connection to the printer: the fake printer records it
            assert printer.wait_for(1)[0] == SAMPLE + JOB  # one serial stream, byte-exact
            c.reconnect()
            assert c.state().links["pos"]["listening"] == pos_port  # the POS's cable was not unplugged
    finally:
        pos.close()
        printer.close()


def test_tap_stays_on_while_the_host_listens_and_goes_off_when_it_falls_silent(tmp_path, boxes, monkeypatch):
    monkeypatch.setattr(device, "KEEPALIVE_TAP_OFF", 0.6)
    monkeypatch.setattr(box_client, "KEEPALIVE", 0.2)
    box = sim(tmp_path)
    boxes.append(box)
    with BoxClient.connect(box.port) as c:
        c.tap(True)
        list(c.events(timeout=1.0))  # listening: keep-alive PINGs go out
        assert box.device.tap.on
        time.sleep(1.0)  # silent
        assert not box.device.tap.on
