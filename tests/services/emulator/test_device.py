"""The emulated box's device without threads: a request message in, the answer frame (and events) out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelaile_cli.core.box.framing import Frame, FrameDecoder
from kelaile_cli.core.box.messages import PROTOCOL_VERSION, REQUESTS, ErrorCode, Message, MsgType, decode_message
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk
from kelaile_cli.services.emulator.device import TAP_CHUNK, Device, Tap
from kelaile_cli.services.emulator.faults import Faults, PowerCut, parse_power_loss
from kelaile_cli.services.emulator.host_link import HostLink
from kelaile_cli.services.emulator.pipeline import PosPipeline
from kelaile_cli.services.emulator.state import BoxState, KeepQueued
from kelaile_cli.transports.pty import PtyLink


class Options:
    def __init__(self) -> None:
        self.profiles: list[Path] = []
        self.uploader = KeepQueued()


class Rig:
    """A device with its real state, host link (a pty, never started) and pipeline (not started)."""

    def __init__(self, root: Path, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.cuts = 0
        self.events: list[bytes] = []
        self.state = BoxState(root)
        self.power = PowerCut(self.faults, self._cut)
        self.host = HostLink(PtyLink(), 115200, self.faults, self.power, log=lambda text: None)
        self.tap = Tap()
        self.pipeline = PosPipeline(self.state, Options(), log=lambda t: None, on_queued=lambda: None, tap=self.tap)
        self.device = Device(
            self.state, self.host, self.pipeline, tap=self.tap, slots=None, faults=self.faults, power=self.power,
            emit=self.events.append,
        )  # fmt: skip

    def _cut(self) -> None:
        self.cuts += 1

    def ask(self, mtype: MsgType, body: dict | None = None, msg_id: int = 7) -> Message:
        answer = messages(self.device.handle(Message(mtype, msg_id, body or {})))
        assert len(answer) == 1 and answer[0].id == msg_id
        return answer[0]

    def event_messages(self) -> list[Message]:
        return messages(b"".join(self.events))


def messages(data: bytes) -> list[Message]:
    frames = FrameDecoder().feed(data)
    assert all(isinstance(f, Frame) for f in frames)
    return [decode_message(f.body) for f in frames if isinstance(f, Frame)]


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path / "state")
    yield r
    r.host.close()


def test_every_request_type_has_a_handler_and_nothing_else_does(rig):
    assert set(rig.device.handlers) == REQUESTS


def test_ping_and_hello(rig):
    pong = rig.ask(MsgType.PING, msg_id=41)
    assert pong.type is MsgType.RESULT and pong.body == {}
    hello = rig.ask(MsgType.HELLO, {"versions": [PROTOCOL_VERSION]})
    assert hello.type is MsgType.RESULT
    assert hello["serial"] == rig.state.serial and hello["baud"] == 115200 and "flash" not in hello["caps"]
    refused = rig.ask(MsgType.HELLO, {"versions": [PROTOCOL_VERSION + 1]})
    assert refused.type is MsgType.ERROR and refused["code"] == ErrorCode.BAD_VERSION


def test_a_message_type_that_is_not_a_request_is_answered_unknown(rig):
    answer = rig.ask(MsgType.EV_LOG, {"level": "info", "text": "x"})
    assert answer.type is MsgType.ERROR and answer["code"] == ErrorCode.UNKNOWN_TYPE


def test_config_set_persists_and_logs_and_a_bad_value_changes_nothing(rig, tmp_path):
    ok = rig.ask(MsgType.CONFIG_SET, {"values": {"store": "S-9", "printer": "tcp://127.0.0.1:9100"}})
    assert ok.type is MsgType.RESULT and ok["restart"] == ["printer"] and ok["config"]["store"] == "S-9"
    assert BoxState(tmp_path / "state").config["store"] == "S-9"  # on disk
    assert [e["text"] for e in rig.event_messages() if e.type is MsgType.EV_LOG] == ["config changed: printer, store"]
    bad = rig.ask(MsgType.CONFIG_SET, {"values": {"store": 5}})
    assert bad.type is MsgType.ERROR and bad["code"] == ErrorCode.BAD_CONFIG
    assert rig.state.config["store"] == "S-9"


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"pos": "garbage"}, "the POS side is listen://HOST:PORT, a serial port"),
        ({"printer": "garbage://x"}, "unknown scheme"),
        ({"pos": "listen://127.0.0.1:99999"}, "out of range"),
        ({"printer": "listen://127.0.0.1:9100"}, "listen:// is a POS side"),
        ({"printer": "usb://04b8"}, "expected usb://VID:PID"),
        ({"printer_flow": "dtr"}, "expected one of none, xonxoff, rtscts"),
        ({"cloud_url": "ftp://cloud.example"}, "http:// or https://"),
        ({"cloud_url": "http://:8000"}, "no host"),
        ({"store": "S-2", "cloud_url": "https://cloud.example:70000"}, "out of range"),
    ],
)
def test_config_the_box_could_not_boot_with_is_bad_config_and_changes_nothing(rig, tmp_path, values, needle):
    before = dict(rig.state.config)
    answer = rig.ask(MsgType.CONFIG_SET, {"values": values})
    assert answer.type is MsgType.ERROR and answer["code"] == ErrorCode.BAD_CONFIG and needle in answer["text"]
    assert rig.state.config == before and BoxState(tmp_path / "state").config == before  # memory and disk
    assert rig.events == []  # no "config changed" either


def test_a_good_pos_and_cloud_url_are_accepted(rig):
    values = {"pos": "listen://127.0.0.1:9100", "printer": "tcp://127.0.0.1:9101", "cloud_url": "http://127.0.0.1:8000"}
    assert rig.ask(MsgType.CONFIG_SET, {"values": values}).type is MsgType.RESULT
    assert {k: rig.state.config[k] for k in values} == values


def test_flash_without_slots_and_a_baud_the_box_cannot_do_are_unsupported(rig):
    flash = rig.ask(MsgType.FLASH_VERIFY)
    assert flash.type is MsgType.ERROR and flash["code"] == ErrorCode.UNSUPPORTED
    baud = rig.ask(MsgType.SET_BAUD, {"baud": 12345})
    assert baud.type is MsgType.ERROR and baud["code"] == ErrorCode.UNSUPPORTED
    assert rig.host.baud == 115200


def test_a_handler_that_breaks_answers_internal_and_is_logged(rig, tmp_path):
    rig.state.update_config({"printer": str(tmp_path)})  # a directory: the test print cannot open it
    answer = rig.ask(MsgType.TEST_PRINT)
    assert answer.type is MsgType.ERROR and answer["code"] == ErrorCode.INTERNAL
    assert "IsADirectoryError" in rig.device.status()["last_errors"][0]


def test_test_print_without_a_printer_is_bad_state(rig):
    answer = rig.ask(MsgType.TEST_PRINT)
    assert answer.type is MsgType.ERROR and answer["code"] == ErrorCode.BAD_STATE


def test_tap_frames_printer_bound_bytes_only_while_on(rig):
    data = bytes(range(256)) * ((TAP_CHUNK * 2) // 256 + 1)
    rig.tap(Chunk(0.0, TO_PRINTER, 3, data))
    assert rig.tap.backlog.empty()  # off
    assert rig.ask(MsgType.TAP, {"on": True})["on"] is True
    rig.tap(Chunk(0.0, TO_HOST, 3, b"\x12"))
    rig.tap(Chunk(0.0, TO_PRINTER, 3, data))
    frames = []
    while not rig.tap.backlog.empty():
        frames += messages(rig.tap.backlog.get_nowait())
    assert [f["seq"] for f in frames] == [1, 2, 3] and b"".join(f["data"] for f in frames) == data
    assert {f["conn"] for f in frames} == {3} and rig.device.status()["counters"]["tap_events"] == 3


def test_boot_announces_the_slot_and_turns_the_tap_off(rig):
    rig.ask(MsgType.TAP, {"on": True})
    boot = messages(rig.device.boot())
    assert [(m.type, m["slot"], m["trial"]) for m in boot] == [(MsgType.EV_BOOT, "A", False)]
    assert rig.device.tap.on is False and rig.ask(MsgType.STATE)["tap"] is False


def test_a_power_loss_at_the_second_hello(tmp_path):
    rig = Rig(tmp_path, Faults(power_loss=parse_power_loss("hello:2")))
    try:
        rig.ask(MsgType.HELLO, {"versions": [PROTOCOL_VERSION]})
        assert rig.cuts == 0
        rig.ask(MsgType.HELLO, {"versions": [PROTOCOL_VERSION]})
        assert rig.cuts == 1
    finally:
        rig.host.close()
