"""services/jobs: a recording decoded in two streaming passes gives what reading it whole gives, in
memory that does not grow with its connections, each connection's receipts as soon as it ends."""

from __future__ import annotations

import functools
import gc
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, Header
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.capture import recorder
from kelaile_cli.services.capture.recorder import RecordingWriter

T0 = 1795609800.0


def job(i: int) -> bytes:
    return b"\x1b@" + f"Table {i}\nTea   2.00\n".encode() + "合计 2.00\n".encode("gb18030") + b"\x1dV\x00"


def write(path: Path, chunks: list[Chunk]) -> Path:
    with RecordingWriter(path, Header("listen://test", T0, "test"), sync_interval=3600) as w:
        for c in chunks:
            w.write(c)
    return path


def sequential(path: Path, connections: int) -> Path:
    """One small job per connection, as `klx record` writes a shop's day: two chunks out, a status back."""
    chunks = []
    for i in range(connections):
        data = job(i)
        chunks += [Chunk(T0 + i, TO_PRINTER, i, data[:9]), Chunk(T0 + i + 0.1, TO_PRINTER, i, data[9:])]
        chunks.append(Chunk(T0 + i + 0.2, TO_HOST, i, b"\x16"))
    return write(path, chunks)


def outcome(source: jobs.Source) -> list[tuple]:
    return [
        (r.index, r.connection, r.timestamp, r.encoding, r.cut, r.start, r.end, render_text(r))
        for r in jobs.iter_receipts(source, DecodeOptions())
    ]


