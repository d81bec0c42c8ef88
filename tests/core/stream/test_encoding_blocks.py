"""The CJK scorer's character blocks (``encoding._frequent``): decoded row by row, the same as pair by pair."""

from __future__ import annotations

import contextlib

from kelaile_cli.core.stream import encoding


def pair_by_pair(codec: str, leads: range, trails: list[range]) -> frozenset[str]:
    out = set()
    for lead in leads:
        for tr in trails:
            for trail in tr:
                with contextlib.suppress(UnicodeDecodeError):
                    out.add(bytes((lead, trail)).decode(codec))
    return frozenset(out)


def test_blocks_are_every_pair_that_decodes() -> None:
    blocks = encoding._frequent()
    kana = frozenset(chr(c) for c in [*range(0x3041, 0x3097), *range(0x30A1, 0x30FB), 0x30FC])
    assert blocks["gb18030"] == pair_by_pair("gb2312", range(0xB0, 0xD8), [range(0xA1, 0xFF)])
    assert blocks["cp950"] == pair_by_pair("cp950", range(0xA4, 0xC7), [range(0x40, 0x7F), range(0xA1, 0xFF)])
    assert blocks["cp932"] == pair_by_pair("cp932", range(0x88, 0x99), [range(0x40, 0x7F), range(0x80, 0xFD)]) | kana
    assert blocks["cp949"] == pair_by_pair("euc_kr", range(0xB0, 0xC9), [range(0xA1, 0xFF)])


def test_a_row_with_bytes_that_do_not_decode_goes_pair_by_pair() -> None:
    # gb2312 row 0xD7 ends in five unassigned pairs (0xD7FA-0xD7FE): the rest of the row still counts
    row = encoding._block("gb2312", range(0xD7, 0xD8), [range(0xA1, 0xFF)])
    assert row == pair_by_pair("gb2312", range(0xD7, 0xD8), [range(0xA1, 0xFF)])
    assert 0 < len(row) < 0xFF - 0xA1
