"""Star line mode: the other big receipt-printer dialect, decoded into the same events as ESC/POS.

Star reuses ESC with different meanings (``ESC d n`` cuts, ``ESC a n`` feeds, ``ESC E``/``ESC F`` are
bold on/off), so a stream must be identified first (see ``dialect.py``). Covered: styles, alignment,
expansion, feeds, cuts, code page, drawer, buzzer, QR and 1-D barcodes; other commands get their
length right and become ``setting`` events.
"""

from __future__ import annotations

from typing import Any

from kelaile_cli.core.escpos.commands import scanned_value
from kelaile_cli.core.escpos.decoder import TableDecoder
from kelaile_cli.core.escpos.table import NEED, LengthRule, Spec, Table, after_u16, fixed, terminated

__all__ = ["STAR", "StarDecoder"]

STAR_BARCODES = {0: "UPC-E", 1: "UPC-A", 2: "EAN8", 3: "EAN13", 4: "CODE39", 5: "ITF", 6: "CODE128",
                 7: "CODE93", 8: "CODABAR"}  # fmt: skip


def _d(n: int) -> int:
    return n - 48 if 48 <= n <= 57 else n


def _qr_store_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """ESC GS y D 1 m nL nH d…"""
    if end < pos + 8:
        return NEED
    return 8 + buf[pos + 6] + (buf[pos + 7] << 8)


def _band_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """ESC k n1 n2 d…: a band of 24 raster rows, n1 + 256 * n2 bytes each."""
    if end < pos + 4:
        return NEED
    return 4 + (buf[pos + 2] | buf[pos + 3] << 8) * 24


def _band(raw: bytes) -> dict[str, Any]:
    row = raw[2] | raw[3] << 8
    return {"width": row * 8, "height": 24, "bitmap": raw[4:], "source": "ESC k", "scale_x": 1, "scale_y": 1}


def _raster_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """StarPRNT ESC GS S m xL xH yL yH n d…: y rows of x bytes."""
    if end < pos + 9:
        return NEED
    return 9 + (buf[pos + 4] | buf[pos + 5] << 8) * (buf[pos + 6] | buf[pos + 7] << 8)


def _raster(raw: bytes) -> dict[str, Any]:
    row, rows = raw[4] | raw[5] << 8, raw[6] | raw[7] << 8
    return {"width": row * 8, "height": rows, "bitmap": raw[9:], "source": "ESC GS S", "scale_x": 1, "scale_y": 1}


def _barcode(raw: bytes) -> dict[str, Any]:
    data = raw[6:-1]
    sym = STAR_BARCODES.get(_d(raw[2]), f"type {raw[2]}")
    params: dict[str, Any] = {"symbology": sym, "data": data}
    text, how = scanned_value(sym, data)
    if how is not None:
        params["text"], params["check_digit"] = text, how
    return params


def _cut(raw: bytes) -> dict[str, Any]:
    return {"partial": _d(raw[2]) in (1, 3), "feed": None}