chunk_st = st.tuples(
    st.sampled_from([0, 1, 2, 7, 2**40]),  # connection numbers, one beyond the bitmap
    st.sampled_from([TO_PRINTER, TO_PRINTER, TO_PRINTER, TO_HOST]),
    st.sampled_from([b"", b"\x1b@Tea 2.00\n", "合计\n".encode("gb18030"), b"\x1dV\x00", b"Cake\n\x1dV\x00Soup"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(chunk_st, max_size=30))
def test_streamed_recording_equals_the_recording_read_whole(tmp_path_factory, spec):
    """Interleaved connections, ones that come back, status chunks, empty chunks: same receipts, same
    numbers, same order, same integrity."""
    path = tmp_path_factory.mktemp("rec") / "r.klr"
    write(path, [Chunk(T0 + i, d, c, data) for i, (c, d, data) in enumerate(spec)])
    whole, streamed = jobs.load_source(path), jobs.load_source(path, stream=True)
    assert outcome(streamed) == outcome(whole)
    assert streamed.recording is not None and whole.recording is not None
    assert streamed.recording.integrity() == whole.recording.integrity()
    assert streamed.recording.chunks == []  # nothing held
    assert streamed.data == whole.data


def test_the_repo_recordings_stream_as_they_read_whole():
    root = Path(__file__).resolve().parents[2]
    files = sorted([*root.glob("recordings/**/*.klr"), *root.glob("tests/fixtures/**/*.klr*")])
    assert len(files) > 20
    for path in files:
        whole, streamed = jobs.load_source(path), jobs.load_source(path, stream=True)
        assert outcome(streamed) == outcome(whole), path


def counting_reads(monkeypatch) -> list[int]:
    """Chunks the streaming reader has given out (one entry each), with receipts given out one by one."""
    taken: list[int] = []
    real = recorder.stream_recording

    def counted(p):
        for chunk in real(p):
            taken.append(1)
            yield chunk

    monkeypatch.setattr(jobs, "stream_recording", counted)
    monkeypatch.setattr(jobs, "RECORDING_GROUP", 1)
    return taken


def test_a_connection_s_receipts_come_before_the_file_is_read(tmp_path, monkeypatch):
    path = sequential(tmp_path / "day.klr", 300)
    taken = counting_reads(monkeypatch)  # each receipt given out as soon as it is ready
    batches = jobs.iter_receipt_batches(jobs.load_source(path, stream=True), DecodeOptions())
    first = next(batches)
    assert [r.connection for r in first] == [0] and "Table 0" in render_text(first[0])
    assert len(taken) <= 6  # connection 0's chunks and the first of connection 1: not the 900 of the file
    rest = [r for batch in batches for r in batch]
    assert [r.index for r in rest] == list(range(1, 300)) and rest[-1].connection == 299


def test_receipts_are_given_out_in_groups(tmp_path):
    """One write and flush per group for `klx parse --json`, not one per connection."""
    path = sequential(tmp_path / "day.klr", 600)
    sizes = [len(b) for b in jobs.iter_receipt_batches(jobs.load_source(path, stream=True), DecodeOptions())]
    assert sizes == [jobs.RECORDING_GROUP, jobs.RECORDING_GROUP, 600 - 2 * jobs.RECORDING_GROUP]


def test_a_long_connection_with_others_inside_keeps_the_order_of_first_appearance(tmp_path):
    one, two, three = job(1), job(2), job(3)
    path = write(
        tmp_path / "nested.klr",
        [
            Chunk(T0, TO_PRINTER, 5, one[:6]),
            Chunk(T0 + 0.01, TO_PRINTER, 6, two),
            Chunk(T0 + 0.02, TO_PRINTER, 7, three),
            Chunk(T0 + 0.03, TO_PRINTER, 5, one[6:]),
        ],
    )
    got = [(r.connection, r.index) for r in jobs.iter_receipts(jobs.load_source(path, stream=True), DecodeOptions())]
    assert got == [(5, 0), (6, 1), (7, 2)]
    assert outcome(jobs.load_source(path, stream=True)) == outcome(jobs.load_source(path))


def outcome_batches(source: jobs.Source) -> list[list]:
    return list(jobs.iter_receipt_batches(source, DecodeOptions()))


def peak_bytes(path: Path) -> int:
    """Peak Python memory of loading and decoding a recording (streamed), receipts let go as they come."""
    gc.collect()
    tracemalloc.start()
    try:
        count = 0
        for batch in jobs.iter_receipt_batches(jobs.load_source(path, stream=True), DecodeOptions()):
            count += len(batch)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_connections(tmp_path, monkeypatch):
    """Eight times the connections, not eight times the memory (reading it whole held every chunk and
    every printer byte twice). The encoding prescan and the file's read blocks are set small: they are
    bounded anyway (PRESCAN_BYTES, transports.files.BLOCK), and the files here are smaller than either."""
    monkeypatch.setattr(jobs, "PRESCAN_BYTES", 4096)
    monkeypatch.setattr(recorder, "read_blocks", functools.partial(recorder.read_blocks, size=16 * 1024))
    peak_bytes(sequential(tmp_path / "warm.klr", 5))  # modules and tables loaded on first use: not counted
    small = peak_bytes(sequential(tmp_path / "small.klr", 500))
    big = peak_bytes(sequential(tmp_path / "big.klr", 4000))
    assert big < small * 1.3 + 64 * 1024, (small, big)


def test_the_text_setup_comes_from_the_first_prescan_bytes(tmp_path, monkeypatch):
    """A recording larger than PRESCAN_BYTES: the encoding is chosen from its start, as for a raw file;
    a smaller one from all of it (as when read whole)."""
    path = sequential(tmp_path / "day.klr", 40)
    monkeypatch.setattr(jobs, "PRESCAN_BYTES", 100)
    streamed = jobs.load_source(path, stream=True)
    assert streamed.plan is not None and bytes(streamed.plan.head) == jobs.load_source(path).data[:100]
    monkeypatch.setattr(jobs, "PRESCAN_BYTES", 1 << 20)
    assert outcome(jobs.load_source(path, stream=True)) == outcome(jobs.load_source(path))


def test_a_recording_that_grew_after_the_first_pass_is_decoded_as_first_seen(tmp_path):
    """Still being written: the second pass stops where the first ended, so receipts and integrity agree."""
    path = sequential(tmp_path / "live.klr", 3)
    source = jobs.load_source(path, stream=True)
    text = path.read_bytes()
    trailer_at = text.rstrip(b"\n").rfind(b"\n") + 1
    extra = text[text.index(b"\n") + 1 : trailer_at]  # the chunk lines again, before the trailer
    path.write_bytes(text[:trailer_at] + extra + text[trailer_at:])
    assert [r.connection for batch in outcome_batches(source) for r in batch] == [0, 1, 2]


@pytest.mark.parametrize("gz", [False, True])
def test_a_damaged_recording_streams_its_warnings_before_any_receipt(tmp_path, gz):
    path = sequential(tmp_path / ("torn.klr.gz" if gz else "torn.klr"), 4)
    whole = jobs.load_source(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - (40 if gz else 100)])  # the trailer and part of the last chunk gone
    whole = jobs.load_source(path)
    streamed = jobs.load_source(path, stream=True)
    assert streamed.recording is not None and whole.recording is not None
    assert streamed.recording.warnings == whole.recording.warnings and streamed.recording.warnings
    assert outcome(streamed) == outcome(whole)


def test_one_long_connection_gives_out_its_receipts_as_they_are_cut(tmp_path, monkeypatch):
    """A single connection of many jobs (a POS that keeps its socket open all day): receipts come as
    they are cut, not when the connection ends, so memory does not grow with it either."""
    path = write(tmp_path / "long.klr", [Chunk(T0 + i * 0.01, TO_PRINTER, 3, job(i)) for i in range(200)])
    taken = counting_reads(monkeypatch)
    receipts = jobs.iter_receipts(jobs.load_source(path, stream=True), DecodeOptions())
    first = next(receipts)
    assert "Table 0" in render_text(first) and first.connection == 3
    assert len(taken) <= 3
    assert [r.index for r in receipts] == list(range(1, 200))
