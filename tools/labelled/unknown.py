"""Receipts of fictional POS programs that have *no* profile: detection must answer 'unknown'.

They share everyday words with the profiled programs (合计, 現金, TOTAL, Summe, a common thank-you
line, even the same paper and code pages), so they test that profiles do not match on generic text.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Slip, logo, money, pick


def tea_shop(rng: random.Random, n: int) -> bytes:
    """zh-CN milk-tea shop on 58 mm, GB18030 in FS & mode, pick-up number, the same footer as MeiWei."""
    s = Slip("gb18030", 32, fs=True)
    drinks = pick(
        rng, [("杨枝甘露", "18.00"), ("芝士奶盖绿茶", "16.00"), ("珍珠奶茶", "12.00"), ("柠檬茶", "10.00")], 1, 3
    )
    total = sum((Decimal(p) for _, p in drinks), Decimal(0))
    s.init()
    s.big(f"取餐号 {rng.randrange(100, 999)}")
    s.center("茶语时光(万达店)")
    s.line(f"2026-11-25 15:{n * 9:02d}:11")
    s.rule("-")
    for name, price in drinks:
        s.row(f"{name} 少冰 半糖", price)
    s.rule("-")
    s.row("合计", money(total))
    s.row("微信支付", money(total))
    s.center("谢谢惠顾，欢迎再来")
    s.cut(mode="PART", feed=False)
    return s.output


def diner(rng: random.Random, n: int) -> bytes:
    """US diner on 80 mm, code page 437, server and guests, TOTAL and VISA like GreenLeaf prints."""
    s = Slip("cp437", 48)
    food = pick(rng, [("Pancake Stack", "9.50"), ("Bacon & Eggs", "11.25"), ("Coffee", "2.75"), ("OJ", "3.50")], 2, 4)
    subtotal = sum((Decimal(p) for _, p in food), Decimal(0))
    tax = (subtotal * Decimal("0.08")).quantize(Decimal("0.01"))
    s.init()
    s.image(logo("SSD"))
    s.center("SUNNY SIDE DINER", bold=True)
    s.row(f"Server: Dana   Table {n + 3}", f"Guests {n}")
    s.rule("-")
    for name, price in food:
        s.row(name, price)
    s.row("Subtotal", money(subtotal))
    s.row("Tax 8%", money(tax))
    s.row("TOTAL", money(subtotal + tax))
    s.row(f"VISA ****{4400 + n}", money(subtotal + tax))
    s.center("Have a sunny day!")
    s.cut()
    return s.output


def tapas_bar(rng: random.Random, n: int) -> bytes:
    """Spanish tapas bar on 80 mm (42 columns), CP858 via ESC t 19, decimal comma, 'TOTAL' and 'Efectivo'."""
    s = Slip("cp858", 42)
    tapas = pick(rng, [("Patatas bravas", "5.50"), ("Croquetas (6)", "7.20"), ("Caña", "2.40"), ("Pulpo", "14.00")],
                 2, 4)  # fmt: skip
    total = sum((Decimal(p) for _, p in tapas), Decimal(0))
    s.init()
    s.raw(b"\x1bt\x13")
    s.center("Bar La Esquina", bold=True)
    s.line(f"Mesa {n + 1}   25/11/2026 21:{n * 7:02d}")
    s.rule("=")
    for name, price in tapas:
        s.row(name, money(Decimal(price), comma=True) + " €")
    s.rule("=")
    s.row("TOTAL", money(total, comma=True) + " €")
    s.row("Efectivo", money(total, comma=True) + " €")
    s.center("¡Gracias por su visita!")
    s.cut()
    return s.output


def bakery_tw(rng: random.Random, n: int) -> bytes:
    """zh-TW bakery on 58 mm, Big5 without FS &, 合計/現金/找零 like ChenGuang prints."""
    s = Slip("cp950", 32)
    breads = pick(rng, [("菠蘿麵包", 35), ("肉鬆捲", 45), ("蔥花麵包", 40), ("紅豆麵包", 38)], 1, 3)
    total = sum(p for _, p in breads)
    s.init()
    s.center("麥香烘焙坊", bold=True)
    s.line(f"日期: 2026-11-25 16:{n * 5:02d}")
    for name, price in breads:
        s.row(name, str(price))
    s.row("合計", str(total))
    s.row("現金", str(total + 100 - total % 100))
    s.row("找零", str(100 - total % 100))
    s.line("謝謝光臨 歡迎再來")
    s.cut()
    return s.output
