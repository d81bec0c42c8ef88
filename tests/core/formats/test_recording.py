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
