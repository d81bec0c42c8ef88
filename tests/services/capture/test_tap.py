"""Taps: bounded copies beside the flow; a recorder that falls behind holds printing up only so long."""

from __future__ import annotations

import threading

from kelaile_cli.core.formats.recording import Chunk
from kelaile_cli.services.capture.tap import CaptureStats, Tap


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
