"""The provisioning ticket the box prints at the end of ``klx provision``: who, where, what, when, and a
QR whose URL tells the cloud that a phone could read it (pure ESC/POS composition)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from kelaile_cli.core.box.answers import compose_answer

__all__ = ["compose_ticket"]

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"


def compose_ticket(fields: Mapping[str, Any], qr_url: str, box_time: float, width: int = 42) -> bytes:
    """ESC/POS of the ticket: a heading, one line per field, the QR, a feed and a cut."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(box_time))
    lines = [
        f"Store   {fields.get('store') or '-'}",
        f"Box     {fields.get('serial') or '-'}",
        f"POS     {fields.get('profile') or 'unknown'}",
        f"Cloud   {fields.get('cloud') or '-'}",
        f"Time    {stamp}",
    ]
    out = bytearray(ESC + b"@" + ESC + b"a\x01" + ESC + b"E\x01" + b"KELAILE PROVISIONING" + LF + ESC + b"E\x00")
    out += ESC + b"a\x00"
    for line in lines:
        out += line[:width].encode("ascii", errors="replace") + LF
    out += compose_answer({"text": ["Scan to confirm this printer"], "qr": qr_url}, width=width)
    out += LF * 3 + GS + b"V\x01"
    return bytes(out)
