"""Shared helpers of the labelled-recording generators: a slip printer over python-escpos and money."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from escpos.printer import Dummy
from PIL import Image, ImageDraw

from tools.make_samples import FS_OFF, FS_ON

Record = dict[str, Any]
Maker = Callable[[random.Random, int], tuple[bytes, list[Record]]]
CENT = Decimal("0.01")


def money(value: Decimal, comma: bool = False) -> str:
    """Two decimals, optionally with a decimal comma and '.' thousands (as printed, not as expected)."""
    text = f"{value:,.2f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if comma else text


def dec(value: Decimal) -> str:
    """The form klx reports amounts in: a plain decimal string with two places."""
    return f"{value.quantize(CENT):.2f}"


def logo(text: str, size: tuple[int, int] = (160, 48)) -> Image.Image:
    """A small raster logo: a frame, a diamond and the shop's initials."""
    img = Image.new("1", size, 1)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=0, width=2)
    d.polygon([(24, 6), (42, 24), (24, 42), (6, 24)], fill=0)
    d.text((56, 18), text, fill=0)
    return img


class Slip:
    """One POS's printer: text in its encoding, rows padded to its width by encoded length."""

    def __init__(self, enc: str, width: int, fs: bool = False) -> None:
        self.p = Dummy(profile="TM-T88V")
        self.enc, self.w, self.fs = enc, width, fs

    def init(self) -> None:
        self.p.hw("INIT")
        if self.fs:
            self.p._raw(FS_ON)

    def raw(self, data: bytes) -> None:
        self.p._raw(data)

    def style(self, **kw: Any) -> None:
        self.p.set(**kw)

    def line(self, text: str = "") -> None:
        self.p._raw(text.encode(self.enc) + b"\n")

    def row(self, left: str, right: str) -> None:
        lb, rb = left.encode(self.enc), right.encode(self.enc)
        self.p._raw(lb + b" " * max(1, self.w - len(lb) - len(rb)) + rb + b"\n")

    def cols(self, *cells: tuple[str, int]) -> None:
        """Fixed columns: a positive width pads right (left-aligned), a negative one pads left."""
        out = b""
        for text, width in cells:
            raw = text.encode(self.enc)
            pad = b" " * max(0, abs(width) - len(raw))
            out += raw + pad if width > 0 else pad + raw
        self.p._raw(out.rstrip(b" ") + b"\n")

    def rule(self, ch: str = "-") -> None:
        self.line(ch * self.w)

    def big(self, text: str, align: str = "center") -> None:
        self.p.set(align=align, double_height=True, double_width=True, bold=True)
        self.line(text)
        self.p.set(align="left", normal_textsize=True, bold=False)

    def center(self, text: str, bold: bool = False) -> None:
        self.p.set(align="center", bold=bold)
        self.line(text)
        self.p.set(align="left", bold=False)

    def image(self, img: Image.Image) -> None:
        if self.fs:
            self.p._raw(FS_OFF)
        self.p.image(img, impl="bitImageRaster", center=True)
        if self.fs:
            self.p._raw(FS_ON)

    def qr(self, data: str) -> None:
        self.p.set(align="center")
        self.p.qr(data, native=True, size=4)
        self.p.set(align="left")

    def barcode(self, data: str, kind: str = "CODE128") -> None:
        self.p.set(align="center")
        if kind == "CODE128":
            self.p.barcode("{B" + data, "CODE128", function_type="B")
        else:
            self.p.barcode(data, kind)
        self.p.set(align="left")

    def cut(self, mode: str = "FULL", feed: bool = True) -> None:
        if self.fs:
            self.p._raw(FS_OFF)
        self.p.cut(mode=mode, feed=feed)

    @property
    def output(self) -> bytes:
        return bytes(self.p.output)


def pick(rng: random.Random, menu: list[Any], low: int, high: int) -> list[Any]:
    """Between ``low`` and ``high`` distinct entries of ``menu``, in menu order."""
    chosen = rng.sample(range(len(menu)), rng.randrange(low, high + 1))
    return [menu[i] for i in sorted(chosen)]
