"""Currencies on receipts: which one a receipt uses and how many decimal places its amounts have.

Facts, not guesses where they exist: the minor units are ISO 4217's (KRW, JPY, VND print whole
amounts; TWD is officially 2 but every till prints whole dollars, so it is listed as printed). A
receipt's own amounts decide in the end: a draft whose samples print no decimals reads whole amounts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from decimal import Decimal

__all__ = ["CURRENCY_DECIMALS", "currency_from_text", "format_amount"]

CURRENCY_DECIMALS: dict[str, int] = {
    "CNY": 2, "TWD": 0, "HKD": 2, "JPY": 0, "KRW": 0, "VND": 0, "THB": 2, "RUB": 2, "EUR": 2, "GBP": 2,
    "USD": 2, "CHF": 2, "CAD": 2, "AUD": 2, "SGD": 2, "MYR": 2, "BRL": 2, "IDR": 0, "CLP": 0, "ISK": 0,
}  # fmt: skip
# Marks printed on receipts -> currency; a mark several currencies use (¥, $) is only read with a language hint.
_MARKS: list[tuple[str, str]] = [
    ("NT$", "TWD"), ("HK$", "HKD"), ("₩", "KRW"), ("원", "KRW"), ("円", "JPY"), ("€", "EUR"), ("£", "GBP"),
    ("₫", "VND"), ("฿", "THB"), ("₽", "RUB"), ("руб", "RUB"), ("R$", "BRL"), ("CHF", "CHF"), ("Fr.", "CHF"),
    ("EUR", "EUR"), ("USD", "USD"), ("GBP", "GBP"), ("RMB", "CNY"), ("元", "CNY"),
]  # fmt: skip
_YEN_SIGNS = ("¥", "￥")
_AFTER_FIGURES = {"원", "円", "元", "руб"}


def currency_from_text(texts: Sequence[str], language_default: str | None) -> str | None:
    """The currency the receipts print a mark of (most receipts first), else the language's usual one."""
    counts: dict[str, int] = {}
    for code_mark, code in _MARKS:
        if code_mark.isascii() and code_mark.isalpha():
            rx = re.compile(rf"(?<![A-Za-z]){re.escape(code_mark)}(?![A-Za-z])")
        elif code_mark in _AFTER_FIGURES:  # '원' is also in 회원 (member): only '7,000원' counts
            rx = re.compile(rf"\d\s?{code_mark}")
        else:
            rx = re.compile(re.escape(code_mark))
        n = sum(1 for t in texts if rx.search(t))
        if n:
            counts[code] = max(counts.get(code, 0), n)
    if any(sign in t for t in texts for sign in _YEN_SIGNS):  # ¥ is yen in Japan, yuan in China
        yen = "JPY" if language_default == "JPY" else "CNY"
        counts[yen] = max(counts.get(yen, 0), 1)
    if not counts:
        return language_default
    if language_default in counts:
        return language_default
    return max(counts, key=lambda c: counts[c])


def format_amount(value: Decimal, places: int | None) -> str:
    """An amount as klx reports it: ``places`` decimals (2 when None), more only when the value has them."""
    digits = 2 if places is None else places
    step = Decimal(1).scaleb(-digits)
    if value == value.quantize(step):
        return f"{value:.{digits}f}"
    return str(value)
