"""The ESC/POS command table: every command's bytes, length rule, meaning and parameters.

Lengths follow the Epson ESC/POS command reference. Getting a length wrong derails everything after
it, so each rule is exact; commands we do not model in detail still get their exact length so that
the text after them decodes.
"""

from __future__ import annotations

from typing import Any

from kelaile_cli.core.escpos.table import (
    BAD,
    NEED,
    LengthRule,
    Spec,
    Table,
    after_u16,
    after_u32,
    fixed,
    terminated,
)

__all__ = ["BARCODE_SYMBOLOGIES", "ESCPOS", "check_digit", "code128_text", "column_to_rows", "scanned_value"]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

BARCODE_SYMBOLOGIES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
    65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
    72: "CODE93", 73: "CODE128", 74: "GS1-128", 75: "GS1 DATABAR OMNI", 76: "GS1 DATABAR TRUNCATED",
    77: "GS1 DATABAR LIMITED", 78: "GS1 DATABAR EXPANDED", 79: "CODE128 AUTO",
}  # fmt: skip

CODE2D = {48: "PDF417", 49: "QR", 50: "MAXICODE", 51: "GS1 DATABAR", 52: "COMPOSITE", 53: "AZTEC",
          54: "DATAMATRIX"}  # fmt: skip

STATUS_KINDS = {
    (DLE, 0x04): {1: "printer status", 2: "offline status", 3: "error status", 4: "paper status",
                  7: "ink status", 8: "peripheral status"},
    (DLE, 0x05): {1: "recover from error", 2: "clear buffers and recover", 3: "release error", 4: "ink"},
    (GS, ord("r")): {1: "paper sensor status", 2: "drawer status", 4: "ink status",
                     49: "paper sensor status", 50: "drawer status", 52: "ink status"},
    (GS, ord("I")): {1: "printer model id", 2: "type id", 3: "firmware version", 65: "firmware version",
                     66: "maker name", 67: "model name", 68: "serial number", 69: "font language"},
}  # fmt: skip


def _n(raw: bytes, i: int = -1) -> int:
    return raw[i]


def _bit(n: int) -> bool:
    return bool(n & 1)


def _digit(n: int) -> int:
    """Arguments given either as 0,1,2 or as ASCII '0','1','2'."""
    return n - 48 if 48 <= n <= 57 else n


def _u16(raw: bytes, i: int) -> int:
    return raw[i] | (raw[i + 1] << 8)


def _spec(name: str, op: str, length: LengthRule, params: Any = None) -> Spec:
    return Spec(name, op, length, params) if params else Spec(name, op, length)


# -- parameter parsers -----------------------------------------------------------------------------
def _print_mode(raw: bytes) -> dict[str, Any]:
    n = raw[2]
    return {
        "font": "B" if n & 0x01 else "A",
        "bold": bool(n & 0x08),
        "double_height": bool(n & 0x10),
        "double_width": bool(n & 0x20),
        "underline": bool(n & 0x80),
    }


def _char_size(raw: bytes) -> dict[str, Any]:
    n = raw[2]
    return {"width": ((n >> 4) & 7) + 1, "height": (n & 7) + 1}


def _align(raw: bytes) -> dict[str, Any]:
    return {"align": {0: "left", 1: "center", 2: "right"}.get(_digit(raw[2]), "left")}


def _font(raw: bytes) -> dict[str, Any]:
    return {"font": {0: "A", 1: "B", 2: "C"}.get(_digit(raw[2]), "A")}


def _underline(raw: bytes) -> dict[str, Any]:
    return {"weight": min(2, _digit(raw[-1]))}


def _raster(raw: bytes) -> dict[str, Any]:
    """GS v 0 m xL xH yL yH d…"""
    m = _digit(raw[3])
    xb, y = _u16(raw, 4), _u16(raw, 6)
    return {
        "width": xb * 8,
        "height": y,
        "bitmap": raw[8:],
        "source": "GS v 0",
        "scale_x": 2 if m in (1, 3) else 1,
        "scale_y": 2 if m in (2, 3) else 1,
    }


def _raster_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 8:
        return NEED
    return 8 + _u16(buf, pos + 4) * _u16(buf, pos + 6)


