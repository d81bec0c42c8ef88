"""CJK text whose wide characters each came from two bytes: a line's columns are its bytes less its
trailing blanks (``Layout._decode_lines``, ``encoding.wide_from_two_bytes``, ``encoding.WidePairs``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.stream.cells import SURELY_WIDE, cells, char_cells, surely_wide
from kelaile_cli.core.stream.encoding import wide_from_two_bytes, wide_pairs
from kelaile_cli.core.stream.layout import Layout, TextSetup
from kelaile_cli.core.stream.printstream import decode_events

TWO_BYTE = ["gb18030", "gbk", "big5", "cp950", "cp932", "shift_jis", "euc_kr", "cp949", "euc_jp", "johab"]


@pytest.mark.parametrize("codec", TWO_BYTE)
def test_no_byte_alone_decodes_to_a_wide_character(codec: str) -> None:
    assert wide_from_two_bytes(codec)
    for b in range(256):
        try:
            ch = bytes([b]).decode(codec)
        except UnicodeDecodeError:
            continue
        assert char_cells(ch) == 1, (codec, hex(b))
        assert b < 0x80 or wide_pairs(codec) is None, (codec, hex(b))  # a byte alone: no pairs to count
        if b < 0x80:
            assert ch == chr(b), (codec, hex(b))


def test_which_codecs_count() -> None:
    assert wide_from_two_bytes("GB18030") and wide_from_two_bytes("utf-8")
    for codec in ("cp437", "latin-1", "klx_mojibake_gbk", "iso2022_jp", "no-such-codec"):
        assert not wide_from_two_bytes(codec), codec
        assert wide_pairs(codec) is None, codec
    for codec in ("gb18030", "gbk", "big5", "euc_kr", "utf-8"):
        assert wide_pairs(codec) is not None, codec
    assert wide_pairs("cp932") is None and wide_pairs("shift_jis") is None  # one-byte katakana


PAIR_WORDS = ["合计", "鸡丁", "x2 ", "56.00", "¥", "·", "—", "\u3000", "ＡＢ", "\u3400", "é", "한글"]


@pytest.mark.parametrize("codec", ["gb18030", "big5", "euc_kr", "utf-8"])
@given(words=st.lists(st.sampled_from(PAIR_WORDS)))
@settings(max_examples=100, deadline=None)
def test_wide_pairs_are_wide_characters_of_two_bytes(codec: str, words: list[str]) -> None:
    raw = "".join(words).encode(codec, "ignore")
    text = raw.decode(codec)
    pairs = wide_pairs(codec)
    assert pairs is not None
    if pairs.all_wide(raw, text):
        assert all(len(ch.encode(codec)) == 2 and char_cells(ch) == 2 for ch in text if not ch.isascii())
        assert cells(text) == len(raw)


def test_the_one_blank_among_the_surely_wide_characters_is_u3000() -> None:
    import re

    blanks = [
        chr(cp)
        for first, last in re.findall(r"(.)-(.)", SURELY_WIDE)
        for cp in range(ord(first), ord(last) + 1)
        if chr(cp).isspace()
    ]
    assert blanks == ["\u3000"]


WORDS = ["合计", "鸡丁", "x2", "  ", " ", "56.00", "¥", "·", "—", "\u3000", "ｶ", "ＡＢ", "\u3400", "€", "А"]


@pytest.mark.parametrize("codec", ["gb18030", "big5", "cp932"])
@given(lines=st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map("".join), min_size=1, max_size=6))
@settings(max_examples=80, deadline=None)
def test_each_line_counts_the_columns_of_its_text(codec: str, lines: list[str]) -> None:
    raw = b"".join(line.encode(codec, "ignore") + b"\n" for line in lines)
    events, _ = decode_events(b"\x1b@" + raw)
    receipt = Layout(TextSetup(cjk_codec=codec, cjk_default=True)).receipt(events)
    texts = raw.decode(codec).split("\n")[:-1]
    printed = [t for t in texts if t]  # an empty line is a feed
    assert [line.text for line in receipt.lines] == printed
    assert [line.cols for line in receipt.lines] == [cells(t.rstrip()) for t in printed]


def test_the_byte_count_is_used_only_when_it_is_exact() -> None:
    setup = TextSetup(cjk_codec="gb18030", cjk_default=True)
    two = "合计 x2   56.00  \n鸡丁\n".encode("gb18030")
    four = "\u3400 x1  \n合计\n".encode("gb18030")  # U+3400: four bytes in GB18030
    assert surely_wide("\u3400") and len("\u3400".encode("gb18030")) == 4
    for raw, byte_cols in ((two, True), (four, False)):
        layout = Layout(setup)
        layout._start_job()
        layout._state.cjk = True
        assert layout._decode_lines(raw, "gb18030") is not None
        assert layout._byte_cols is byte_cols
    events, _ = decode_events(b"\x1b@" + four)
    assert [line.cols for line in Layout(setup).receipt(events).lines] == [5, 4]


@pytest.mark.parametrize("codec", ["gb18030", "gbk", "big5", "cp950", "big5hkscs", "euc_kr", "cp949", "utf-8"])
def test_a_lead_byte_is_wide_when_each_of_its_pairs_decoded_alone_is(codec: str) -> None:
    from kelaile_cli.core.stream.cells import surely_wide_char
    from kelaile_cli.core.stream.encoding import WidePairs

    def one_by_one(lead: int) -> bool:
        for trail in range(0x80, 0x100):
            try:
                ch = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) != 1 or not surely_wide_char(ch):
                return False
        return True

    pairs = WidePairs(codec)
    assert [pairs._heads_only_wide(lead) for lead in range(0x80, 0x100)] == [
        one_by_one(lead) for lead in range(0x80, 0x100)
    ]


def test_counting_stops_where_it_never_pays() -> None:
    from kelaile_cli.core.stream.encoding import WidePairs

    text = "菜飯 x2   56.00"  # both second bytes >= 0x80 in Big5
    assert all(b >= 0x80 for b in "菜飯".encode("big5"))
    pairs = WidePairs("big5")
    low = "功".encode("big5")  # a second byte below 0x80
    assert low[1] < 0x80
    for _ in range(20):
        assert not pairs.all_wide(low, "功")
    assert not pairs.all_wide(text.encode("big5"), text)  # not counted any more
    fresh = WidePairs("big5")
    assert fresh.all_wide(text.encode("big5"), text)
    for _ in range(20):
        fresh.all_wide(low, "功")
    assert fresh.all_wide(text.encode("big5"), text)  # once paired, always counted


@pytest.mark.parametrize("codec", ["big5", "cp950", "gbk", "cp949", "cp932", "shift_jis"])
def test_two_bytes_at_most(codec: str) -> None:
    import codecs

    from kelaile_cli.core.stream.encoding import two_bytes_at_most

    assert two_bytes_at_most(codec)
    for lead in range(0x80, 0x100):
        for trail in range(0x100):
            decoder = codecs.getincrementaldecoder(codec)()
            try:
                text = decoder.decode(bytes((lead, trail)), final=False)
            except UnicodeDecodeError:
                continue
            pending = decoder.getstate()[0]
            # no character waits for a third byte; two characters come from a byte each
            assert len(pending) <= 1 and len(text) + len(pending) <= 2, (hex(lead), hex(trail))
            if len(text) + len(pending) == 2:
                assert bytes((lead,)).decode(codec) == text[0], (hex(lead), hex(trail))


def test_two_bytes_at_most_not_for_longer_sequences() -> None:
    from kelaile_cli.core.stream.encoding import two_bytes_at_most

    for codec in ("gb18030", "euc_kr", "euc_jp", "utf-8", "big5hkscs", "cp437", "no-such-codec"):
        assert not two_bytes_at_most(codec), codec
