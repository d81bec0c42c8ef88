"""Streams shared by the decoder tests, produced by python-escpos (an independent encoder)."""

from __future__ import annotations

from escpos.printer import Dummy
from PIL import Image, ImageDraw


def escpos_job() -> bytes:
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p.set(align="center", bold=True, double_height=True, double_width=True, underline=1)
    p.text("HEADER\n")
    p.set(align="left", normal_textsize=True, bold=False, underline=0, invert=True, font="b")
    p.text("Item A      1.00\tB\n")
    img = Image.new("1", (40, 30), 1)
    ImageDraw.Draw(img).ellipse((5, 5, 30, 25), fill=0)
    p.image(img, impl="bitImageRaster")
    p.image(img, impl="bitImageColumn")
    p.image(img, impl="graphics")
    p.qr("https://kelaile.example/q?x=1", native=True)
    p.barcode("4006381333931", "EAN13")
    p.barcode("{B" + "ABC-123", "CODE128", function_type="B")
    p.cashdraw(2)
    p.cut()
    return p.output