def _build() -> Table:
    s: dict[bytes, Spec] = {}

    def add(key: bytes, name: str, op: str, length: LengthRule, params: Any = None) -> None:
        s[key] = Spec(name, op, length, params) if params else Spec(name, op, length)

    def setting(key: bytes, name: str, n: int) -> None:
        add(key, name, "setting", fixed(n), lambda raw, _n=name: {"name": _n})

    e = b"\x1b"
    add(b"\n", "LF", "lf", fixed(0))
    add(b"\r", "CR", "cr", fixed(0))
    add(b"\t", "HT", "ht", fixed(0))
    add(b"\x0c", "FF", "ff", fixed(0))
    add(b"\x18", "CAN", "setting", fixed(0), lambda r: {"name": "cancel"})
    add(b"\x07", "BEL", "drawer", fixed(0), lambda r: {"pin": 2, "on_ms": None, "off_ms": None})
    add(b"\x1c", "FS", "drawer", fixed(0), lambda r: {"pin": 2, "on_ms": None, "off_ms": None})
    add(b"\x1a", "SUB", "drawer", fixed(0), lambda r: {"pin": 5, "on_ms": None, "off_ms": None})
    add(b"\x19", "EM", "drawer", fixed(0), lambda r: {"pin": 5, "on_ms": None, "off_ms": None})
    add(e + b"@", "ESC @", "init", fixed(0))
    add(b"\x0f", "SI", "upside_down", fixed(0), lambda r: {"on": True})
    add(b"\x12", "DC2", "upside_down", fixed(0), lambda r: {"on": False})
    add(e + b"$", "ESC $", "cjk_code_system", fixed(1), lambda r: {"n": 1 if _d(r[2]) == 1 else 0})
    add(e + b"\x1dS", "ESC GS S", "image", _raster_len, _raster)
    add(e + b"k", "ESC k", "image", _band_len, _band)
    add(e + b"\x1d\x03", "ESC GS ETX", "setting", fixed(3), lambda r: {"name": "document control"})
    add(b"\x04", "EOT", "setting", fixed(0), lambda r: {"name": "end of transmission"})
    add(e + b" ", "ESC SP", "char_spacing", fixed(1), lambda r: {"dots": _d(r[2])})
    add(e + b"s", "ESC s", "setting", fixed(2), lambda r: {"name": "character spacing"})
    add(e + b"\x1dA", "ESC GS A", "position", fixed(2), lambda r: {"dots": r[3] | r[4] << 8, "relative": False})
    add(e + b"\x1dR", "ESC GS R", "position", fixed(2), lambda r: {"dots": r[3] | r[4] << 8, "relative": True})
    add(e + b"E", "ESC E", "bold", fixed(0), lambda r: {"on": True})
    add(e + b"F", "ESC F", "bold", fixed(0), lambda r: {"on": False})
    add(e + b"-", "ESC -", "underline", fixed(1), lambda r: {"weight": min(1, _d(r[2]))})
    add(e + b"4", "ESC 4", "reverse", fixed(0), lambda r: {"on": True})
    add(e + b"5", "ESC 5", "reverse", fixed(0), lambda r: {"on": False})
    add(e + b"i", "ESC i", "char_size", fixed(2), lambda r: {"height": _d(r[2]) + 1, "width": _d(r[3]) + 1})
    add(e + b"W", "ESC W", "setting", fixed(1), lambda r: {"name": "width expansion"})
    add(e + b"h", "ESC h", "setting", fixed(1), lambda r: {"name": "height expansion"})
    add(e + b"a", "ESC a", "feed_lines", fixed(1), lambda r: {"n": r[2]})
    add(e + b"d", "ESC d", "cut", fixed(1), _cut)
    add(e + b"z", "ESC z", "line_spacing", fixed(1), lambda r: {"dots": None})
    add(e + b"0", "ESC 0", "line_spacing", fixed(0), lambda r: {"dots": 24})
    add(e + b"1", "ESC 1", "line_spacing", fixed(0), lambda r: {"dots": None})
    add(e + b"2", "ESC 2", "line_spacing", fixed(0), lambda r: {"dots": None})
    add(e + b"A", "ESC A", "line_spacing", fixed(1), lambda r: {"dots": None})
    add(e + b"3", "ESC 3", "line_spacing", fixed(1), lambda r: {"dots": r[2] * 2})
    add(e + b"J", "ESC J", "feed_dots", fixed(1), lambda r: {"dots": r[2]})
    add(e + b"I", "ESC I", "feed_dots", fixed(1), lambda r: {"dots": r[2]})
    add(e + b"l", "ESC l", "left_margin", fixed(1), lambda r: {"dots": r[2]})
    add(e + b"Q", "ESC Q", "print_width", fixed(1), lambda r: {"dots": r[2]})
    add(e + b"D", "ESC D", "tab_stops", terminated(0x00, 32), lambda r: {"stops": list(r[2:-1])})
    add(e + b"R", "ESC R", "intl_charset", fixed(1), lambda r: {"n": r[2]})
    add(e + b"\x07", "ESC BEL", "setting", fixed(2), lambda r: {"name": "drawer pulse"})
    add(e + b"b", "ESC b", "barcode", terminated(0x1E, 255, skip=4), _barcode)
    setting(e + b"M", "ESC M", 0)
    setting(e + b"P", "ESC P", 0)
    setting(e + b":", "ESC :", 0)
    setting(e + b"p", "ESC p", 1)
    setting(e + b"U", "ESC U", 1)
    setting(e + b"x", "ESC x", 1)
    setting(e + b"\x1e" + b"a", "ESC RS a", 1)
    setting(e + b"\x1e" + b"F", "ESC RS F", 1)
    setting(e + b"\x1e" + b"E", "ESC RS E", 1)
    add(e + b"\x1e" + b"C", "ESC RS C", "setting", fixed(1), lambda r: {"name": "ESC RS C"})
    add(e + b"\x1d" + b"a", "ESC GS a", "align",
        fixed(1), lambda r: {"align": {0: "left", 1: "center", 2: "right"}.get(_d(r[3]), "left")})  # fmt: skip
    add(e + b"\x1d" + b"t", "ESC GS t", "codepage", fixed(1), lambda r: {"n": r[3], "star": True})
    add(e + b"\x1dyS0", "ESC GS y S 0", "code2d_setting", fixed(1),
        lambda r: {"symbology": "QR", "fn": 65, "value": r[5:]})  # fmt: skip
    add(e + b"\x1dyS1", "ESC GS y S 1", "code2d_setting", fixed(1),
        lambda r: {"symbology": "QR", "fn": 69, "value": r[5:]})  # fmt: skip
    add(e + b"\x1dyS2", "ESC GS y S 2", "code2d_setting", fixed(1),
        lambda r: {"symbology": "QR", "fn": 67, "value": r[5:]})  # fmt: skip
    add(e + b"\x1dyD1", "ESC GS y D 1", "code2d_store", _qr_store_len,
        lambda r: {"symbology": "QR", "data": r[8:]})  # fmt: skip
    add(e + b"\x1dyP", "ESC GS y P", "code2d_print", fixed(0), lambda r: {"symbology": "QR"})
    add(e + b"\x1dyI", "ESC GS y I", "status_query", fixed(0), lambda r: {"kind": "QR info"})
    # PDF417: S 0 n p1 p2 size (n: 0 by ratio, 1 by lines and columns), S 1 n error level, S 2 n module
    # width, S 3 n aspect ratio; D nL nH d… data; P print; I size information
    add(e + b"\x1dxS0", "ESC GS x S 0", "code2d_setting", fixed(3),
        lambda r: {"symbology": "PDF417", "fn": 0, "value": r[5:]})  # fmt: skip
    for n in b"123":
        add(e + b"\x1dxS" + bytes([n]), f"ESC GS x S {chr(n)}", "code2d_setting", fixed(1),
            lambda r: {"symbology": "PDF417", "fn": r[4] - 48, "value": r[5:]})  # fmt: skip
    add(e + b"\x1dxD", "ESC GS x D", "code2d_store", after_u16(),
        lambda r: {"symbology": "PDF417", "data": r[6:]})  # fmt: skip
    add(e + b"\x1dxP", "ESC GS x P", "code2d_print", fixed(0), lambda r: {"symbology": "PDF417"})
    add(e + b"\x1dxI", "ESC GS x I", "status_query", fixed(0), lambda r: {"kind": "PDF417 info"})
    add(e + b"\x06\x01", "ESC ACK SOH", "status_query", fixed(0), lambda r: {"kind": "automatic status"})
    add(e + b"*rA", "ESC * r A", "setting", fixed(0), lambda r: {"name": "enter raster mode"})
    add(e + b"*rB", "ESC * r B", "setting", fixed(0), lambda r: {"name": "exit raster mode"})
    return Table(s, {}, {0x1B: "ESC", 0x1D: "GS", 0x1E: "RS"})


STAR = _build()


class StarDecoder(TableDecoder):
    """Star line mode."""

    def __init__(self, offset: int = 0) -> None:
        super().__init__(STAR, offset)
