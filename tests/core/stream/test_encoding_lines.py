"""Decoding a text run's lines at once must equal decoding them one by one, wherever the layout does it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.stream.encoding import ascii_as_itself, lines_decode_alike

CODECS = ["cp437", "cp858", "latin-1", "koi8_r", "gb18030", "cp950", "cp932", "cp949", "utf-8"]
text_bytes = st.lists(st.sampled_from([0x0A, *range(0x20, 0x100)]), max_size=80).map(bytes)


def test_which_codecs_decode_lines_alike():
    assert all(lines_decode_alike(c) for c in CODECS)
    # stateful or not LF-transparent; cp1252 leaves bytes undefined, so it is (conservatively) left out too
    for codec in ("utf-16", "utf-7", "iso2022_jp", "hz", "cp037", "cp1252", "no-such-codec"):
        assert not lines_decode_alike(codec), codec
    assert ascii_as_itself("cp437") and ascii_as_itself("gb18030")
    assert not ascii_as_itself("cp037") and not ascii_as_itself("iso2022_jp")


@given(st.sampled_from(CODECS), text_bytes)
def test_a_block_that_decodes_gives_the_lines_decoded_one_by_one(codec, raw):
    try:
        block = raw.decode(codec).split("\n")
    except UnicodeDecodeError:
        return  # the layout then goes line by line
    assert block == [line.decode(codec) for line in raw.split(b"\n")]


@given(st.sampled_from(CODECS), st.lists(st.text(alphabet="合计鸡丁珍珠奶茶éüß€Жабв x12.-", max_size=12), max_size=6))
def test_encoded_lines_round_trip_as_a_block(codec, lines):
    raw = b"\n".join(line.encode(codec, "ignore") for line in lines)
    assert raw.decode(codec).split("\n") == [line.decode(codec) for line in raw.split(b"\n")]
    if raw.isascii() and ascii_as_itself(codec):
        assert raw.decode("ascii") == raw.decode(codec)
