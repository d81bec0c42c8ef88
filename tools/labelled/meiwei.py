"""MeiWei POS (fictional): zh-CN restaurant on 80 mm, GB18030 in FS & mode, pre-bill then final bill."""

from __future__ import annotations

import random
from decimal import Decimal

from escpos.printer import Dummy

from tools.labelled.common import Record
from tools.labelled.common import dec as money
from tools.make_samples import FS_OFF, FS_ON, cols


def meiwei(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    """MeiWei POS: a pre-bill then the final receipt for one table (two jobs)."""
    enc, w = "gb18030", 48
    menu = [("宫保鸡丁", "38.00"), ("水煮鱼", "68.00"), ("米饭", "3.00"), ("青岛啤酒", "12.00"), ("麻婆豆腐", "26.00"),
            ("酸辣汤", "18.00")]  # fmt: skip
    picks = rng.sample(menu, rng.randrange(2, 5))
    items = [(name, q := rng.randrange(1, 4), Decimal(price) * q) for name, price in picks]
    subtotal = sum((a for _, _, a in items), Decimal(0))
    service = (subtotal / 10).quantize(Decimal("0.01"))
    total = subtotal + service
    table, covers, order = f"A{rng.randrange(1, 30):02d}", rng.randrange(1, 9), f"20261125-{n:04d}"
    when = f"2026-11-25 12:{n:02d}:07"
    p = Dummy(profile="TM-T88V")
    records = []
    for kind, title in (("pre_bill", "预结单"), ("sale", "结账单")):
        p.hw("INIT")
        p.set(align="center", double_height=True, double_width=True, bold=True)
        p._raw(FS_ON + "美味小馆".encode(enc) + b"\n")
        p.set(align="center", normal_textsize=True, bold=False)
        p._raw(title.encode(enc) + b"\n")
        p.set(align="left")
        p._raw(cols(f"桌号: {table}", f"人数: {covers}", w, enc))
        p._raw(cols(f"单号: {order}", "收银员: 小王", w, enc))
        p._raw(f"{when}\n".encode(enc) + b"-" * w + b"\n")
        for name, qty, amount in items:
            p._raw(cols(f"{name}  x{qty}", money(amount), w, enc))
        p._raw(b"-" * w + b"\n" + cols("小计", money(subtotal), w, enc) + cols("服务费 10%", money(service), w, enc))
        p._raw(cols("合计", money(total), w, enc))
        payments = []
        if kind == "sale":
            p._raw(cols("微信支付", money(total), w, enc))
            payments = [{"method": "wechat", "amount": money(total)}]
        p._raw(FS_OFF)
        p.set(align="center")
        p.qr(f"https://kelaile.example/c/MW{n:04d}", native=True)
        p._raw(FS_ON + "谢谢惠顾，欢迎再来".encode(enc) + FS_OFF + b"\n")
        p.cut(mode="PART")
        records.append({
            "profile": "meiwei-pos", "kind": kind,
            "transaction": {"order_no": order, "datetime": when.replace(" ", "T"), "table": table, "covers": covers,
                            "cashier": "小王", "subtotal": money(subtotal), "service_charge": money(service),
                            "total": money(total), "payments": payments,
                            "items": [{"name": nm, "quantity": str(q), "amount": money(a)} for nm, q, a in items]},
        })  # fmt: skip
    return p.output, records
