"""PDF417 reported as a code with its content (issue 14, item 3): ESC/POS ``GS ( k`` with cn 48 and
Star's ``ESC GS x``. Streams assembled from the Epson and Star command references."""

from __future__ import annotations

from kelaile_cli.core.escpos.events import Unknown
from kelaile_cli.core.stream.printstream import decode_events, read_receipts
from kelaile_cli.core.stream.receipt import Code

ESC, GS = b"\x1b", b"\x1d"
DATA = b"INV-2026-0042|total=56.00"
STAR_HEAD = ESC + b"@" + ESC + b"\x1ea\x00" + ESC + b" \x00" + ESC + b"s\x00\x00" + b"\x12"


def codes(data: bytes, dialect: str | None = None) -> list[Code]:
    return [el for r in read_receipts(data) for el in r.elements if isinstance(el, Code)]


def test_escpos_gs_paren_k_cn_48_is_a_pdf417():
    def fn(f: int, body: bytes) -> bytes:
        return GS + b"(k" + (len(body) + 2).to_bytes(2, "little") + b"\x30" + bytes([f]) + body

    setup = fn(65, b"\x04") + fn(67, b"\x03") + fn(69, b"\x30\x02")  # columns, module width, error level
    data = ESC + b"@" + setup + fn(80, b"\x30" + DATA) + fn(81, b"\x30") + b"\n" + GS + b"V\x00"
    [code] = codes(data)
    assert (code.symbology, code.data) == ("PDF417", DATA.decode())


def test_star_esc_gs_x_is_a_pdf417():
    settings = ESC + GS + b"xS0\x00\x00\x00" + ESC + GS + b"xS1\x02" + ESC + GS + b"xS2\x03" + ESC + GS + b"xS3\x03"
    store = ESC + GS + b"xD" + len(DATA).to_bytes(2, "little") + DATA
    data = STAR_HEAD + settings + store + ESC + GS + b"xP" + b"after\n" + ESC + b"d\x02"
    events, dialect = decode_events(data)
    assert dialect == "star"
    assert not [e for e in events if isinstance(e, Unknown)]
    [code] = codes(data)
    assert (code.symbology, code.data) == ("PDF417", DATA.decode())
    [r] = read_receipts(data)
    assert r.lines[-1].text == "after"
