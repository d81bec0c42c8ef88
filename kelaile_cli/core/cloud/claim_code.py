"""Claim codes: short, typeable codes that bind a box to a store (pure: the caller brings the randomness).

A code is eight symbols and a check symbol, shown as ``XXXX-XXXX-C``. The alphabet leaves out the
symbols people confuse when they read a work order aloud or type it (0/O, 1/I/L, U/V): 29 symbols, a
prime, so the check symbol — a position-weighted sum modulo 29 — catches every single wrong symbol
and every swap of two neighbours. Input is forgiving about case, spaces and dashes.
"""

from __future__ import annotations

import re

__all__ = ["ALPHABET", "BODY_LENGTH", "check_symbol", "format_code", "make_code", "normalise_code", "parse_ttl"]

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"  # no 0 O 1 I L U V
BODY_LENGTH = 8
_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def check_symbol(body: str) -> str:
    """The check symbol of a code body (symbols of ``ALPHABET``)."""
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def make_code(random_symbols: str) -> str:
    """A code (without dashes) from ``BODY_LENGTH`` random symbols of ``ALPHABET``."""
    if len(random_symbols) != BODY_LENGTH or any(ch not in ALPHABET for ch in random_symbols):
        raise ValueError(f"need {BODY_LENGTH} symbols of the claim-code alphabet")
    return random_symbols + check_symbol(random_symbols)


def format_code(code: str) -> str:
    """``ABCD2345K`` → ``ABCD-2345-K`` (how it is printed and read aloud)."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise_code(text: str) -> tuple[str | None, str | None]:
    """``(code, None)`` for a well-formed code typed any way, else ``(None, why)`` naming the problem."""
    raw = re.sub(r"[\s-]", "", text).upper()
    if len(raw) != BODY_LENGTH + 1:
        return None, f"a claim code has {BODY_LENGTH + 1} symbols (XXXX-XXXX-C), this one has {len(raw)}"
    bad = sorted({ch for ch in raw if ch not in ALPHABET})
    if bad:
        return None, f"{''.join(bad)!r} cannot occur in a claim code (it never uses 0 O 1 I L U V)"
    if check_symbol(raw[:BODY_LENGTH]) != raw[BODY_LENGTH]:
        return None, "its check symbol does not match: a symbol was mistyped"
    return raw, None


def parse_ttl(text: str) -> float | None:
    """``2h``, ``30m``, ``90s``, ``1d`` or plain seconds → seconds; None if unreadable or not positive."""
    match = _TTL.match(text)
    if match is None:
        return None
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    return seconds if seconds > 0 else None
