"""YongFu Mart till (fictional): zh-TW supermarket on 58 mm, Big5 without FS &, Minguo (ROC) dates.

Each item is a barcode line then 'name  xQTY  AMOUNTTX' (TX: taxable); member phone numbers;
EasyCard (stored value) payments; returns (退貨) print positive amounts.
"""

from __future__ import annotations

import random

from tools.labelled.common import Record, Slip, pick

GOODS = [
    ("4710088412345", "御飯糰 鮪魚", 35), ("4710018000206", "鮮乳 936ml", 95), ("4719090900018", "茶葉蛋", 13),
    ("4710063312357", "泡麵 牛肉", 42), ("4710105030017", "衛生紙 12包", 189), ("4714431010105", "礦泉水", 20),
    ("4710128020101", "洋芋片", 39),
]  # fmt: skip
PAY = [("現金", "cash"), ("悠遊卡", "other"), ("信用卡", "card")]


def yongfu(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp950", 32)
    refund = n == 5
    goods = pick(rng, GOODS, 1 if refund else 2, 2 if refund else 4)
    items = [(sku, name, q := rng.randrange(1, 3), price * q) for sku, name, price in goods]
    total = sum(a for *_, a in items)
    hour, minute = 8 + n * 2, rng.randrange(60)
    roc = f"115/11/25 {hour:02d}:{minute:02d}"
    order = f"YF{rng.randrange(10**7):07d}"
    word, method = PAY[n % 3] if not refund else PAY[0]
    paid = (total // 100 + 1) * 100 if method == "cash" and not refund else total
    member = f"09{rng.randrange(10**8):08d}" if n % 2 else None
    s.init()
    s.style(align="center", bold=True)
    s.line("永福超市 中山店")
    s.style(align="center", bold=False)
    s.line("退貨證明單" if refund else "交易明細")
    s.style(align="left")
    s.line(f"機號:02 序號:{order}")
    s.line(f"日期:{roc}")
    s.rule("-")
    for sku, name, q, amount in items:
        s.line(sku)
        s.row(f" {name} x{q}", f"{amount}TX")
    s.rule("-")
    s.row("總計", f"{total}")
    s.row(word, f"{paid}")
    if paid != total:
        s.row("找零", f"{paid - total}")
    if member:
        s.line(f"會員:{member[:4]}***{member[-3:]}")
    s.line("永福超市感謝您")
    s.cut()
    sign = -1 if refund else 1
    tx: Record = {"terminal": "02", "order_no": order, "datetime": f"2026-11-25T{hour:02d}:{minute:02d}:00",
                  "total": f"{sign * total}.00", "payments": [{"method": method, "amount": f"{sign * paid}.00"}],
                  "member_id": f"{member[:4]}***{member[-3:]}" if member else None,
                  "items": [{"sku": sku, "name": nm, "quantity": str(q), "amount": f"{sign * a}.00"}
                            for sku, nm, q, a in items]}  # fmt: skip
    if paid != total:
        tx["change"] = f"{paid - total}.00"
    return s.output, [{"profile": "yongfu-mart", "kind": "refund" if refund else "sale", "transaction": tx}]
