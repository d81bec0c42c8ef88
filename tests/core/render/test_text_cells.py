"""``cells`` (the fast column count) must agree with ``char_cells`` character by character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.render.text import cells, char_cells


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
