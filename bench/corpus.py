"""A deterministic corpus of varied receipts made with python-escpos (an independent producer)."""

from __future__ import annotations

import contextlib
import io
import random

from escpos.printer import Dummy
from PIL import Image, ImageDraw

LANGS = {
    "zh-cn": ("gb18030", ["宫保鸡丁", "水煮鱼", "米饭", "青岛啤酒", "红烧肉", "酸辣汤", "可乐", "麻婆豆腐"],
              ["合计", "实收", "找零", "微信支付"]),
    "zh-tw": ("cp950", ["珍珠奶茶", "雞排", "滷肉飯", "牛肉麵", "拿鐵", "紅茶", "蛋餅", "鹹酥雞"],
              ["合計", "現金", "找零", "信用卡"]),
    "en": ("cp437", ["Bananas", "Whole milk", "Bread", "Coffee", "Eggs 12", "Butter", "Apples", "Tea"],
           ["TOTAL", "CASH", "CHANGE", "VISA"]),
    "eu": ("cp858", ["Brötchen", "Käsekuchen", "Café crème", "Croissant", "Müsli", "Apfelstrudel", "Brezel",
                     "Limonade"], ["Summe", "Bar", "Rückgeld", "Karte"]),
}  # fmt: skip


def _row(left: str, right: str, width: int, enc: str) -> bytes:
    lb, rb = left.encode(enc), right.encode(enc)
    return lb + b" " * max(1, width - len(lb) - len(rb)) + rb + b"\n"


def receipt(rng: random.Random, lang: str, *, text_only: bool = False) -> bytes:
    enc, items, words = LANGS[lang]
    width = rng.choice([32, 42, 48])
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    if lang == "eu":
        p.charcode("CP858")
    if lang == "zh-cn":
        p._raw(b"\x1c&")
    p.set(align="center", bold=True, double_height=True)
    p._raw(f"SHOP {rng.randrange(1000)}\n".encode(enc))
    p.set(align="left", bold=False, normal_textsize=True)
    if not text_only and rng.random() < 0.3:
        img = Image.new("1", (rng.choice([64, 128, 256]), 48), 1)
        ImageDraw.Draw(img).rectangle((4, 4, 40, 40), fill=0)
        p.image(img, impl="bitImageRaster")
    total = 0
    for _ in range(rng.randrange(5, 41)):
        price = rng.randrange(100, 9999)
        total += price
        p._raw(_row(f"{rng.choice(items)} x{rng.randrange(1, 4)}", f"{price / 100:.2f}", width, enc))
    p._raw(b"-" * width + b"\n")
    for word in words:
        p._raw(_row(word, f"{total / 100:.2f}", width, enc))
    if not text_only:
        if rng.random() < 0.5:
            p.qr(f"https://kelaile.example/c/{rng.randrange(10**8)}", native=True)
        if rng.random() < 0.3:
            p.barcode(f"{rng.randrange(10**11, 10**12)}", "EAN13", check=False)
    p.cut()
    return p.output


def build_corpus(n: int = 1000, seed: int = 0, *, text_only: bool = False) -> list[tuple[str, bytes]]:
    """``n`` (language, receipt bytes) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    langs = list(LANGS)
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos prints a note per barcode
        return [(lang, receipt(rng, lang, text_only=text_only)) for lang in (langs[i % 4] for i in range(n))]
