"""``cells`` (the fast column count) must agree with ``char_cells`` character by character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.stream.cells import SURELY_WIDE, cells, char_cells, only_wide


def by_char(text: str) -> int:
    return sum(char_cells(ch) for ch in text)


@given(st.text())
def test_cells_counts_like_char_cells_on_any_text(text):
    assert cells(text) == by_char(text)


@given(st.text(alphabet=st.sampled_from("合计鸡丁 x2.56ＡｗéЖ─…€ｶ€😀𠀀\u3000")))
def test_cells_on_receipt_like_text(text):
    assert cells(text) == by_char(text)


def test_cells_on_every_bmp_character():
    for start in range(0x80, 0x10000, 64):
        text = "".join(chr(cp) for cp in range(start, start + 64))
        assert cells(text) == by_char(text), hex(start)
        assert cells("ab " + text[:5] + " 12") == 6 + by_char(text[:5]), hex(start)


def test_the_surely_wide_blocks_are_wide_in_this_python():
    import re

    ranges = re.findall(r"(.)-(.)", SURELY_WIDE)
    assert len(ranges) >= 10
    for first, last in ranges:
        for cp in range(ord(first), ord(last) + 1):
            assert char_cells(chr(cp)) == 2, hex(cp)


@given(st.text(alphabet=st.sampled_from("合计鸡丁 x2.56Ａｗ한글カナ\u3000·¥é─")))
def test_only_wide_agrees_with_char_cells(text):
    wide_only = all(char_cells(ch) == 2 for ch in text if not ch.isascii())
    assert only_wide(text) == wide_only


def test_surely_wide_char_is_the_class() -> None:
    from kelaile_cli.core.stream.cells import surely_wide, surely_wide_char

    for cp in range(0x20, 0x10000, 7):
        ch = chr(cp)
        assert surely_wide_char(ch) == (not ch.isascii() and surely_wide(ch)), hex(cp)
    # and the class search of longer texts, at every edge of the CJK ideographs' own loop
    for cp in [*range(0x80, 0x10000, 7), 0x4DFF, 0x4E00, 0x9FFF, 0xA000]:
        text = "合计 x2 " * 4 + chr(cp) + " 鸡丁" * 8
        assert surely_wide(text) == surely_wide_char(chr(cp)), hex(cp)


#: wide and narrow, the edges of the CJK ideographs among them
_MIXED = "合计 x2.56Ａｗ한글カナ\u3000·¥é─😀\u303f\uff61\u4dff\u4e00\u9fff\ua000"


@given(st.text(alphabet=st.sampled_from(_MIXED), max_size=40))
def test_surely_wide_short_and_long_agree(text):
    from kelaile_cli.core.stream.cells import surely_wide, surely_wide_char

    assert surely_wide(text) == all(ch.isascii() or surely_wide_char(ch) for ch in text)
    assert surely_wide(text + " " * 30) == surely_wide(text)  # the class search, past the short texts
