"""An online order as the box prints it on the shop's own printer: ESC/POS in the printer's width and code page.

The order comes from the cloud (a delivery platform's order: number, items with options, note, customer,
pick-up or delivery, totals). The ticket is a whole print job — it starts with ``ESC @`` and ends with a
cut — so it can only ever go between two POS jobs, never inside one. A kitchen copy leaves prices out and
prints the items large; the customer copy has prices, totals and a QR back to the order. Text the code page
cannot print becomes ``?`` rather than junk bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kelaile_cli.core.box.answers import qr_code

__all__ = ["COPIES", "compose_order_ticket", "text_width"]

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
COPIES = ("customer", "kitchen")
DOUBLE_BYTE = ("gb18030", "gbk", "gb2312", "big5", "cp950", "shift_jis", "cp932", "euc_kr", "cp949")


def text_width(text: str) -> int:
    """Columns ``text`` takes on a receipt printer: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        w = text_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def _row(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line, right aligned; ``left`` shortened if it must be."""
    left = _fit(left, max(1, width - text_width(right) - 1))
    return left + " " * max(1, width - text_width(left) - text_width(right)) + right


def _money(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    except (InvalidOperation, ValueError):
        return str(value)


def compose_order_ticket(
    order: Mapping[str, Any], *, width: int = 48, encoding: str | None = None, copy: str = "customer",
    qr_url: str | None = None,
) -> bytes:  # fmt: skip
    """The ESC/POS job for one copy (``customer`` or ``kitchen``) of ``order``."""
    if copy not in COPIES:
        raise ValueError(f"copy must be one of {COPIES}, not {copy!r}")
    codec = (encoding or "ascii").lower()
    kitchen = copy == "kitchen"
    double_byte = codec.replace("-", "_") in DOUBLE_BYTE

    def enc(text: str) -> bytes:
        return text.encode(codec, errors="replace")

    out = bytearray(ESC + b"@")
    if double_byte:
        out += b"\x1c&"  # FS &: the printer's double-byte (Kanji/GB/Big5) mode, as the POS uses it
    platform = str(order.get("platform") or "online")
    number = str(order.get("number") or order.get("order_id") or "")
    out += ESC + b"a\x01" + ESC + b"!\x30"  # centred, double height and width
    out += enc(f"{platform} #{number}") + LF
    out += ESC + b"!\x00"
    if kitchen:
        out += enc("KITCHEN") + LF
    pickup = order.get("pickup_code")
    if pickup:
        out += ESC + b"!\x30" + enc(str(pickup)) + ESC + b"!\x00" + LF
    out += enc(str(order.get("mode") or "delivery")) + LF
    out += ESC + b"a\x00" + enc("-" * width) + LF
    items: Sequence[Mapping[str, Any]] = order.get("items") or []
    for item in items:
        name, qty = str(item.get("name", "")), item.get("qty", 1)
        if kitchen:
            out += ESC + b"!\x10" + enc(_fit(f"{qty} x {name}", width // 2 * 2)) + ESC + b"!\x00" + LF
        else:
            out += enc(_row(f"{name} x{qty}", _money(item.get("amount", item.get("price", ""))), width)) + LF
        for option in item.get("options") or []:
            out += enc(_fit(f"  + {option}", width)) + LF
    out += enc("-" * width) + LF
    note = order.get("note")
    if note:
        out += ESC + b"E\x01" + enc(_fit(f"NOTE: {note}", width * 3)) + ESC + b"E\x00" + LF
    if not kitchen:
        for key, label in (("subtotal", "Subtotal"), ("fees", "Fees"), ("discount", "Discount"), ("total", "TOTAL")):
            if order.get(key) not in (None, ""):
                out += enc(_row(label, _money(order[key]), width)) + LF
        out += enc("PAID" if order.get("paid") else "NOT PAID - collect on delivery") + LF
        customer = " ".join(str(order[k]) for k in ("customer", "phone") if order.get(k))
        if customer:
            out += enc(_fit(customer, width)) + LF
    when = order.get("due") or order.get("created")
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")  # the shop's local time
    if when:
        out += enc(_fit(str(when), width)) + LF
    if qr_url and not kitchen:
        out += ESC + b"a\x01" + qr_code(qr_url.encode("utf-8")) + LF + ESC + b"a\x00"
    out += LF * 3 + GS + b"V\x01"  # feed past the cutter, partial cut
    return bytes(out)
