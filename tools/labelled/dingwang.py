"""DingWang hotpot POS (fictional): zh-TW restaurant on 80 mm, Big5 in FS & mode (a Taiwanese printer setting).

Per table: a kitchen ticket (出菜單) per order, the statement (消費明細, pre-bill) and the paid receipt
(結帳收據) with a 10 % service charge; payments by credit card, LINE Pay (other) or cash; integer dollars.
"""

from __future__ import annotations

import random

from tools.labelled.common import Record, Slip, pick

MENU = [
    ("麻辣鍋底", 280), ("鴛鴦鍋底", 320), ("極品牛五花", 360), ("梅花豬", 260), ("手工蝦滑", 220),
    ("高麗菜", 80), ("凍豆腐", 60), ("鴨血", 90), ("台灣啤酒", 70),
]  # fmt: skip
PAY = [("信用卡", "card"), ("LINE Pay", "other"), ("現金", "cash")]


def dingwang(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp950", 48, fs=True)
    table, covers = f"{rng.randrange(1, 30):02d}", rng.randrange(2, 8)
    second = rng.randrange(60)
    when = f"2026/11/25 {17 + n}:{rng.randrange(60):02d}:{second:02d}"
    iso = when.replace("/", "-").replace(" ", "T")
    order = f"DW{n:02d}{rng.randrange(10**6):06d}"
    dishes = [(nm, q := rng.randrange(1, 3), pr, pr * q) for nm, pr in pick(rng, MENU, 3, 6)]
    subtotal = sum(a for *_, a in dishes)
    service = round(subtotal / 10)
    total = subtotal + service
    records: list[Record] = []
    s.init()
    s.big(f"出菜單  桌{table}")
    s.line(f"鼎旺麻辣鍋 {when}")
    s.rule("=")
    for name, q, _, _ in dishes:
        s.style(double_height=True)
        s.row(name, f"{q}份")
        s.style(normal_textsize=True)
    s.cut(mode="PART", feed=False)
    kitchen = {"table": table, "items": [{"name": nm, "quantity": str(q)} for nm, q, _, _ in dishes]}
    records.append({"profile": "dingwang-hotpot", "kind": "kitchen", "transaction": kitchen})
    for kind, title in (("pre_bill", "消費明細"), ("sale", "結帳收據")):
        s.init()
        s.big("鼎旺麻辣鍋")
        s.center(f"{title}")
        s.row(f"桌號: {table}", f"人數: {covers}")
        s.line(f"單號: {order}")
        s.line(f"時間: {when}")
        s.rule("-")
        for name, q, price, amount in dishes:
            s.cols((name, 26), (f"{price}", -8), (f"x{q}", -4), (f"{amount}", -10))
        s.rule("-")
        s.row("小計", f"${subtotal:,}")
        s.row("服務費(10%)", f"${service:,}")
        s.style(bold=True, double_height=True)
        s.row("應收金額", f"${total:,}")
        s.style(bold=False, normal_textsize=True)
        tx: Record = {"order_no": order, "table": table, "covers": covers, "datetime": iso,
                      "subtotal": f"{subtotal}.00", "service_charge": f"{service}.00", "total": f"{total}.00",
                      "items": [{"name": nm, "quantity": str(q), "unit_price": f"{p}.00", "amount": f"{a}.00"}
                                for nm, q, p, a in dishes]}  # fmt: skip
        if kind == "sale":
            word, method = PAY[n % 3]
            paid = total if method != "cash" else (total // 1000 + 1) * 1000
            s.row(word, f"${paid:,}")
            tx["payments"] = [{"method": method, "amount": f"{paid}.00"}]
            if paid != total:
                s.row("找零", f"${paid - total:,}")
                tx["change"] = f"{paid - total}.00"
            s.center("鼎旺感謝您 歡迎再度光臨")
        else:
            s.center("此非收據 請至櫃檯結帳")
            tx["payments"] = []
        s.cut(mode="PART", feed=False)
        records.append({"profile": "dingwang-hotpot", "kind": kind, "transaction": tx})
    return s.output, records
