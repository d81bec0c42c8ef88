"""AnXin pharmacy till (fictional): zh-CN pharmacy on 80 mm set to 42 columns, GB18030 without FS &.

Each item is '[drug code] name spec' then '  batch  QTY unit x PRICE = AMOUNT'; medical-insurance and
personal-account payments, member phone, pharmacist on duty; returns (退药单) print unsigned amounts.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, pick

DRUGS = [
    ("Y0012345", "阿莫西林胶囊 0.25g*24粒", "盒", "12.50"), ("Y0020871", "布洛芬缓释胶囊 0.3g*20粒", "盒", "18.80"),
    ("Y0033102", "板蓝根颗粒 10g*20袋", "包", "15.00"), ("Q0100056", "医用口罩 10只", "包", "9.90"),
    ("Y0041177", "维生素C片 100片", "瓶", "6.50"), ("Q0100213", "创可贴 100片", "盒", "11.00"),
]  # fmt: skip
PAY = [("医保统筹", "other"), ("微信支付", "wechat"), ("现金", "cash")]


def anxin(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("gb18030", 42)
    refund = n == 5
    drugs = pick(rng, DRUGS, 1, 4)
    items = [(code, name, unit, q := rng.randrange(1, 4), Decimal(p), Decimal(p) * q) for code, name, unit, p in drugs]
    total = sum((i[5] for i in items), Decimal(0))
    word, method = PAY[n % 3] if not refund else PAY[2]
    paid = total if method != "cash" or refund else (total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
    minute = rng.randrange(60)
    when = f"2026年11月25日 {8 + n:02d}:{minute:02d}"
    order = f"AX{20261125}{n * 11:04d}"
    member = f"1{rng.randrange(30, 90)}****{rng.randrange(10**4):04d}"
    s.init()
    s.style(align="center", bold=True, double_height=True)
    s.line("安心大药房")
    s.style(align="center", bold=False, normal_textsize=True)
    s.line("(连锁第018店)")
    s.line("退药单" if refund else "销售小票")
    s.style(align="left")
    s.line(f"单据号: {order}")
    s.line(f"日期: {when}")
    s.row("收银员: 周敏", "执业药师: 李华")
    s.rule("~")
    for code, name, unit, q, price, amount in items:
        s.line(f"[{code}] {name}")
        s.row(f"  批号{rng.randrange(10**5, 10**6)}  {q}{unit} x {price:.2f}", f"= {amount:.2f}")
    s.rule("~")
    s.row("合计金额", f"{total:.2f}")
    s.row(word, f"{paid:.2f}")
    if paid != total:
        s.row("找零", f"{paid - total:.2f}")
    s.line(f"会员: {member}")
    s.line("药品售出非质量问题不予退换")
    s.line("请遵医嘱或按说明书使用")
    s.cut()
    sign = -1 if refund else 1
    tx: Record = {"order_no": order, "datetime": f"2026-11-25T{8 + n:02d}:{minute:02d}:00", "cashier": "周敏",
                  "member_id": member, "total": dec(sign * total),
                  "payments": [{"method": method, "amount": dec(sign * paid)}],
                  "items": [{"sku": c, "name": nm, "quantity": str(q), "unit_price": dec(p), "amount": dec(sign * a)}
                            for c, nm, _, q, p, a in items]}  # fmt: skip
    if paid != total:
        tx["change"] = dec(paid - total)
    return s.output, [{"profile": "anxin-pharmacy", "kind": "refund" if refund else "sale", "transaction": tx}]
