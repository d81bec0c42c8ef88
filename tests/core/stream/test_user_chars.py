"""User-defined characters (issue 14 defect 7): ESC & defines bitmaps for character codes, ESC % 1
selects them, ESC ? cancels one. The PNG and HTML renders draw the defined bitmaps; the text and JSON
show a placeholder (U+FFFC) and a warning that says which codes were user-defined.

Streams are assembled by hand from the Epson command reference (python-escpos cannot send ESC &):
``ESC & y c1 c2 [x d1 … d(y·x)]…``, data column by column, y bytes per column, MSB at the top.
"""

from __future__ import annotations

import io

from PIL import Image as PILImage

from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.png import render_png
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.stream.receipt import Line

ESC, GS = b"\x1b", b"\x1d"
PLACEHOLDER = "\ufffc"


def define(code: int, columns: list[bytes]) -> bytes:
    """One character, 3 bytes (24 dots) high, ``len(columns)`` dots wide."""
    assert all(len(c) == 3 for c in columns)
    return ESC + b"&\x03" + bytes([code, code, len(columns)]) + b"".join(columns)


#: a 12 x 24 glyph: a full-height bar in columns 0-3, nothing in 4-11
BAR = define(0x41, [b"\xff\xff\xff"] * 4 + [b"\x00\x00\x00"] * 8)
SELECT, DESELECT = ESC + b"%\x01", ESC + b"%\x00"


def receipt(data: bytes):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return r


def test_selected_user_character_is_a_placeholder_in_text_and_said_so():
    r = receipt(BAR + SELECT + b"xAx\n" + DESELECT + b"A\n")
    assert render_text(r, markers=False).splitlines()[:2] == [f"x{PLACEHOLDER}x", "A"]
    [warning] = [w for w in r.warnings if w.kind == "user_chars"]
    assert "0x41" in warning.message and "U+FFFC" in warning.message


def test_undefined_codes_print_from_the_font_even_when_selected():
    r = receipt(BAR + SELECT + b"ABC\n")
    assert render_text(r, markers=False).splitlines()[0] == f"{PLACEHOLDER}BC"


def test_cancel_one_character_and_init_forget_the_definitions():
    cancel = ESC + b"?\x41"
    assert render_text(receipt(BAR + SELECT + cancel + b"A\n"), markers=False).splitlines()[0] == "A"
    assert render_text(receipt(BAR + ESC + b"@" + SELECT + b"A\n"), markers=False).splitlines()[0] == "A"


def test_the_span_carries_the_defined_bitmap():
    r = receipt(BAR + SELECT + b"A\n")
    [line] = [el for el in r.elements if isinstance(el, Line)]
    [glyph] = [g for s in line.spans for g in (s.glyphs or [])]
    assert (glyph.width, glyph.height) == (12, 24)
    assert glyph.pixel(0, 0) and glyph.pixel(3, 23) and not glyph.pixel(4, 0) and not glyph.pixel(11, 12)


def test_png_draws_the_defined_bitmap():
    pic = PILImage.open(io.BytesIO(render_png(receipt(BAR + SELECT + b"A\n"))))
    paper = range(pic.height - 6)  # above the dashed cut mark
    dark = [(x, y) for y in paper for x in range(pic.width) if pic.getpixel((x, y)) < 128]
    xs = {x for x, _ in dark}
    ys = {y for _, y in dark}
    # the defined bitmap and nothing else: a solid bar 4 dots wide and 24 high
    assert (len(xs), len(ys)) == (4, 24)
    assert len(dark) == 4 * 24


def test_html_draws_the_defined_bitmap():
    page = render_html([receipt(BAR + SELECT + b"A\n")])
    assert 'alt="user-defined character 0x41"' in page
    assert "data:image/png;base64," in page


def test_user_characters_in_page_mode_keep_their_bitmaps():
    page = ESC + b"L" + ESC + b"W" + b"\x00\x00\x00\x00\xf8\x01\x78\x00" + ESC + b"$\x3c\x00" + b"xA" + b"\x0c"
    r = receipt(BAR + SELECT + page)
    assert render_text(r, markers=False).splitlines()[0] == f"     x{PLACEHOLDER}"
    [line] = [el for el in r.elements if isinstance(el, Line)]
    [glyph] = [g for s in line.spans for g in (s.glyphs or [])]
    assert (glyph.width, glyph.height, glyph.key) == (12, 24, "0x41")
    assert [w.kind for w in r.warnings] == ["user_chars"]
