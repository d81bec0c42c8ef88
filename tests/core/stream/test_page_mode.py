"""Page mode (issue 14 defect 7): ESC L … ESC W areas, ESC T direction, ESC $ / GS $ positions, FF.

The streams are assembled by hand from the Epson ESC/POS command reference (python-escpos has no page
mode): text lands where the printer puts it on the page, and the areas of a page print as one block.
"""

from __future__ import annotations

from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.stream.receipt import Image, Line

ESC, GS = b"\x1b", b"\x1d"
ENTER, FF, CAN, STANDARD, PRINT = ESC + b"L", b"\x0c", b"\x18", ESC + b"S", ESC + b"\x0c"


def u16(n: int) -> bytes:
    return n.to_bytes(2, "little")


def area(x: int, y: int, w: int, h: int) -> bytes:
    return ESC + b"W" + u16(x) + u16(y) + u16(w) + u16(h)


def x_at(dots: int) -> bytes:
    return ESC + b"$" + u16(dots)


def y_at(dots: int) -> bytes:
    return GS + b"$" + u16(dots)


def direction(n: int) -> bytes:
    return ESC + b"T" + bytes([n])


def receipt(data: bytes):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return r


def text_of(data: bytes) -> list[str]:
    return render_text(receipt(data), markers=False).splitlines()


def test_two_areas_side_by_side_print_as_one_block():
    left = area(0, 0, 240, 120) + b"Item\nCoffee\nCake"
    right = area(288, 0, 216, 120) + b"Price\n2.50\n3.10"
    got = text_of(ENTER + left + right + FF)
    assert got[:3] == ["Item                    Price", "Coffee                  2.50", "Cake                    3.10"]


def test_positions_by_dot_in_the_area():
    got = text_of(ENTER + area(0, 0, 504, 200) + y_at(60) + x_at(10 * 12) + b"Total" + x_at(30 * 12) + b"9.99" + FF)
    assert got == [" " * 10 + "Total" + " " * 15 + "9.99"]


def test_vertical_position_orders_rows_not_the_byte_order():
    got = text_of(ENTER + y_at(60) + b"third" + y_at(0) + x_at(0) + b"first" + y_at(30) + x_at(0) + b"second" + FF)
    assert got == ["first", "second", "third"]


def test_relative_vertical_position():
    got = text_of(ENTER + b"a" + GS + b"\\" + u16(60) + ESC + b"$" + u16(0) + b"b" + FF)
    assert got == ["a", "", "b"]


def test_direction_2_is_upside_down_from_the_lower_right():
    r = receipt(ENTER + area(0, 0, 120, 60) + direction(2) + b"AB" + FF)
    lines = [el for el in r.elements if isinstance(el, Line)]
    assert len(lines) == 1
    # 2 columns of a 10-column area, starting at its lower right: the text ends in column 10
    assert render_text(r, markers=False).splitlines() == [" " * 8 + "AB"]
    assert all(s.style.upside_down for s in lines[0].spans if s.text.strip())


def test_direction_1_runs_bottom_to_top():
    r = receipt(ENTER + area(0, 0, 120, 120) + direction(1) + b"ABC" + FF)
    assert [ln.rstrip() for ln in render_text(r, markers=False).splitlines()] == ["C", "B", "A"]


def test_direction_3_runs_top_to_bottom_at_the_right():
    got = text_of(ENTER + area(0, 0, 120, 120) + direction(3) + b"ABC" + FF)
    assert got == [" " * 7 + "A", " " * 7 + "B", " " * 7 + "C"]


def test_cancel_clears_the_page_and_standard_mode_discards_it():
    got = text_of(ENTER + b"gone" + CAN + b"kept" + FF + ENTER + b"never" + STANDARD + b"after\n")
    assert got == ["kept", "after"]


def test_esc_ff_prints_and_stays_in_page_mode():
    got = text_of(ENTER + b"one" + PRINT + y_at(0) + b"two" + FF + b"standard\n")
    assert got == ["one", "two", "standard"]


def test_images_of_a_page_are_one_image():
    piece = ESC + b"*\x21" + u16(8) + b"\xff" * 24  # 8 x 24 dots (24-dot double density), all black
    data = ENTER + b"".join(x_at(16 * i) + piece for i in range(5)) + FF
    r = receipt(data)
    images = [el for el in r.elements if isinstance(el, Image)]
    assert len(images) == 1
    img = images[0]
    assert (img.width, img.height) == (72, 24)
    assert img.pixel(0, 0) and img.pixel(7, 23) and not img.pixel(8, 0) and img.pixel(16, 3) and img.pixel(71, 23)


def test_a_job_that_never_prints_its_page_still_shows_it_with_a_warning():
    r = receipt(ENTER + b"drawn")
    assert render_text(r, markers=False).splitlines()[0] == "drawn"
    assert any("page mode never printed" in w.message for w in r.warnings)
