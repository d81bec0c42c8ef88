"""A shift reconciliation as the cashier prints it on the shop's printer: one ESC/POS job per shift.

The input is one entry of ``klx insights``' reconciliation (``services/insights/reconcile.py``): the
shift report's period, per payment method what the report says (reported), what the box captured and
the difference, the receipt counts, and the receipts that explain a difference (refunds, receipts whose
checks failed). Each slip is a whole job — ``ESC @`` first, a cut last — so a printer (or a box) can
print it between POS jobs. Pure: no clock, no I/O; amounts are printed with two decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kelaile_cli.core.box.order_ticket import text_width

__all__ = ["compose_shift_slip", "compose_shift_slips"]

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
_DOUBLE_BYTE = ("gb18030", "gbk", "gb2312", "big5", "cp950", "shift_jis", "cp932", "euc_kr", "cp949")


def _money(value: Any) -> str:
    """``12.5`` → ``12.50``; ``None`` → ``-`` (nothing reported or captured for that method)."""
    if value is None:
        return "-"
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    except (InvalidOperation, ValueError):
        return str(value)


def _nonzero(value: Any) -> bool:
    try:
        return value is not None and Decimal(str(value)) != 0
    except (InvalidOperation, ValueError):
        return False


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "?" if value is None else str(value).replace("T", " ")[:16]


def _fit(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        used += text_width(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out)


def _columns(cells: Sequence[str], width: int, col: int | None = None) -> str:
    """The first cell left, the others right-aligned in columns of ``col`` (default: equal columns
    leaving the first about a quarter of ``width``)."""
    rest = len(cells) - 1
    if col is None:
        col = max(6, (width - max(8, width // 4)) // rest) if rest else 0
    first = _fit(cells[0], max(1, width - col * rest))
    line = first + " " * max(0, width - col * rest - text_width(first))
    for cell in cells[1:]:
        fitted = _fit(cell, col - 1)
        line += " " * (col - text_width(fitted)) + fitted
    return line


def compose_shift_slip(shift: Mapping[str, Any], *, width: int = 48, encoding: str | None = None) -> bytes:
    """The ESC/POS job for one shift's reconciliation, ``width`` columns wide in ``encoding``."""
    codec = (encoding or "ascii").lower()

    def enc(text: str) -> bytes:
        return text.encode(codec, errors="replace")

    out = bytearray(ESC + b"@")
    if codec.replace("-", "_") in _DOUBLE_BYTE:
        out += b"\x1c&"  # FS &: the printer's double-byte mode, as the POS uses it
    big = b"\x30" if width >= 2 * len("SHIFT RECONCILIATION") else b"\x10"  # double width only where it fits
    out += ESC + b"a\x01" + ESC + b"!" + big + enc("SHIFT RECONCILIATION") + LF + ESC + b"!\x00"
    title = f"{shift.get('profile') or ''} #{shift.get('number') or '?'}".strip()
    out += enc(_fit(title, width)) + LF
    if shift.get("store"):
        out += enc(_fit(f"store {shift['store']}", width)) + LF
    period = f"{_when(shift.get('start'))} -> {_when(shift.get('end'))}"
    if text_width(period) <= width:
        out += enc(period) + LF
    else:
        out += enc(_fit(f"from {_when(shift.get('start'))}", width)) + LF
        out += enc(_fit(f"to {_when(shift.get('end'))}", width)) + LF
    out += ESC + b"a\x00" + enc("-" * width) + LF
    wide = width >= 40
    heads = ["method", "reported", "captured", "diff"] if wide else ["method", "rep.", "capt.", "diff"]
    out += enc(_columns(heads, width)) + LF
    for line in shift.get("methods") or []:
        cells = [str(line.get("method")), _money(line.get("reported")), _money(line.get("captured"))]
        out += enc(_columns([*cells, _money(line.get("difference"))], width)) + LF
    out += enc("-" * width) + LF
    totals = ["TOTAL", _money(shift.get("reported_total")), _money(shift.get("captured_total"))]
    out += ESC + b"E\x01" + enc(_columns([*totals, _money(shift.get("difference"))], width)) + ESC + b"E\x00" + LF
    receipts = shift.get("receipts") or {}
    counts = f"receipts: reported {receipts.get('reported', '?')}, captured {receipts.get('captured', '?')}"
    if receipts.get("missing"):
        counts += f", missing {receipts['missing']}"
    out += enc(_fit(counts, width)) + LF
    explaining: Iterable[Mapping[str, Any]] = shift.get("explaining_receipts") or []
    explaining = list(explaining)
    if explaining:
        out += enc("explained by:") + LF
        for r in explaining:
            kind, why = str(r.get("kind") or ""), str(r.get("why") or "")
            left = f"{r.get('order_no') or '?'} {_when(r.get('ts'))[11:]} {kind}" + (f": {why}" if why != kind else "")
            out += enc(_columns([left, _money(r.get("total"))], width, col=12)) + LF
    elif _nonzero(shift.get("difference")):
        out += enc(_fit("no captured receipt explains the difference", width)) + LF
    out += LF * 3 + GS + b"V\x01"  # feed past the cutter, partial cut
    return bytes(out)


def compose_shift_slips(shifts: Iterable[Mapping[str, Any]], *, width: int = 48, encoding: str | None = None) -> bytes:
    """One slip per shift, one after the other (each a whole job with its own cut)."""
    return b"".join(compose_shift_slip(s, width=width, encoding=encoding) for s in shifts)
