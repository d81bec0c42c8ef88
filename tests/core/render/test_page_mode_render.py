"""Page mode drawn (issue 14): ESC T turns raster images and text in the area, ESC W clips them.

The streams are assembled by hand from the Epson ESC/POS reference; the expected dots are worked out
by hand from the direction's geometry (module docstring of core/stream/page.py), and the whole page
image of each direction is kept as a golden picture in text (``#`` a dot) for review.
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image as PILImage

from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.png import MARGIN, render_png
from kelaile_cli.core.stream.page import turned
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.stream.receipt import Image, Line
from tests.core.render.test_renderers import GOLDEN, golden

ESC, GS = b"\x1b", b"\x1d"
ENTER, FF = ESC + b"L", b"\x0c"
# an "L" of 8 x 4 dots: a column at the left, a full bottom row
ELL = GS + b"v0\x00" + (1).to_bytes(2, "little") + (4).to_bytes(2, "little") + b"\x80\x80\x80\xff"


def u16(n: int) -> bytes:
    return n.to_bytes(2, "little")


def area(x: int, y: int, w: int, h: int) -> bytes:
    return ESC + b"W" + u16(x) + u16(y) + u16(w) + u16(h)


def receipt(data: bytes):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return r


def page_image(data: bytes) -> Image:
    [img] = [el for el in receipt(data).elements if isinstance(el, Image)]
    return img


def art(img: Image) -> list[str]:
    return ["".join("#" if img.pixel(x, y) else "." for x in range(img.width)) for y in range(img.height)]


def test_turned_bitmaps():
    ell = Image(3, 2, b"\x80\xe0", "test", 0, 0)  # X.. / XXX
    assert art(turned(ell, 0)) == ["#..", "###"]
    assert art(turned(ell, 1)) == ["##", "#.", "#."]  # a quarter turn clockwise
    assert art(turned(ell, 2)) == ["###", "..#"]
    assert art(turned(ell, 3)) == [".#", ".#", "##"]
    scaled = Image(2, 1, b"\x80", "test", 0, 0, scale_x=2, scale_y=3)  # #. at 2 x 3
    assert art(turned(scaled, 0)) == ["##.."] * 3
    assert art(turned(scaled, 1)) == ["###", "###", "...", "..."]


def test_direction_0_image_is_upright_at_the_area_origin():
    img = page_image(ENTER + area(0, 0, 48, 48) + ELL + FF)
    assert art(img) == ["#" + "." * 7] * 3 + ["#" * 8]


def test_direction_3_image_is_turned_clockwise_at_the_upper_right():
    img = page_image(ENTER + area(0, 0, 48, 48) + ESC + b"T\x03" + ELL + FF)
    rows = art(img)
    assert img.width == 48 and img.height == 8
    assert rows[0][44:] == "####" and all(r[44:] == "#..." for r in rows[1:])
    assert not any("#" in r[:44] for r in rows)


def test_direction_1_image_is_turned_counter_clockwise_at_the_lower_left():
    r = receipt(ENTER + area(0, 0, 48, 48) + ESC + b"T\x01" + ELL + FF)
    [img] = [el for el in r.elements if isinstance(el, Image)]
    rows = art(img)
    assert img.height == 8 and rows[7][:4] == "####" and all(r[:4] == "...#" for r in rows[:7])


def test_direction_2_image_is_upside_down_at_the_lower_right():
    rows = art(page_image(ENTER + area(0, 0, 48, 48) + ESC + b"T\x02" + ELL + FF))
    assert rows[0][40:] == "#" * 8 and all(r[40:] == "." * 7 + "#" for r in rows[1:])


def test_every_direction_golden():
    pictures = []
    for d in range(4):
        img = page_image(ENTER + area(0, 0, 24, 24) + ESC + b"T" + bytes([d]) + ELL + FF)
        pictures.append(f"direction {d}:\n" + "\n".join(art(img)))
    golden("page-mode-directions.txt", "\n\n".join(pictures) + "\n")


def test_images_are_clipped_to_their_area():
    wide = GS + b"v0\x00" + u16(3) + u16(2) + b"\xff" * 6  # 24 x 2 dots
    img = page_image(ENTER + area(0, 0, 16, 48) + wide + FF)
    assert art(img) == ["#" * 16] * 2
    img = page_image(ENTER + area(8, 0, 16, 48) + ESC + b"$" + u16(4) + wide + FF)
    assert art(img) == ["." * 12 + "#" * 12] * 2  # placed at 12, clipped at 24
    below = page_image(ENTER + area(0, 0, 48, 1) + wide + FF)
    assert art(below) == ["#" * 24]


def test_text_wraps_at_the_area_end_and_is_clipped_at_its_far_edge():
    r = receipt(ENTER + area(0, 0, 60, 60) + b"ABCDEFGHIJKLMNO" + FF)
    assert [ln.text for ln in r.elements if isinstance(ln, Line)] == ["ABCDE", "FGHIJ"]


def test_turned_text_styles():
    def styles(d: int):
        r = receipt(ENTER + area(0, 0, 120, 120) + ESC + b"T" + bytes([d]) + b"A" + FF)
        [span] = [s for el in r.elements if isinstance(el, Line) for s in el.spans if s.text == "A"]
        return span.style.rotated, span.style.upside_down

    assert [styles(d) for d in range(4)] == [(False, False), (True, True), (False, True), (True, False)]


def png(data: bytes) -> PILImage.Image:
    return PILImage.open(io.BytesIO(render_png(receipt(data)))).convert("L")


def test_png_draws_the_turned_image_where_the_page_puts_it():
    pic = png(ENTER + area(0, 0, 48, 48) + ESC + b"T\x03" + ELL + FF)
    dots = [[pic.getpixel((MARGIN + x, MARGIN + y)) < 128 for x in range(48)] for y in range(8)]
    assert ["".join("#" if d else "." for d in row)[44:] for row in dots] == ["####"] + ["#..."] * 7
    assert not any(any(row[:44]) for row in dots)


def _ink_box(pic: PILImage.Image) -> tuple[int, int]:
    """Width and height of the ink of a receipt's picture, above its bottom margin (the cut line)."""
    box = pic.crop((0, 0, pic.width, pic.height - MARGIN)).point(lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None
    return box[2] - box[0], box[3] - box[1]


@pytest.mark.parametrize("d", [1, 3])
def test_png_draws_quarter_turned_characters_across(d):
    upright = png(ENTER + area(0, 0, 120, 120) + b"I" + FF)
    turned_ = png(ENTER + area(0, 0, 120, 120) + ESC + b"T" + bytes([d]) + b"I" + FF)
    w, h = _ink_box(upright)
    tw, th = _ink_box(turned_)
    assert h > w and tw > th  # a tall I lies on its side


def test_png_draws_upside_down_text_turned_half_a_turn():
    upright = png(b"Lp\n")
    flipped = png(ESC + b"{\x01" + b"Lp\n")
    row = (MARGIN, MARGIN, MARGIN + 2 * (576 // 48), MARGIN + 30)  # the two characters' cells
    assert flipped.crop(row).tobytes() == upright.crop(row).rotate(180).tobytes()
    assert flipped.crop(row).tobytes() != upright.crop(row).tobytes()


def test_html_turns_turned_text():
    page = render_html([receipt(ENTER + area(0, 0, 120, 120) + ESC + b"T\x03" + b"A" + FF)])
    assert "transform:rotate(90deg)" in page
    page = render_html([receipt(ESC + b"{\x01" + b"AB\n")])
    assert "transform:rotate(180deg)" in page


def test_png_golden_four_areas_one_per_direction():
    # an "F" of 16 x 24 dots, drawn at double size: which way it faces tells the direction
    rows = [b"\xff\xff"] * 4 + [b"\xf0\x00"] * 4 + [b"\xff\x00"] * 4 + [b"\xf0\x00"] * 12
    eff = GS + b"v0\x03" + u16(2) + u16(24) + b"".join(rows)
    page = ENTER
    for d, (x, y) in enumerate([(0, 0), (128, 0), (256, 0), (384, 0)]):
        page += area(x, y, 112, 112) + ESC + b"T" + bytes([d]) + eff
    pic = png(page + FF)
    path = GOLDEN / "page-mode-directions.png"
    if os.environ.get("KLX_UPDATE_GOLDEN") == "1" or not path.exists():
        pic.save(path, optimize=True)
    want = PILImage.open(path).convert("L")
    assert (pic.size, pic.tobytes()) == (want.size, want.tobytes()), "page-mode-directions.png differs"
