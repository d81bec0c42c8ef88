"""The .klr codec: round trips, torn tails, corrupt lines named by number, version upgrades."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.formats.recording import (
    Chunk,
    Header,
    RecordingError,
    Trailer,
    encode_chunk,
    encode_header,
    encode_trailer,
    looks_like_recording,
    parse_recording,
)

T0 = 1795609800.0  # 2026-11-25 12:30:00 UTC
chunks_st = st.lists(
    st.tuples(st.floats(0, 1e5, allow_nan=False), st.sampled_from(["out", "in"]), st.integers(0, 5), st.binary()),
    max_size=20,
)


def build(chunks: list[Chunk], trailer: bool = True) -> bytes:
    import hashlib

    out = encode_header(Header("tcp://x", T0, "0.1.0", {"k": "v"}))
    for c in chunks:
        out += encode_chunk(c, T0)
    if trailer:
        digest = hashlib.sha256(b"".join(c.data for c in chunks)).hexdigest()
        out += encode_trailer(Trailer(T0 + 10, len(chunks), digest))
    return out


@settings(max_examples=150, deadline=None)
@given(chunks_st)
def test_round_trip_is_exact(raw_chunks):
    chunks = [Chunk(T0 + t, d, c, data) for t, d, c, data in raw_chunks]
    rec = parse_recording(build(chunks))
    assert rec.complete and not rec.torn_tail
    assert [c.data for c in rec.chunks] == [c.data for c in chunks]
    assert [(c.direction, c.conn) for c in rec.chunks] == [(c.direction, c.conn) for c in chunks]
    for got, want in zip(rec.chunks, chunks, strict=True):
        assert abs(got.t - want.t) < 1e-5
    assert rec.header.notes == {"k": "v"}


@settings(max_examples=150, deadline=None)
@given(chunks_st, st.integers(min_value=1))
def test_a_file_cut_anywhere_reads_back_every_complete_chunk(raw_chunks, cut_seed):
    chunks = [Chunk(T0 + t, d, c, data) for t, d, c, data in raw_chunks]
    data = build(chunks, trailer=False)
    header_len = data.index(b"\n") + 1
    cut = header_len + cut_seed % (len(data) - header_len + 1)
    rec = parse_recording(data[:cut])
    complete_lines = data[:cut].count(b"\n") - 1
    if cut < len(data) and data[cut : cut + 1] == b"\n":
        complete_lines += 1  # cut just before a newline: that last line is whole and is kept
    assert [c.data for c in rec.chunks] == [c.data for c in chunks[:complete_lines]]
    assert not rec.complete


def test_corrupt_middle_line_is_an_error_naming_the_line():
    chunks = [Chunk(T0, "out", 0, b"a"), Chunk(T0, "out", 0, b"b"), Chunk(T0, "out", 0, b"c")]
    lines = build(chunks).split(b"\n")
    lines[2] = b'{"t": 0, "d": "sideways", "c": 0, "s": "x"}'
    with pytest.raises(RecordingError) as info:
        parse_recording(b"\n".join(lines), "shop.klr")
    assert info.value.line == 3
    assert str(info.value).startswith("shop.klr:3: ")
    lines[2] = b"not json at all"
    with pytest.raises(RecordingError, match=r"shop.klr:3: bad chunk"):
        parse_recording(b"\n".join(lines), "shop.klr")


def test_tampered_data_fails_the_checksum():
    data = build([Chunk(T0, "out", 0, b"TOTAL 10.00")]).replace(b"10.00", b"99.00")
    with pytest.raises(RecordingError, match="checksum"):
        parse_recording(data, "x.klr")


def test_not_a_recording_and_newer_versions():
    with pytest.raises(RecordingError, match=r"x\.klr:1"):
        parse_recording(b"\x1b@hello\n", "x.klr")
    newer = json.dumps({"klr": 99, "started_epoch": T0}).encode() + b"\n"
    with pytest.raises(RecordingError, match="newer"):
        parse_recording(newer, "x.klr")
    assert looks_like_recording(build([]))
    assert not looks_like_recording(b"\x1b@")


def test_version_0_is_upgraded():
    v0 = (
        json.dumps({"version": 0, "source": "COM3", "start": T0}) + "\n"
        + json.dumps({"time": T0 + 1.5, "dir": "tx", "conn": 2, "hex": "1b4048690a"}) + "\n"
        + json.dumps({"time": T0 + 2.0, "dir": "rx", "hex": "16"}) + "\n"
    ).encode()  # fmt: skip
    rec = parse_recording(v0)
    assert rec.header.source == "COM3" and rec.header.version == 1
    assert rec.stream("out") == b"\x1b@Hi\n" and rec.stream("in") == b"\x16"
    assert rec.chunks[0].conn == 2 and rec.chunks[0].t == T0 + 1.5


# -- damaged files: what a full disk, a killed recorder or a crafted file leaves behind (issue 13) --------


def _lines(chunks: list[Chunk], trailer: bool = True) -> list[bytes]:
    return build(chunks, trailer).split(b"\n")[:-1]


def test_a_line_torn_by_a_full_disk_is_skipped_and_named_and_the_rest_is_read():
    chunks = [Chunk(T0 + i, "out", i, b"job %d\\ \x1b" % i) for i in range(6)]
    lines = _lines(chunks, trailer=False)
    # line 3 was cut off mid-write (disk full) and, once space came back, line 4 was appended to it
    lines[2] = lines[2][: len(lines[2]) // 2] + lines[3]
    del lines[3]
    # line 5 (was 6) cut off, the writer started the next one on a fresh line
    lines[4] = lines[4][:9]
    rec = parse_recording(b"\n".join(lines) + b"\n", "shop.klr")
    assert [c.data for c in rec.chunks] == [chunks[0].data, chunks[2].data, chunks[3].data, chunks[5].data]
    assert rec.torn_lines == 2 and not rec.torn_tail
    assert any(w.startswith("shop.klr:3: torn line") for w in rec.warnings)
    assert any(w.startswith("shop.klr:5: torn line") for w in rec.warnings)


def test_a_deleted_chunk_is_reported_with_the_checksum_checked():
    chunks = [Chunk(T0, "out", 0, b"a"), Chunk(T0, "out", 0, b"b"), Chunk(T0, "out", 0, b"c")]
    lines = _lines(chunks)
    del lines[2]
    rec = parse_recording(b"\n".join(lines) + b"\n", "x.klr")
    assert rec.complete and rec.checksum_ok is False
    assert any("trailer counts 3 chunks, found 2" in w and "does not match" in w for w in rec.warnings)
    assert rec.integrity()["checksum_ok"] is False and rec.integrity()["warnings"] == rec.warnings


def test_a_missing_trailer_is_reported():
    rec = parse_recording(build([Chunk(T0, "out", 0, b"a")], trailer=False), "x.klr")
    assert not rec.complete
    assert any("no trailer" in w for w in rec.warnings)
    assert not parse_recording(build([Chunk(T0, "out", 0, b"a")]), "x.klr").warnings


def test_a_trailer_reporting_lost_chunks_is_a_warning():
    out = encode_header(Header("tcp://x", T0, "0.1.0")) + encode_trailer(Trailer(T0, 0, "", lost=4))
    rec = parse_recording(out, "x.klr")
    assert rec.lost_chunks == 4 and any("could not write 4 chunks" in w for w in rec.warnings)


CRAFTED_HEADERS = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"klr":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"klr": null, "started_epoch": 0}',
    b'{"klr": "1e9999", "started_epoch": 0}',
    b'{"klr": 1e9999, "started_epoch": 0}',
    b'{"klr": true, "started_epoch": 0}',
    b'{"klr": 1, "started_epoch": 1e400}',
    b'{"klr": 1, "started_epoch": NaN}',
    b'{"klr": 1, "started_epoch": -5}',
    b'{"klr": 1, "started_epoch": "soon"}',
    b'{"klr": 1, "started_epoch": [1]}',
    b'{"klr": 1, "started": 12}',
    b'{"klr": 1, "started": "not a date"}',
    b'{"klr": 1, "started_epoch": 0, "notes": [1, 2]}',
    b'{"version": 0, "start": "x"}',
    b'{"version": 0, "start": 1e400}',
]


@pytest.mark.parametrize("head", CRAFTED_HEADERS, ids=range(len(CRAFTED_HEADERS)))
def test_crafted_headers_are_input_errors_naming_line_1(head):
    with pytest.raises(RecordingError) as info:
        parse_recording(head + b"\n", "evil.klr")
    assert info.value.exit_code == 2 and info.value.line == 1
    assert str(info.value).startswith("evil.klr:1: ")


CRAFTED_CHUNKS = [
    b'{"t": 1e400, "d": "out", "c": 0, "s": "x"}',
    b'{"t": NaN, "d": "out", "c": 0, "s": "x"}',
    b'{"t": "1", "d": "out", "c": 0, "s": "x"}',
    b'{"t": 0, "d": "out", "c": 1e400, "s": "x"}',
    b'{"t": 0, "d": "out", "c": -1, "s": "x"}',
    b'{"t": 0, "d": "out", "c": 0, "s": ["x"]}',
    b'{"t": 0, "d": "out", "c": 0, "s": "\\u4e2d"}',
    b'{"t": 0, "d": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"end_epoch": 0, "chunks": 0, "sha256": ""}\n{"end_epoch": 0, "chunks": 0}',
]


@pytest.mark.parametrize("line", CRAFTED_CHUNKS, ids=range(len(CRAFTED_CHUNKS)))
def test_crafted_chunks_are_input_errors_naming_the_line(line):
    with pytest.raises(RecordingError) as info:
        parse_recording(encode_header(Header("x", T0, "0")) + line + b"\n", "evil.klr")
    assert info.value.exit_code == 2 and info.value.line >= 2


def test_a_line_longer_than_the_bound_is_refused():
    from kelaile_cli.core.formats.recording import MAX_LINE

    data = encode_header(Header("x", T0, "0")) + b'{"t":0,"d":"out","c":0,"s":"' + b"A" * MAX_LINE + b'"}\n'
    with pytest.raises(RecordingError, match=r"x\.klr:2: line longer than"):
        parse_recording(data, "x.klr")


def test_many_connections_group_in_one_pass():
    chunks = [Chunk(T0, "out" if i % 3 else "in", i % 7, bytes([i % 256])) for i in range(200)]
    rec = parse_recording(build(chunks))
    groups = rec.by_connection("out")
    for conn, got in groups.items():
        assert b"".join(c.data for c in got) == rec.stream("out", conn)
    assert set(groups) == {c.conn for c in chunks if c.direction == "out"}
