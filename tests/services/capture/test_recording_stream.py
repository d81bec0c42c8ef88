"""services/capture/recorder: the streaming reader checks a recording as the whole-file reader does —
same chunks, same integrity, same one-line errors — for damaged files too."""

from __future__ import annotations

import functools
import gc
import gzip
import random
import tracemalloc
import zlib
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, ConnectionPlan, Header, RecordingError
from kelaile_cli.services.capture import recorder
from kelaile_cli.services.capture.recorder import (
    RecordingWriter,
    read_recording,
    scan_recording,
    stream_recording,
)
from kelaile_cli.services.jobs import load_source

T0 = 1795609800.0


def recording_bytes(tmp, gz: bool) -> bytes:
    path = tmp / ("r.klr.gz" if gz else "r.klr")
    with RecordingWriter(path, Header("listen://t", T0, "t"), sync_interval=3600) as w:
        for i in range(12):
            w.write(Chunk(T0 + i, TO_PRINTER, i // 3, b"\x1b@Table %d\nTea 2.00\n\x1dV\x00" % i))
            w.write(Chunk(T0 + i + 0.5, TO_HOST, i // 3, b"\x16"))
    return path.read_bytes()


def outcome_whole(path):
    try:
        rec = read_recording(path)
    except InputError as exc:
        return ("error", str(exc))
    return ("ok", rec.chunks, rec.integrity())


def outcome_streamed(path):
    stream = stream_recording(path)
    try:
        chunks = list(stream)
    except InputError as exc:
        return ("error", str(exc))
    assert stream.recording is not None and stream.recording.chunks == []
    return ("ok", chunks, stream.recording.integrity())


damage = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),  # the file ends early (a crash)
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),  # a byte changed
    st.tuples(st.just("drop"), st.floats(0, 1), st.integers(1, 80)),  # bytes lost inside (a torn write)
    st.tuples(st.just("junk"), st.floats(0, 1), st.sampled_from([b"\n", b"{", b'{"t":', b"garbage\n", b"}"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gz=st.booleans(), hits=st.lists(damage, min_size=1, max_size=3))
def test_a_damaged_recording_reads_the_same_streamed_or_whole(tmp_path_factory, gz, hits):
    tmp = tmp_path_factory.mktemp("damaged")
    data = bytearray(recording_bytes(tmp, gz))
    for hit in hits:
        at = int(hit[1] * len(data))
        if hit[0] == "cut":
            del data[at:]
        elif hit[0] == "flip" and at < len(data):
            data[at] = hit[2]
        elif hit[0] == "drop":
            del data[at : at + hit[2]]
        elif hit[0] == "junk":
            data[at:at] = hit[2]
    path = tmp / ("d.klr.gz" if gz else "d.klr")
    path.write_bytes(bytes(data))
    whole = outcome_whole(path)
    assert outcome_streamed(path) == whole
    assert loaded(path, stream=True) == loaded(path, stream=False)  # what `klx parse` loads


def loaded(path, stream: bool):
    """The error, or the integrity (None: not taken for a recording) of a loaded source."""
    try:
        rec = load_source(path, stream=stream).recording
    except InputError as exc:
        return str(exc)
    return rec.integrity() if rec is not None else None


def test_errors_name_the_line_and_come_when_it_is_reached(tmp_path):
    data = recording_bytes(tmp_path, False).split(b"\n")
    data[5] = b'{"t":1,"d":"sideways","c":0,"s":""}'
    path = tmp_path / "bad.klr"
    path.write_bytes(b"\n".join(data))
    stream = stream_recording(path)
    got = []
    try:
        for chunk in stream:
            got.append(chunk)
    except InputError as exc:
        assert str(exc).startswith(f"{path}:6: bad chunk (direction")
    assert len(got) == 4  # the four chunks before line 6, handed over before it was read
    assert stream.recording is None


def test_the_scan_plans_where_each_connection_ends(tmp_path):
    path = tmp_path / "nested.klr"
    with RecordingWriter(path, Header("listen://t", T0, "t"), sync_interval=3600) as w:
        big = 2**40
        for conn in [1, 2, -2, 1, 3, big, 1, big, 4]:  # -2: connection 2's status reply
            w.write(Chunk(T0, TO_HOST if conn < 0 else TO_PRINTER, abs(conn), b"x"))
    summary, plan = scan_recording(path, 5)
    assert summary.complete and summary.chunks == [] and plan.chunks == 9
    assert bytes(plan.head) == b"xxxxx"
    # printer chunks: 1 2 1 3 B 1 B 4 -> 1 comes back (last at 5), B = 2**40 comes back (last at 6)
    assert plan.resumes == {1: 5, 2**40: 6}


def test_the_plan_remembers_millions_of_connections_in_little_memory():
    plan = ConnectionPlan(0)
    for conn in range(0, 2_000_000, 7):
        plan.add(Chunk(T0, TO_PRINTER, conn, b""))
    plan.add(Chunk(T0, TO_PRINTER, 7, b""))  # comes back
    plan.add(Chunk(T0, TO_PRINTER, 8, b""))  # never seen: new
    assert plan.resumes == {7: 285715}
    assert len(plan._seen._bits) <= 2_000_000 // 8 * 2 and not plan._seen._other


def test_gzip_recording_streams(tmp_path):
    data = recording_bytes(tmp_path, True)
    assert gzip.decompress(data).count(b"\n") == 26
    path = tmp_path / "r.klr.gz"
    assert outcome_streamed(path) == outcome_whole(path)


def _reference_gunzip(data: bytes, name: str) -> Iterator[bytes]:
    """The whole-file gzip reader as it was before it streamed (klx 6a35700), kept as the reference the
    streaming one must match byte for byte, damage included."""
    limit = max(recorder._MIN_EXPANSION_LIMIT, recorder.MAX_EXPANSION * len(data))
    magic = recorder.GZIP_MAGIC + b"\x08"

    def member_starts_at(at: int) -> bool:
        try:
            zlib.decompressobj(31).decompress(data[at : at + 4096], 64)
        except zlib.error:
            return False
        return True

    total, start = 0, 0
    while start < len(data):
        d, pos, torn = zlib.decompressobj(31), start, False
        while not d.eof and not torn:
            end = data.find(magic, pos + 1)
            end = len(data) if end < 0 else end
            pending = data[pos:end]
            try:
                while pending and not d.eof:
                    out = d.decompress(pending, 1024 * 1024)
                    total += len(out)
                    if total > limit:
                        raise RecordingError(name, 0, f"decompresses to more than {limit // (1024 * 1024)} MiB")
                    yield out
                    pending = d.unconsumed_tail
            except zlib.error:
                torn = True
                end = pos if pos > start else end
            if d.eof:
                start = end - len(d.unused_data)
            elif end >= len(data):
                yield d.flush()
                return
            elif torn or member_starts_at(end):
                torn = True
            pos = end
        if torn:
            yield b"\n"
            start = pos


def _gunzipped(path) -> tuple[str, bytes]:
    try:
        with path.open("rb") as fh:
            return "ok", b"".join(recorder._gunzip(fh, path.stat().st_size, str(path)))
    except RecordingError as exc:
        return "error", str(exc).split(" MiB")[0].encode()


gz_damage = st.tuples(st.sampled_from(["cut", "flip", "drop", "junk", "magic"]), st.floats(0, 1), st.integers(0, 255))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.sampled_from(["writer", "single member", "noise"]),
    small_pieces=st.booleans(),
    hits=st.lists(gz_damage, max_size=3),
)
def test_the_streaming_gzip_reader_matches_the_whole_file_one(tmp_path_factory, source, small_pieces, hits):
    tmp = tmp_path_factory.mktemp("gz")
    if source == "writer":
        data = bytearray(recording_bytes(tmp, True))
    elif source == "single member":  # as `gzip` writes it: one member for the whole text
        data = bytearray(gzip.compress(b"".join(b'{"t":1,"d":"out","c":0,"s":"%d"}\n' % i for i in range(3000))))
    else:
        data = bytearray(random.Random(len(hits)).randbytes(3000))
    for op, where, value in hits:
        at = int(where * len(data))
        if op == "cut":
            del data[at:]
        elif op == "flip" and at < len(data):
            data[at] = value
        elif op == "drop":
            del data[at : at + value + 1]
        elif op == "junk":
            data[at:at] = bytes([value]) * (value % 7 + 1)
        elif op == "magic":  # gzip's magic bytes where no member starts
            data[at:at] = b"\x1f\x8b\x08" + bytes([value])
    path = tmp / "d.klr.gz"
    path.write_bytes(bytes(data))
    if small_pieces:
        # members and magic bytes across the pieces the file is read in: a damaged member may give
        # back more of its text than before (the output of a whole-segment call that hit the damage
        # was lost; now only that of the piece's), so here: no traceback, the one-line errors only
        piece, recorder._IN_PIECE = recorder._IN_PIECE, 97  # not monkeypatch: it outlives one example
        try:
            _gunzipped(path)
            outcome_whole(path)
        finally:
            recorder._IN_PIECE = piece
        return
    try:
        expected = ("ok", b"".join(_reference_gunzip(bytes(data), str(path))))
    except RecordingError as exc:
        expected = ("error", str(exc).split(" MiB")[0].encode())
    assert _gunzipped(path) == expected  # these files' members fit one piece: byte for byte as before


def test_a_gzip_recording_is_read_without_holding_the_file(tmp_path, monkeypatch):
    """Peak memory of reading a .klr.gz chunk by chunk does not grow with the file (before: the whole
    compressed file was held while it was decompressed)."""
    monkeypatch.setattr(recorder, "_IN_PIECE", 16 * 1024)
    monkeypatch.setattr(recorder, "_OUT_PIECE", 16 * 1024)
    monkeypatch.setattr(recorder, "read_blocks", functools.partial(recorder.read_blocks, size=16 * 1024))
    noise = random.Random(5)

    def peak(chunks: int) -> int:
        path = tmp_path / f"n{chunks}.klr.gz"
        with RecordingWriter(path, Header("listen://t", T0, "t"), sync_interval=3600) as w:
            for i in range(chunks):  # incompressible: the file is as big as its text
                w.write(Chunk(T0 + i, TO_PRINTER, i, noise.randbytes(2000)))
        gc.collect()
        tracemalloc.start()
        try:
            count = sum(1 for _ in stream_recording(path))
            assert count == chunks
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(5)  # first use: not counted
    small, big = peak(100), peak(1000)
    assert big < small * 1.3 + 64 * 1024, (small, big)
