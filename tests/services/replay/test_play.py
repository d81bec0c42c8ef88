"""klx play: a recording's POS side into a real TCP printer (answering or silent) and into a file."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, Header, encode_chunk, encode_header
from kelaile_cli.services import jobs
from kelaile_cli.services.replay.play import PlayOptions, play
from tests.helpers import FakePrinter
from tests.services.replay.conftest import RECORDINGS


@pytest.fixture
def sample(tmp_path) -> Path:
    """Two jobs as a POS prints them: the first asks the printer's status (DLE EOT 1) mid-job and gets 0x16."""
    t0 = 1_790_000_000.0
    chunks = [
        Chunk(t0, TO_PRINTER, 0, b"\x1b@Table 4\n"),
        Chunk(t0 + 0.1, TO_PRINTER, 0, b"\x10\x04\x01"),
        Chunk(t0 + 0.12, TO_HOST, 0, b"\x16"),
        Chunk(t0 + 0.5, TO_PRINTER, 0, b"Noodles  2  56.00\n\x1dV\x00"),
        Chunk(t0 + 1.0, TO_PRINTER, 1, b"\x1b@Table 5\nTea  1  8.00\n\x1dV\x00"),
    ]
    path = tmp_path / "two-jobs.klr"
    lines = [encode_header(Header("test", t0, "test")), *(encode_chunk(c, t0) for c in chunks)]
    path.write_bytes(b"".join(lines))
    return path


def test_every_byte_reaches_the_printer_and_its_answer_comes_back(sample):
    printer = FakePrinter(answer=b"\x12", trigger=b"\x10\x04")
    try:
        report = play(sample, f"tcp://127.0.0.1:{printer.port}")
        assert len(printer.wait_for(2)) == 2
    finally:
        printer.close()
    rec = jobs.load_source(sample).recording
    assert rec is not None
    assert printer.jobs == [rec.stream(TO_PRINTER, conn) for conn in rec.connections()]  # whole, in order
    first, second = report.connections
    assert first.sent + second.sent == len(rec.stream(TO_PRINTER)) == report.bytes_sent
    assert first.replies_expected == first.replies_from_target == 1 and first.replies_from_recording == 0
    assert first.received == b"\x12" and second.replies_expected == 0


def test_a_silent_target_is_answered_from_the_recording_and_never_hangs(sample):
    printer = FakePrinter(answer=None)
    try:
        report = play(sample, f"tcp://127.0.0.1:{printer.port}", PlayOptions(reply_wait_s=0.2))
    finally:
        printer.close()
    conn = report.connections[0]
    assert conn.replies_expected == conn.replies_from_recording == 1 and conn.replies_from_target == 0
    assert report.to_dict()["connections"][0]["bytes_back"] == 0


def test_one_receipt_by_order_number_plays_only_its_connection(tmp_path):
    """A day of two jobs (two meiwei-pos recordings as connections 0 and 1): --receipt picks the second."""
    t0, chunks = 1_790_000_000.0, []
    for conn, name in enumerate(("meiwei-pos-01", "meiwei-pos-02")):
        rec = jobs.load_source(RECORDINGS / "meiwei-pos" / f"{name}.klr").recording
        assert rec is not None
        chunks += [Chunk(t0 + conn * 60 + i * 0.01, c.direction, conn, c.data) for i, c in enumerate(rec.chunks)]
    src = tmp_path / "day.klr"
    src.write_bytes(b"".join([encode_header(Header("test", t0, "test")), *(encode_chunk(c, t0) for c in chunks)]))
    label = json.loads((RECORDINGS / "meiwei-pos" / "meiwei-pos-02.expected.json").read_text(encoding="utf-8"))
    order = label["receipts"][0]["transaction"]["order_no"]
    out = tmp_path / "printer.bin"
    report = play(src, str(out), PlayOptions(reply_wait_s=0.0), receipt=order)
    assert [c.conn for c in report.connections] == [1]
    assert out.read_bytes() == b"".join(c.data for c in chunks if c.conn == 1 and c.direction == TO_PRINTER)
    with pytest.raises(InputError, match=r"no receipt .* has this order number"):
        play(src, str(out), receipt="no-such-order")
    with pytest.raises(InputError, match="--connection 99"):
        play(src, str(out), connection=[99])


def test_as_recorded_keeps_the_gaps(tmp_path, sample):
    rec = jobs.load_source(sample).recording
    assert rec is not None
    span = max(c.t for c in rec.chunks if c.conn == 0) - rec.chunks[0].t  # 0.5 s within the first job
    report = play(sample, str(tmp_path / "o.bin"), PlayOptions(speed=1.0, reply_wait_s=0.0))
    assert report.connections[0].seconds >= span * 0.9
    fast = play(sample, str(tmp_path / "o.bin"), PlayOptions(reply_wait_s=0.0))
    assert fast.connections[0].seconds < span


def test_nobody_listening_is_one_clear_error(sample):
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(JobError, match="cannot connect") as info:
        play(sample, f"tcp://127.0.0.1:{port}")
    assert info.value.layer == "network" and info.value.remedy
    with pytest.raises(InputError, match="play sends to"):
        play(sample, "listen://127.0.0.1:9100")
