"""What the box prints from the cloud's answer: a few centred lines and a QR code, as ESC/POS.

The answer goes in before the receipt's cut (see ``cut_gate``). It must not disturb the printer's
state for the next receipt, so it sets only alignment and QR parameters and puts alignment back to
left. Text the receipt's code page cannot print is replaced with ``?`` rather than sent as junk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["compose_answer", "qr_code"]

GS, ESC, LF = b"\x1d", b"\x1b", b"\n"
MAX_QR = 700  # bytes of QR content a receipt printer stores reliably at model 2, level M


def qr_code(data: bytes, size: int = 6) -> bytes:
    """GS ( k: select model 2, module size, error level M, store the data, print it."""

    def fn(cn_fn: bytes, payload: bytes) -> bytes:
        n = len(cn_fn) + len(payload)
        return GS + b"(k" + bytes((n & 0xFF, n >> 8)) + cn_fn + payload

    return (
        fn(b"\x31\x41", b"\x32\x00")  # model 2
        + fn(b"\x31\x43", bytes((size,)))  # module size
        + fn(b"\x31\x45", b"\x31")  # error correction M
        + fn(b"\x31\x50", b"\x30" + data)  # store
        + fn(b"\x31\x51", b"\x30")  # print
    )


def compose_answer(answer: Mapping[str, Any], encoding: str | None = None, width: int = 48) -> bytes:
    """ESC/POS for ``{"text": [lines], "qr": payload}``; empty bytes for an empty answer."""
    lines: Sequence[str] = answer.get("text") or []
    qr = answer.get("qr") or ""
    if not lines and not qr:
        return b""
    codec = encoding or "ascii"
    out = bytearray(LF + ESC + b"a\x01")  # a blank line, centred
    for line in lines:
        out += line[: width * 2].encode(codec, errors="replace") + LF
    if qr:
        data = qr.encode("utf-8")[:MAX_QR]
        out += qr_code(data) + LF
    out += ESC + b"a\x00"  # back to left
    return bytes(out)
