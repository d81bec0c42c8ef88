"""Taps: bounded copies beside the flow; a recorder that falls behind holds printing up only so long."""

from __future__ import annotations

import threading
import time

from kelaile_cli.core.formats.recording import Chunk
from kelaile_cli.services.capture import tap as tap_module
from kelaile_cli.services.capture.tap import SETTLE_MAX, CaptureStats, Tap


class StuckSink:
    """A recorder whose disk hangs until ``free`` is set; counts what it was told it lost."""

    def __init__(self) -> None:
        self.free = threading.Event()
        self.got: list[bytes] = []
        self.lost = [0, 0]

    def __call__(self, chunk: Chunk) -> None:
        self.free.wait(10)
        self.got.append(chunk.data)

    def drop(self, chunks: int, size: int) -> None:
        self.lost[0] += chunks
        self.lost[1] += size


def test_a_hung_recorder_costs_each_read_at_most_the_wait_then_copies_are_dropped_and_counted():
    stats = CaptureStats()
    sink = StuckSink()
    tap = Tap([sink], stats, limit=1000, wait=0.05)
    tap.start()
    kept = [tap.put(Chunk(0.0, "out", 0, bytes([i]) * 400)) for i in range(50)]
    assert kept[:2] == [True, True] and kept.count(True) <= 3  # 1000 bytes of room: two or three reads
    dropped = kept.count(False)
    assert stats.dropped == dropped and stats.record_waits >= dropped
    assert len(tap._items) <= 4  # dropped copies are merged into one entry, their data not kept
    sink.free.set()
    tap.finish()
    assert sink.lost == [dropped, 400 * dropped]
    assert len(sink.got) == 50 - dropped


def test_a_decoding_tap_never_waits():
    stats = CaptureStats()
    sink = StuckSink()
    tap = Tap([sink], stats, limit=1000, wait=0.0)
    tap.start()
    assert tap.try_reserve(600) is True
    assert tap.try_reserve(600) is False  # a tap that never waits says so: the copy is lost
    tap.hand(Chunk(0.0, "out", 0, b"x" * 600), True)
    tap.hand(Chunk(0.0, "out", 0, b"y" * 600), False)
    sink.free.set()
    tap.finish()
    assert sink.got == [b"x" * 600] and stats.dropped == 1


class TimedSink:
    def __init__(self) -> None:
        self.at: list[float] = []

    def __call__(self, chunk: Chunk) -> None:
        self.at.append(time.monotonic())


def test_a_settling_tap_waits_for_the_flow_to_pause_but_never_longer_than_settle_max():
    sink = TimedSink()
    tap = Tap([sink], CaptureStats(), settle=30.0)  # the flow never pauses that long here
    tap.start()
    handed = time.monotonic()
    tap.put(Chunk(0.0, "out", 0, b"job"))
    deadline = time.monotonic() + 10
    while not sink.at and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sink.at, "the copy was held back for good"
    assert SETTLE_MAX <= sink.at[0] - handed < 10  # held while the flow might go on, then handed on anyway
    tap.finish()


def test_a_settling_tap_hands_on_at_once_when_asked_to_finish_or_a_quarter_full(monkeypatch):
    monkeypatch.setattr(tap_module, "SETTLE_MAX", 30.0)
    sink = TimedSink()
    tap = Tap([sink], CaptureStats(), settle=30.0)
    tap.start()
    tap.put(Chunk(0.0, "out", 0, b"job"))
    began = time.monotonic()
    tap.finish()  # would take 30 s if finishing waited for the flow to pause
    assert len(sink.at) == 1 and time.monotonic() - began < 10
    full = Tap([sink], CaptureStats(), limit=100, settle=30.0)
    full.start()
    full.put(Chunk(0.0, "out", 0, b"x" * 30))  # 30 of 100 bytes held: past a quarter, no waiting
    deadline = time.monotonic() + 10
    while len(sink.at) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(sink.at) == 2
    full.finish()