def column_to_rows(data: bytes, columns: int, dots: int) -> bytes:
    """ESC * column data (``dots`` 8 or 24 per column, MSB at the top) as row-major 1 bpp rows."""
    per_col = dots // 8
    row_bytes = (columns + 7) // 8
    rows = bytearray(row_bytes * dots)
    for x in range(columns):
        mask = 0x80 >> (x % 8)
        xb = x // 8
        col = data[x * per_col : (x + 1) * per_col]
        for k, byte in enumerate(col):
            if not byte:
                continue
            for bit in range(8):
                if byte & (0x80 >> bit):
                    rows[(k * 8 + bit) * row_bytes + xb] |= mask
    return bytes(rows)


def _column_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 5:
        return NEED
    m = buf[pos + 2]
    per_col = {0: 1, 1: 1, 32: 3, 33: 3}.get(m)
    if per_col is None:
        return BAD
    return 5 + per_col * _u16(buf, pos + 3)


def _column(raw: bytes) -> dict[str, Any]:
    m = raw[2]
    n = _u16(raw, 3)
    dots = 24 if m >= 32 else 8
    return {
        "width": n,
        "height": dots,
        "bitmap": column_to_rows(raw[5:], n, dots),
        "source": "ESC *",
        "scale_x": 2 if m in (0, 32) else 1,
        "scale_y": 3 if m in (0, 1) else 1,
    }


def code128_text(data: bytes) -> str:
    """CODE128 content without its code-set markers ({A {B {C); set C pairs become two digits."""
    out: list[str] = []
    code_set = "B"
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x7B and i + 1 < len(data):  # '{'
            nxt = chr(data[i + 1])
            if nxt in "ABC":
                code_set = nxt
            elif nxt == "{":
                out.append("{")
            i += 2
            continue
        out.append(f"{b:02d}" if code_set == "C" else chr(b))
        i += 1
    return "".join(out)


#: GS k format A (m 0..6) data ends at NUL; when a program leaves the NUL out (printers accept it)
#: it ends at the next control byte (LF, ESC, GS…), which no symbology of format A can hold.

#: EAN/UPC: digits sent without the check digit -> the symbology's full length
_CHECKED_LENGTHS = {"UPC-A": 12, "EAN13": 13, "EAN8": 8}


def _barcode_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 3:
        return NEED
    m = buf[pos + 2]
    if m <= 6:
        at = pos + 3
        limit = min(end, at + 256)
        while at < limit and buf[at] >= 0x20:
            at += 1
        if at == end:
            return NEED  # the data may go on in the next chunk
        if at == limit:
            return BAD
        return at - pos + 1 if buf[at] == 0 else at - pos
    if 65 <= m <= 79:
        if end < pos + 4:
            return NEED
        return 4 + buf[pos + 3]
    return BAD


