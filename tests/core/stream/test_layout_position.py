"""Layout by dot position (issue 14 defect 2): ESC $, ESC \\, HT with ESC D, GS L and GS W put text
where the printer puts it (font A is 12 dots a column), in the text every renderer and the JSON read."""

from __future__ import annotations

from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts

ESC, GS = b"\x1b", b"\x1d"


def at(dots: int) -> bytes:
    return ESC + b"$" + dots.to_bytes(2, "little")


def by(dots: int) -> bytes:
    return ESC + b"\\" + dots.to_bytes(2, "little", signed=True)


def lines(data: bytes) -> list[str]:
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return render_text(r, markers=False).splitlines()


def test_absolute_position_puts_columns_apart():
    got = lines(b"Item" + at(20 * 12) + b"Qty" + at(30 * 12) + b"Price\n")
    assert got[0] == "Item                Qty       Price"


def test_relative_position_moves_from_the_current_column():
    got = lines(b"Item" + by(6 * 12) + b"Qty" + by(2 * 12) + b"Price\n")
    assert got[0] == "Item      Qty  Price"


def test_double_byte_text_then_position_counts_wide_cells():
    data = b"\x1c&" + "炸酱面".encode("gb18030") + at(14 * 12) + b"2" + at(22 * 12) + "¥ 56.00".encode("gb18030")
    got = lines(data + b"\n")
    assert got[0] == "炸酱面        2       ¥ 56.00"


def test_position_behind_the_current_column_still_leaves_a_blank():
    got = lines(b"A long item name" + at(5 * 12) + b"9.99\n")
    assert got[0] == "A long item name 9.99"


def test_tab_stops_set_by_esc_d():
    got = lines(ESC + b"D\x0a\x14\x00" + b"Item\tQty\tPrice\n")
    assert got[0] == "Item      Qty       Price"


def test_left_margin_indents_every_line():
    got = lines(GS + b"L" + (4 * 12).to_bytes(2, "little") + b"one\ntwo\n" + GS + b"L\x00\x00" + b"three\n")
    assert got[:3] == ["    one", "    two", "three"]


def test_print_area_sets_the_width_used_for_alignment():
    [r] = read_receipts(ESC + b"@" + GS + b"W" + (42 * 12).to_bytes(2, "little") + ESC + b"a\x02" + b"right\n")
    assert r.width == 42
    assert render_text(r, markers=False).splitlines()[0] == " " * 37 + "right"


def test_positions_reach_html_and_json_text():
    [r] = read_receipts(ESC + b"@" + b"Item" + at(10 * 12) + b"Qty\n")
    assert "Item      Qty" in render_html([r], title="t")
    from kelaile_cli.services.jobs import Source, receipt_record

    assert receipt_record(Source("x.bin", b""), r)["text"].startswith("Item      Qty")
