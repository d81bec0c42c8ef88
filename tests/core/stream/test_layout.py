"""Layout: python-escpos (an independent producer) writes jobs; we check what comes out on paper."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PIL import Image as PILImage
from PIL import ImageDraw

from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Image, Line


def dummy() -> Dummy:
    return Dummy(profile="TM-T88V")


def test_styles_alignment_and_lines():
    p = dummy()
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("SHOP\n")
    p.set(align="left", bold=False, normal_textsize=True, underline=1)
    p.text("Coffee        3.50\n")
    p.set(underline=0, invert=True)
    p.text("TOTAL 3.50\n")
    p.cut()
    [r] = read_receipts(p.output)
    lines = r.lines
    assert [ln.text for ln in lines] == ["SHOP", "Coffee        3.50", "TOTAL 3.50"]
    head = lines[0].spans[0].style
    assert (lines[0].align, head.bold, head.width, head.height) == ("center", True, 2, 2)
    assert lines[1].align == "left"
    assert lines[1].spans[0].style.underline == 1
    assert lines[1].spans[0].style.bold is False
    assert lines[2].spans[0].style.inverse is True
    assert r.cut in ("full", "partial")


def test_offsets_point_back_into_the_stream():
    p = dummy()
    p.text("Hello\n")
    p.text("World\n")
    p.cut()
    data = p.output
    [r] = read_receipts(data)
    for line in r.lines:
        span = line.spans[0]
        assert data[span.start : span.end].decode() == span.text
    assert r.start == 0 and r.end == len(data)


def test_qr_and_barcode_keep_their_content():
    p = dummy()
    p.qr("https://kelaile.example/c/ABC123", native=True, size=5)
    p.barcode("4006381333931", "EAN13")
    p.cut()
    [r] = read_receipts(p.output)
    codes = [e for e in r.elements if isinstance(e, Code)]
    assert [(c.symbology, c.data) for c in codes] == [
        ("QR", "https://kelaile.example/c/ABC123"),
        ("EAN13", "4006381333931"),
    ]
    assert codes[0].size == 5


@pytest.mark.parametrize("impl", ["bitImageRaster", "bitImageColumn", "graphics"])
def test_images_survive_with_their_pixels(impl):
    img = PILImage.new("1", (64, 24), 1)
    ImageDraw.Draw(img).rectangle((8, 4, 23, 15), fill=0)
    p = dummy()
    p.image(img, impl=impl)
    p.cut()
    [r] = read_receipts(p.output)
    [image] = [e for e in r.elements if isinstance(e, Image)]
    assert image.width >= 64 and image.height >= 24
    assert image.pixel(10, 6) and image.pixel(23, 15)
    assert not image.pixel(2, 2) and not image.pixel(40, 20)


def test_drawer_kick_and_status_query_are_kept():
    p = dummy()
    p.text("x\n")
    p.cashdraw(2)
    p._raw(b"\x10\x04\x01")  # DLE EOT 1: printer status
    p.cut()
    [r] = read_receipts(p.output)
    assert any(isinstance(e, DrawerKick) and e.pin == 2 for e in r.elements)
    assert len(r.queries) == 1


def test_gb18030_with_fs_ampersand():
    body = "宫保鸡丁  1  28.00\n合计  28.00\n".encode("gb18030")
    data = b"\x1b@\x1c&" + body + b"\x1c.\x1dV\x00"
    [r] = read_receipts(data)
    assert [ln.text for ln in r.lines] == ["宫保鸡丁  1  28.00", "合计  28.00"]
    assert r.encoding == "gb18030"


def test_big5_without_any_flag_or_fs_ampersand():
    body = "統一發票\n珍珠奶茶  1  55\n雞排  1  70\n合計  125\n找零  0\n".encode("cp950")
    [r] = read_receipts(b"\x1b@" + body + b"\x1dV\x00")
    assert [ln.text for ln in r.lines][:4] == ["統一發票", "珍珠奶茶  1  55", "雞排  1  70", "合計  125"]
    assert r.encoding in ("cp950", "big5", "big5hkscs")


def test_raw_gbk_without_fs_ampersand():
    body = "超市收银小票\n会员卡号 8800123\n苹果 2 斤 11.80\n应收 11.80\n".encode("gbk")
    [r] = read_receipts(b"\x1b@" + body + b"\x1dV\x01")
    assert r.lines[0].text == "超市收银小票"
    assert r.lines[2].text == "苹果 2 斤 11.80"


def test_european_code_page_selected_by_esc_t():
    p = dummy()
    p.charcode("CP858")
    p._raw("Café Müller  12,50 €\n".encode("cp858"))
    p.cut()
    [r] = read_receipts(p.output)
    assert r.lines[-1].text == "Café Müller  12,50 €"
    assert r.encoding == "cp858"


def test_encoding_override():
    body = "統一發票\n".encode("cp950")
    [r] = read_receipts(body, DecodeOptions(encoding="big5"))
    assert r.lines[0].text == "統一發票"


def test_unknown_command_is_a_warning_and_text_after_it_survives():
    data = b"\x1b@AB\n\x1b\x99CD\n\x1dV\x00"
    [r] = read_receipts(data)
    assert [ln.text for ln in r.lines] == ["AB", "CD"]
    [w] = r.warnings
    assert w.kind == "unknown_command" and w.offset == 5


def test_truncated_command_at_end_is_a_warning():
    data = b"\x1b@Hello\n\x1dv0\x00\x30\x00\x40\x00\xff\xff"
    [r] = read_receipts(data)
    assert r.lines[0].text == "Hello"
    assert any(w.kind == "truncated" for w in r.warnings)


def test_tabs_reach_default_stops():
    [r] = read_receipts(b"A\tB\n")
    assert isinstance(r.elements[0], Line)
    assert r.lines[0].text == "A       B"


def test_width_inferred_from_widest_line():
    narrow = read_receipts(b"x" * 30 + b"\n")[0]
    wide = read_receipts(b"x" * 46 + b"\n")[0]
    assert (narrow.width, wide.width) == (32, 48)
    assert read_receipts(b"x" * 46 + b"\n", DecodeOptions(width=42))[0].width == 42