def check_digit(digits: str) -> int:
    """The EAN/UPC (GS1 mod 10) check digit of ``digits`` (the payload without it)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def scanned_value(symbology: str, data: bytes) -> tuple[str, str | None]:
    """(what a scanner reads, how its check digit came: 'computed' | 'sent' | 'wrong' | None)."""
    text = data.decode("latin-1")
    full = _CHECKED_LENGTHS.get(symbology)
    if full is None or not text.isdigit():
        return text, None
    if len(text) == full - 1:
        return text + str(check_digit(text)), "computed"
    if len(text) == full:
        return text, "sent" if check_digit(text[:-1]) == int(text[-1]) else "wrong"
    return text, None


def _barcode(raw: bytes) -> dict[str, Any]:
    m = raw[2]
    end = len(raw) - 1 if raw[-1] == 0 else len(raw)  # format A: NUL-terminated, or not
    data = raw[4:] if m > 6 else raw[3:end]
    sym = BARCODE_SYMBOLOGIES.get(m, f"type {m}")
    params: dict[str, Any] = {"symbology": sym, "data": data}
    if m in (73, 74):
        params["text"] = code128_text(data)
    else:
        text, how = scanned_value(sym, data)
        if how is not None:
            params["text"], params["check_digit"] = text, how
    return params


def _code2d(raw: bytes) -> dict[str, Any]:
    """GS ( k pL pH cn fn …"""
    if len(raw) < 7:
        raise ValueError("GS ( k too short")
    cn, fn = raw[5], raw[6]
    sym = CODE2D.get(cn, f"2D {cn}")
    op = {80: "code2d_store", 81: "code2d_print"}.get(fn, "code2d_setting")
    return {"op": op, "symbology": sym, "fn": fn, "value": raw[7:], "data": raw[8:]}


def _graphics(raw: bytes, header: int) -> dict[str, Any]:
    """GS ( L / GS 8 L body: m fn …; ``header`` = bytes before m."""
    body = raw[header:]
    fn = body[1]
    params: dict[str, Any] = {"fn": fn}
    if fn in (112, 113) and len(body) >= 10:  # store graphics in the print buffer: a bx by c xL xH yL yH
        bx, by = body[3], body[4]
        width, height = _u16(body, 6), _u16(body, 8)
        data = body[10:]
        if fn == 113:  # column format: 8 dots per byte vertically, then columns
            data = _columns_vertical(data, width, height)
        params.update(width=width, height=height, bitmap=bytes(data), scale_x=bx, scale_y=by)
    elif fn == 67 and len(body) >= 11:  # define NV graphics (raster): a kc1 kc2 b xL xH yL yH c d…
        params.update(
            key=f"{chr(body[3])}{chr(body[4])}",
            width=_u16(body, 6),
            height=_u16(body, 8),
            bitmap=bytes(body[11:]),
        )
    elif fn in (69, 85) and len(body) >= 4:  # print NV / download graphics: kc1 kc2 …
        params["key"] = f"{chr(body[2])}{chr(body[3])}"
    return params


def _columns_vertical(data: bytes, width: int, height: int) -> bytes:
    rows_of_bytes = (height + 7) // 8
    col_major = bytearray()
    # GS ( L fn 113 sends data column by column, each column (height+7)//8 bytes
    for x in range(width):
        col_major += data[x * rows_of_bytes : (x + 1) * rows_of_bytes]
    full = column_to_rows(bytes(col_major), width, rows_of_bytes * 8)
    return full[: ((width + 7) // 8) * height]


_GRAPHIC_OPS = {112: "graphics_store", 113: "graphics_store", 50: "graphics_print", 2: "graphics_print",
                67: "nv_define", 68: "nv_define", 69: "logo", 83: "nv_define", 85: "logo"}  # fmt: skip


def _graphics_u16(raw: bytes) -> dict[str, Any]:
    params = _graphics(raw, 5)
    params["op"] = _GRAPHIC_OPS.get(params["fn"], "setting")
    return params


def _graphics_u32(raw: bytes) -> dict[str, Any]:
    params = _graphics(raw, 7)
    params["op"] = _GRAPHIC_OPS.get(params["fn"], "setting")
    return params


def _user_chars_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """ESC & y c1 c2 [x d1…d(y*x)]…"""
    if end < pos + 5:
        return NEED
    y, c1, c2 = buf[pos + 2], buf[pos + 3], buf[pos + 4]
    if c2 < c1 or y == 0 or y > 3:
        return BAD
    at = pos + 5
    for _ in range(c2 - c1 + 1):
        if end < at + 1:
            return NEED
        at += 1 + y * buf[at]
    return at - pos


def _user_chars(raw: bytes) -> dict[str, Any]:
    """ESC & y c1 c2 [x d…]…: params glyphs {code: (width, height, row-major bitmap)}."""
    y, c1, c2 = raw[2], raw[3], raw[4]
    glyphs: dict[int, tuple[int, int, bytes]] = {}
    at = 5
    for code in range(c1, c2 + 1):
        x = raw[at]
        data = raw[at + 1 : at + 1 + x * y]
        glyphs[code] = (x, y * 8, column_to_rows(data, x, y * 8) if x else b"")
        at += 1 + x * y
    return {"action": "define", "glyphs": glyphs}


def _nv_define_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """FS q n [xL xH yL yH d1…dk]…, k = x * y * 8."""
    if end < pos + 3:
        return NEED
    at = pos + 3
    for _ in range(buf[pos + 2]):
        if end < at + 4:
            return NEED
        at += 4 + _u16(buf, at) * _u16(buf, at + 2) * 8
    return at - pos


def _nv_define(raw: bytes) -> dict[str, Any]:
    images: dict[str, dict[str, Any]] = {}
    at = 3
    for i in range(raw[2]):
        xb, yb = _u16(raw, at), _u16(raw, at + 2)
        columns, dots = xb * 8, yb * 8
        data = raw[at + 4 : at + 4 + xb * yb * 8]
        images[str(i + 1)] = {"width": columns, "height": dots, "bitmap": column_to_rows(data, columns, dots)}
        at += 4 + xb * yb * 8
    return {"images": images}


def _download_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    """GS * x y d1…d(x*y*8)"""
    if end < pos + 4:
        return NEED
    return 4 + buf[pos + 2] * buf[pos + 3] * 8


def _download(raw: bytes) -> dict[str, Any]:
    x, y = raw[2], raw[3]
    columns, dots = x * 8, y * 8
    return {"key": "download", "width": columns, "height": dots,
            "bitmap": column_to_rows(raw[4:], columns, dots)}  # fmt: skip


def _dle_dc4_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 3:
        return NEED
    return {1: 5, 2: 5, 3: 8, 7: 4, 8: 10}.get(buf[pos + 2], 5)


def _dle_dc4(raw: bytes) -> dict[str, Any]:
    fn = raw[2]
    if fn == 1:
        return {"op": "drawer", "pin": 5 if _digit(raw[3]) == 1 else 2, "on_ms": raw[4] * 100, "off_ms": None}
    if fn == 7:
        return {"op": "status_query", "kind": "transmit status"}
    return {"op": "setting", "name": f"DLE DC4 {fn}"}


def _dle_eot_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 3:
        return NEED
    return 4 if buf[pos + 2] in (7, 8) else 3


def _status(raw: bytes) -> dict[str, Any]:
    kinds = STATUS_KINDS.get((raw[0], raw[1]), {})
    n = raw[2] if len(raw) > 2 else 0
    return {"kind": kinds.get(n, f"{_mnemonic(raw[:2])} {n}")}


def _mnemonic(prefix: bytes) -> str:
    names = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}
    return " ".join([names.get(prefix[0], f"0x{prefix[0]:02X}"), *(chr(b) for b in prefix[1:])])


def _cut_len(buf: bytes, pos: int, end: int, plen: int) -> int:
    if end < pos + 3:
        return NEED
    m = buf[pos + 2]
    if m in (0, 1, 48, 49):
        return 3
    if m in (65, 66, 97, 98, 103, 104):
        return 4
    return BAD


def _cut(raw: bytes) -> dict[str, Any]:
    m = raw[2]
    return {"partial": m in (1, 49, 66, 98, 104), "feed": raw[3] if len(raw) > 3 else None}


def _page_area(raw: bytes) -> dict[str, Any]:
    """ESC W xL xH yL yH dxL dxH dyL dyH: the page-mode print area, in dots."""
    return {"action": "area", "x": _u16(raw, 2), "y": _u16(raw, 4), "width": _u16(raw, 6), "height": _u16(raw, 8)}


def _drawer(raw: bytes) -> dict[str, Any]:
    return {"pin": 5 if _digit(raw[2]) == 1 else 2, "on_ms": raw[3] * 2, "off_ms": raw[4] * 2}


def _tabs(raw: bytes) -> dict[str, Any]:
    return {"stops": list(raw[2:-1])}


# -- the table --------------------------------------------------------------------------------------
def _build() -> Table:
    s: dict[bytes, Spec] = {}

    def add(key: bytes, name: str, op: str, length: LengthRule, params: Any = None) -> None:
        s[key] = _spec(name, op, length, params)

    def one(key: bytes, name: str, op: str, params: Any = None) -> None:
        add(key, name, op, fixed(0), params)

    def arg(key: bytes, name: str, op: str, params: Any = None, n: int = 1) -> None:
        add(key, name, op, fixed(n), params)

    def setting(key: bytes, name: str, n: int = 1) -> None:
        arg(key, name, "setting", lambda raw, _name=name: {"name": _name}, n)

    # single bytes
    one(b"\n", "LF", "lf")
    one(b"\r", "CR", "cr")
    one(b"\t", "HT", "ht")
    one(b"\x0c", "FF", "ff")
    one(b"\x18", "CAN", "page_mode", lambda r: {"action": "cancel"})

    e = b"\x1b"
    one(e + b"@", "ESC @", "init")
    arg(e + b"!", "ESC !", "print_mode", _print_mode)
    arg(e + b"E", "ESC E", "bold", lambda r: {"on": _bit(r[2])})
    arg(e + b"G", "ESC G", "bold", lambda r: {"on": _bit(r[2])})
    arg(e + b"-", "ESC -", "underline", _underline)
    arg(e + b"a", "ESC a", "align", _align)
    arg(e + b"M", "ESC M", "font", _font)
    arg(e + b"V", "ESC V", "rotate", lambda r: {"on": _digit(r[2]) in (1, 2)})
    arg(e + b"{", "ESC {", "upside_down", lambda r: {"on": _bit(r[2])})
    arg(e + b"t", "ESC t", "codepage", lambda r: {"n": r[2]})
    arg(e + b"R", "ESC R", "intl_charset", lambda r: {"n": r[2]})
    one(e + b"2", "ESC 2", "line_spacing", lambda r: {"dots": None})
    arg(e + b"3", "ESC 3", "line_spacing", lambda r: {"dots": r[2]})
    arg(e + b" ", "ESC SP", "char_spacing", lambda r: {"dots": r[2]})
    arg(e + b"$", "ESC $", "position", lambda r: {"dots": _u16(r, 2), "relative": False}, 2)
    arg(e + b"\\", "ESC \\", "position", lambda r: {"dots": _u16(r, 2), "relative": True}, 2)
    add(e + b"D", "ESC D", "tab_stops", terminated(0x00, 32), _tabs)
    arg(e + b"d", "ESC d", "feed_lines", lambda r: {"n": r[2]})
    arg(e + b"J", "ESC J", "feed_dots", lambda r: {"dots": r[2]})
    arg(e + b"K", "ESC K", "reverse_feed", lambda r: {"n": r[2]})
    arg(e + b"e", "ESC e", "reverse_feed", lambda r: {"n": r[2]})
    one(e + b"i", "ESC i", "cut", lambda r: {"partial": True, "feed": None})
    one(e + b"m", "ESC m", "cut", lambda r: {"partial": True, "feed": None})
    arg(e + b"p", "ESC p", "drawer", _drawer, 3)
    add(e + b"*", "ESC *", "image", _column_len, _column)
    add(e + b"&", "ESC &", "user_chars", _user_chars_len, _user_chars)
    arg(e + b"%", "ESC %", "user_chars", lambda r: {"action": "select", "on": _bit(r[2])})
    arg(e + b"?", "ESC ?", "user_chars", lambda r: {"action": "cancel", "code": r[2]})
    arg(e + b"=", "ESC =", "peripheral")
    one(e + b"L", "ESC L", "page_mode", lambda r: {"action": "enter"})
    one(e + b"S", "ESC S", "page_mode", lambda r: {"action": "standard"})
    one(e + b"\x0c", "ESC FF", "page_mode", lambda r: {"action": "print"})
    arg(e + b"T", "ESC T", "page_mode", lambda r: {"action": "direction", "n": _digit(r[2]) & 3})
    arg(e + b"W", "ESC W", "page_mode", _page_area, n=8)
    one(e + b"<", "ESC <", "setting", lambda r: {"name": "return home"})
    setting(e + b"U", "ESC U")
    setting(e + b"r", "ESC r")
    one(e + b"v", "ESC v", "status_query", lambda r: {"kind": "paper sensor status"})
    arg(e + b"u", "ESC u", "status_query", lambda r: {"kind": "peripheral status"})
    arg(e + b"c3", "ESC c 3", "paper_sensor")
    arg(e + b"c4", "ESC c 4", "paper_sensor")
    arg(e + b"c5", "ESC c 5", "panel_buttons")
    arg(e + b"B", "ESC B", "buzzer", n=2)
    add(e + b"(A", "ESC ( A", "buzzer", after_u16())
    add(e + b"(Y", "ESC ( Y", "setting", after_u16(), lambda r: {"name": "ESC ( Y"})

    g = b"\x1d"
    arg(g + b"!", "GS !", "char_size", _char_size)
    arg(g + b"B", "GS B", "reverse", lambda r: {"on": _bit(r[2])})
    arg(g + b"L", "GS L", "left_margin", lambda r: {"dots": _u16(r, 2)}, 2)
    arg(g + b"W", "GS W", "print_width", lambda r: {"dots": _u16(r, 2)}, 2)
    arg(g + b"$", "GS $", "page_mode", lambda r: {"action": "y", "dots": _u16(r, 2), "relative": False}, n=2)
    arg(g + b"\\", "GS \\", "page_mode", lambda r: {"action": "y", "dots": _u16(r, 2), "relative": True}, n=2)
    arg(g + b"P", "GS P", "motion_units", n=2)
    arg(g + b"b", "GS b", "smoothing")
    arg(g + b"h", "GS h", "barcode_height", lambda r: {"dots": r[2]})
    arg(g + b"w", "GS w", "barcode_width", lambda r: {"n": r[2]})
    arg(g + b"H", "GS H", "barcode_hri", lambda r: {"position": _digit(r[2]) & 3})
    arg(g + b"f", "GS f", "barcode_hri_font", lambda r: {"font": r[2]})
    add(g + b"k", "GS k", "barcode", _barcode_len, _barcode)
    add(g + b"V", "GS V", "cut", _cut_len, _cut)
    arg(g + b"r", "GS r", "status_query", _status)
    arg(g + b"I", "GS I", "status_query", _status)
    arg(g + b"a", "GS a", "asb", lambda r: {"n": r[2]})
    one(g + b":", "GS :", "macro")
    arg(g + b"^", "GS ^", "macro", n=3)
    arg(g + b"/", "GS /", "logo", lambda r: {"key": "download"})
    add(g + b"*", "GS *", "nv_define", _download_len, _download)
    add(g + b"v0", "GS v 0", "image", _raster_len, _raster)
    add(g + b"(k", "GS ( k", "code2d", after_u16(), _code2d)
    add(g + b"(L", "GS ( L", "graphics", after_u16(), _graphics_u16)
    add(g + b"8L", "GS 8 L", "graphics", after_u32, _graphics_u32)
    add(g + b"(H", "GS ( H", "status_query", after_u16(), lambda r: {"kind": "response request"})

    f = b"\x1c"
    one(f + b"&", "FS &", "cjk_on")
    one(f + b".", "FS .", "cjk_off")
    arg(
        f + b"!",
        "FS !",
        "cjk_print_mode",
        lambda r: {
            "underline": bool(r[2] & 0x80),
            "double_width": bool(r[2] & 0x04),
            "double_height": bool(r[2] & 0x08),
        },
    )
    arg(f + b"C", "FS C", "cjk_code_system", lambda r: {"n": _digit(r[2])})
    arg(f + b"-", "FS -", "cjk_underline", _underline)
    arg(f + b"W", "FS W", "cjk_double", lambda r: {"on": _bit(r[2])})
    arg(f + b"S", "FS S", "setting", lambda r: {"name": "FS S"}, 2)
    arg(f + b"2", "FS 2", "user_chars", n=2 + 72)
    arg(f + b"p", "FS p", "logo", lambda r: {"key": str(r[2])}, 2)
    add(f + b"q", "FS q", "nv_define", _nv_define_len, _nv_define)

    d = b"\x10"
    add(d + b"\x04", "DLE EOT", "status_query", _dle_eot_len, _status)
    arg(d + b"\x05", "DLE ENQ", "status_query", _status)
    add(d + b"\x14", "DLE DC4", "dle_dc4", _dle_dc4_len, _dle_dc4)

    # Generic families: any function of GS ( x / ESC ( x / FS ( x / GS 8 x has a pL pH (p1..p4) length.
    fallbacks = {
        g + b"(": Spec("GS (", "setting", after_u16(), lambda r: {"name": f"GS ( {chr(r[2])}"}),
        e + b"(": Spec("ESC (", "setting", after_u16(), lambda r: {"name": f"ESC ( {chr(r[2])}"}),
        f + b"(": Spec("FS (", "setting", after_u16(), lambda r: {"name": f"FS ( {chr(r[2])}"}),
        g + b"8": Spec("GS 8", "setting", after_u32, lambda r: {"name": f"GS 8 {chr(r[2])}"}),
    }
    return Table(s, fallbacks, {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"})


ESCPOS = _build()
