"""The CJK scorer's character blocks (``encoding._frequent``, written out by tools/make_frequent_chars.py):
every pair of each block that the running Python's codec decodes, and nothing else."""

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
