"""Framing: any chunking decodes the same; corruption, truncation and junk are detected and resynchronised."""

from __future__ import annotations

import itertools
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.box.framing import MAX_BODY, MAX_ENCODED, Frame, FrameDecoder, FrameError, encode_frame

bodies = st.lists(st.binary(min_size=1, max_size=600), min_size=1, max_size=8)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _decode(chunks: list[bytes]) -> list[Frame | FrameError]:
    dec = FrameDecoder()
    return [item for chunk in chunks for item in dec.feed(chunk)]


@given(bodies, st.lists(st.integers(min_value=0), max_size=20), st.booleans())
def test_any_chunking_decodes_identically(frames: list[bytes], cuts: list[int], lead: bool):
    stream = b"".join(encode_frame(b, lead=lead) for b in frames)
    whole = _decode([stream])
    assert [f.body for f in whole if isinstance(f, Frame)] == frames
    assert _decode(_chunks(stream, cuts)) == whole
    assert _decode([bytes([b]) for b in stream]) == whole


@given(bodies, st.data())
def test_single_byte_corruption_is_detected_and_the_next_frame_recovered(frames: list[bytes], data: st.DataObject):
    encoded = [encode_frame(b) for b in frames]
    victim = data.draw(st.integers(0, len(frames) - 1))
    frame = bytearray(encoded[victim])
    pos = data.draw(st.integers(0, len(frame) - 2))  # not the trailing delimiter
    frame[pos] ^= data.draw(st.integers(1, 255))
    encoded[victim] = bytes(frame)
    out = _decode([b"".join(encoded)])
    good = [f.body for f in out if isinstance(f, Frame)]
    # every other frame survives, in order; the damaged one never comes out as good data
    assert good == frames[:victim] + frames[victim + 1 :]
    assert any(isinstance(f, FrameError) for f in out)


@given(bodies, st.data())
def test_truncated_frame_is_detected_and_the_next_recovered(frames: list[bytes], data: st.DataObject):
    encoded = [encode_frame(b) for b in frames]
    victim = data.draw(st.integers(0, len(frames) - 1))
    keep = data.draw(st.integers(1, len(encoded[victim]) - 2))
    # the frame is cut (its end is lost) and the stream goes on at the next delimiter
    encoded[victim] = encoded[victim][:keep] + b"\x00"
    out = _decode([b"".join(encoded)])
    assert [f.body for f in out if isinstance(f, Frame)] == frames[:victim] + frames[victim + 1 :]
    assert sum(isinstance(f, FrameError) for f in out) == 1


@given(bodies, st.binary(min_size=1, max_size=300), st.data())
def test_junk_between_frames_is_reported_and_skipped(frames: list[bytes], junk: bytes, data: st.DataObject):
    encoded = [encode_frame(b) for b in frames]
    at = data.draw(st.integers(0, len(frames)))
    stream = b"".join(encoded[:at]) + junk + b"".join(encode_frame(b, lead=True) for b in frames[at:])
    good = [f.body for f in _decode([stream]) if isinstance(f, Frame)]
    # junk cannot swallow a good frame: the lead delimiter ends it (a valid CRC by chance is 2**-32)
    assert good == frames


def test_a_frame_never_contains_a_delimiter_and_has_crc():
    body = bytes(range(256)) * 3
    enc = encode_frame(body)
    assert enc.count(0) == 1 and enc.endswith(b"\x00")
    assert _decode([enc]) == [Frame(body, 0)]
    assert zlib.crc32(body) != zlib.crc32(body[:-1])


def test_overlong_junk_is_bounded_and_reported_with_its_offset():
    junk = b"\x01" * (MAX_ENCODED + 100)
    dec = FrameDecoder()
    out = []
    for i in range(0, len(junk), 1000):
        out += dec.feed(junk[i : i + 1000])
        assert dec._buf.__len__() <= MAX_ENCODED  # memory stays bounded
    out += dec.feed(b"\x00" + encode_frame(b"ok"))
    assert out[0] == FrameError("too-long", 0, len(junk))
    assert out[1] == Frame(b"ok", len(junk) + 1)


def test_maximum_body():
    assert _decode([encode_frame(b"\xff" * MAX_BODY)])[0].body == b"\xff" * MAX_BODY  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="exceeds"):
        encode_frame(b"x" * (MAX_BODY + 1))


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_and_offsets_stay_inside(noise: bytes):
    for item in _decode([noise]):
        assert 0 <= item.offset <= len(noise)
