"""KuaiSong takeaway printer plug-in (fictional): delivery order slips on 58 mm, GB18030 in FS & mode, no cut.

A big pick-up number, the platform order number, 'name  xQTY  AMOUNT' with one decimal, packing fee
and delivery fee on one line, a shop coupon, the customer's masked phone, a QR code; cancelled orders print a
cancellation slip whose amounts are refunded (printed unsigned).
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, pick

MENU = [
    ("黄焖鸡米饭", "22.0"), ("酸菜鱼(小份)", "36.8"), ("卤肉饭", "16.5"), ("香辣鸡腿堡", "15.0"),
    ("冰镇酸梅汤", "6.0"), ("麻辣烫(荤素)", "28.6"), ("凉拌黄瓜", "9.9"),
]  # fmt: skip


def _one(value: Decimal) -> str:
    return f"{value:.1f}"


def kuaisong(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("gb18030", 32, fs=True)
    cancelled = n == 4
    dishes = [(nm, q := rng.randrange(1, 3), Decimal(pr) * q) for nm, pr in pick(rng, MENU, 1, 4)]
    subtotal = sum((a for *_, a in dishes), Decimal(0))
    packing = Decimal("1.0") * len(dishes)
    delivery = Decimal(rng.choice(["2.5", "3.0", "4.0"]))
    coupon = Decimal(rng.choice(["0", "3.0", "5.0"]))
    total = subtotal + packing + delivery - coupon
    order = f"3{rng.randrange(10**17):017d}"
    pick_no = rng.randrange(1, 99)
    when = f"2026-11-25 11:{10 + n * 7:02d}"
    s.init()
    s.big(f"#{pick_no} 快送外卖")
    s.center("*老街饭堂(解放路店)*")
    s.center("【订单已取消】" if cancelled else "【已在线支付】")
    s.line(f"下单时间:{when}")
    s.line(f"订单号:{order}")
    s.rule("-")
    for name, q, amount in dishes:
        s.row(f"{name} x{q}", _one(amount))
    s.rule("-")
    s.row("商品小计", _one(subtotal))
    s.row("配送费(含包装)", _one(packing + delivery))
    if coupon:
        s.row("商家红包", f"-{_one(coupon)}")
    s.style(bold=True, double_height=True)
    s.row("退款金额" if cancelled else "实付", _one(total))
    s.style(bold=False, normal_textsize=True)
    s.rule("-")
    s.line(f"顾客:王** 尾号{rng.randrange(10**4):04d}")
    s.line("地址:解放路***号")
    s.qr(f"https://kelaile.example/t/{order}")
    s.center(f"#{pick_no} 完")
    s.raw(b"\x1b\x64\x04")  # feed 4 lines; the slip is torn off, never cut
    sign = -1 if cancelled else 1
    tx: Record = {"order_no": order, "datetime": when.replace(" ", "T") + ":00",
                  "subtotal": dec(sign * subtotal), "service_charge": dec(sign * (packing + delivery)),
                  "total": dec(sign * total), "payments": [{"method": "other", "amount": dec(sign * total)}],
                  "items": [{"name": nm, "quantity": str(q), "amount": dec(sign * a)}
                            for nm, q, a in dishes]}  # fmt: skip
    if coupon:
        tx["discount"] = dec(sign * coupon)
    return s.output, [{"profile": "kuaisong-takeaway", "kind": "refund" if cancelled else "sale", "transaction": tx}]
