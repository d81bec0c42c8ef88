"""Star line mode / StarPRNT commands that leaked into the text before (issue 14 defect 1)."""

from __future__ import annotations

from kelaile_cli.core.escpos.events import Command, Unknown
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import decode_events, read_receipts

ESC, GS = b"\x1b", b"\x1d"
HEAD = ESC + b"@" + ESC + b"\x1ea\x00" + ESC + b" \x00" + ESC + b"s\x00\x00" + b"\x12"


def test_star_positions_and_code_page_numbers():
    data = HEAD + ESC + GS + b"t\x20" + b"Caf\xe9" + ESC + GS + b"A" + (20 * 12).to_bytes(2, "little")
    data += b"2" + ESC + GS + b"R" + (4 * 12).to_bytes(2, "little") + b"3.50\n" + ESC + b"d\x02"
    events, dialect = decode_events(data)
    assert dialect == "star"
    assert not [e for e in events if isinstance(e, Unknown)]
    [r] = read_receipts(data)
    assert r.encoding == "cp1252"
    assert render_text(r, markers=False).splitlines()[0] == "Café                2    3.50"


def test_star_raster_band_and_starprnt_raster_are_images():
    band = ESC + b"k\x02\x00" + b"\xff\x00" * 24
    prnt = ESC + GS + b"S\x01\x01\x00\x03\x00\x00" + b"\xf0\x0f\xf0"
    events, _ = decode_events(HEAD + band + prnt + b"\n" + ESC + b"d\x02", dialect="star")
    images = [e for e in events if isinstance(e, Command) and e.op == "image"]
    assert [(i.params["width"], i.params["height"]) for i in images] == [(16, 24), (8, 3)]


def test_star_kanji_code_system_selects_shift_jis():
    data = HEAD + ESC + b"$1" + "合計 2050円".encode("cp932") + b"\n" + ESC + b"d\x02"
    [r] = read_receipts(data)
    assert (r.dialect, r.encoding, r.lines[0].text) == ("star", "cp932", "合計 2050円")
