"""PDF417 drawn (issue 14): the PNG and HTML renderers draw the symbol, and a barcode reader
(zxing-cpp, independent of the encoder) reads the content back from the rendered receipt."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image as PILImage

from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.png import render_png
from kelaile_cli.core.stream.printstream import read_receipts

zxingcpp = pytest.importorskip("zxingcpp")

ESC, GS = b"\x1b", b"\x1d"
DATA = b"INV-2026-0042|total=56.00|shop=Kelaile Cafe"


def fn(f: int, body: bytes) -> bytes:
    return GS + b"(k" + (len(body) + 2).to_bytes(2, "little") + b"\x30" + bytes([f]) + body


def job(data: bytes) -> bytes:
    return ESC + b"@" + b"Receipt 42\n" + fn(80, b"\x30" + data) + fn(81, b"\x30") + b"\nThanks\n" + GS + b"V\x00"


def pdf417s(pic: PILImage.Image) -> list[str]:
    found = zxingcpp.read_barcodes(pic.convert("L"), formats=zxingcpp.BarcodeFormat.PDF417)
    return [r.text for r in found]


@pytest.mark.parametrize("width", [48, 32])
def test_png_draws_a_pdf417_that_reads_back(width):
    [r] = read_receipts(job(DATA))
    r.width = width
    pic = PILImage.open(io.BytesIO(render_png(r)))
    assert pic.width <= (576 if width == 48 else 384) + 16
    assert pdf417s(pic) == [DATA.decode()]


def test_a_long_pdf417_still_fits_the_58mm_paper():
    data = b"0123456789ABCDEF" * 20
    [r] = read_receipts(job(data))
    r.width = 32
    assert pdf417s(PILImage.open(io.BytesIO(render_png(r)))) == [data.decode()]


def test_html_shows_the_pdf417_picture():
    [r] = read_receipts(job(DATA))
    page = render_html([r])
    [uri] = re.findall(r'alt="PDF417 [^"]*" src="data:image/png;base64,([^"]+)"', page)
    assert pdf417s(PILImage.open(io.BytesIO(base64.b64decode(uri)))) == [DATA.decode()]
