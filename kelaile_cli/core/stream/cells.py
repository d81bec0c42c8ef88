"""Columns a text takes on paper: East Asian wide and full-width characters take two, every other one.

Part of the print stream (the layout counts a line's columns as it lays it out; renderers align and
wrap by them): the stream does not import its renderers.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Final
from unicodedata import east_asian_width

__all__ = [
    "SURELY_WIDE",
    "cells",
    "char_cells",
    "only_narrow",
    "only_wide",
    "surely_wide",
    "surely_wide_char",
    "wide_text_cells",
]

_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")


def _wide(ch: str) -> bool:
    return east_asian_width(ch) in "WF"


@cache
def char_cells(ch: str) -> int:
    """Columns one character takes: East Asian wide and full-width characters take two."""
    return 2 if _wide(ch) else 1


@cache
def _classes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(any wide character of the Basic Multilingual Plane, any other non-ASCII character) as
    ``char_cells`` counts them: built from ``unicodedata`` on first use (~40 ms), so they always agree
    with the running Python."""
    wide: list[str] = []
    other: list[str] = []
    start, start_wide = 0x80, False
    for cp in range(0x80, 0x10001):
        is_wide = cp <= 0xFFFF and _wide(chr(cp))
        if cp == 0x10000 or is_wide != start_wide:
            if cp > start:
                (wide if start_wide else other).append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start, start_wide = cp, is_wide
    return re.compile(f"[{''.join(wide)}]"), re.compile(f"[{''.join(other)}\U00010000-\U0010ffff]")


@lru_cache(maxsize=4096)
def _extra_cells(run: str) -> int:
    """Columns beyond one per character in a run of non-ASCII characters (memoised: receipts repeat
    their item names and words)."""
    if _BEYOND_BMP.search(run):  # rare: characters beyond the BMP go one by one
        return sum(map(char_cells, run)) - len(run)
    return len(_classes()[0].findall(run))


#: blocks whose every character is East Asian wide or full-width (CJK punctuation, kana, bopomofo,
#: Hangul, CJK ideographs, full-width forms): tests/core/render check each against ``char_cells``
SURELY_WIDE = (
    "\u3000-\u303e\u3041-\u3096\u3099-\u30ff\u3105-\u312f\u3131-\u318e\u3190-\u31e3\u31f0-\u321e"
    "\u3220-\u3247\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60"
    "\uffe0-\uffe6"
)


@cache
def _all_surely_wide() -> re.Pattern[str]:
    """A text of ASCII and ``SURELY_WIDE`` characters only. ``fullmatch`` walks the text in tight loops of
    class tests, about twice as fast as searching it for a character outside the class; the loop over
    ASCII and the CJK ideographs (most of such a text) tests a smaller class, a third faster again."""
    return re.compile(f"(?:[\x00-\x7f\u4e00-\u9fff]++|[{SURELY_WIDE}])*+")


#: SURELY_WIDE's ranges as (first, last) code points
_SURELY_WIDE_RANGES: Final = [(ord(a), ord(b)) for a, b in zip(SURELY_WIDE[::3], SURELY_WIDE[2::3], strict=True)]


def surely_wide_char(ch: str) -> bool:
    """Whether the one character ``ch`` is in ``SURELY_WIDE`` (without compiling its class)."""
    return _surely_wide_code(ord(ch))


def _surely_wide_code(cp: int) -> bool:
    if 0x4E00 <= cp <= 0x9FFF:  # the CJK ideographs: most such characters, asked first
        return True
    return any(first <= cp <= last for first, last in _SURELY_WIDE_RANGES)


#: texts up to this long (a printed line: 48 columns at most) are looked at character by character,
#: which spares compiling the class (~9 ms) in a process that only counts a line now and then (a CJK
#: receipt's columns are bounds, counted exactly for a line or two: see LineRun.exact)
_SHORT_TEXT: Final = 64


def surely_wide(text: str) -> bool:
    """Whether every non-ASCII character of ``text`` is in ``SURELY_WIDE`` (so ``only_wide`` holds, and
    each such character is in the BMP, at U+3000 or above)."""
    if len(text) <= _SHORT_TEXT:
        for ch in text:  # code points compared, natively (a str comparison is a generic call)
            cp = ord(ch)
            if cp >= 0x80 and not _surely_wide_code(cp):
                return False
        return True
    return _all_surely_wide().fullmatch(text) is not None


def only_wide(text: str) -> bool:
    """Whether every non-ASCII character of ``text`` is a wide one (typical of CJK text); then
    ``wide_text_cells`` counts the columns of it and of any part of it. Text whose characters are all
    ASCII or in the common CJK blocks is answered without the full classes (building them costs
    ~50 ms, once per process)."""
    if surely_wide(text):
        return True
    return _classes()[1].search(text) is None


def only_narrow(text: str) -> bool:
    """Whether no character of ``text`` is a wide one (typical of Latin, Greek, Cyrillic text): then its
    columns are its length."""
    return _classes()[0].search(text) is None and _BEYOND_BMP.search(text) is None


def wide_text_cells(text: str) -> int:
    """``cells`` of a text for which ``only_wide`` holds: two columns for each non-ASCII character."""
    return 2 * len(text) - len(text.encode("ascii", "ignore"))


def cells(text: str) -> int:
    """Columns a string takes on paper at normal width."""
    if text.isascii():
        return len(text)
    if only_wide(text):
        return wide_text_cells(text)
    n = len(text)
    for run in _NON_ASCII_RUN.findall(text):
        n += _extra_cells(run)
    return n
