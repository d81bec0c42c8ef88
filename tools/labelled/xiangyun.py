"""XiangYun catering POS (fictional): zh-CN Cantonese restaurant on 80 mm, GB18030 in FS & mode, raster logo.

Per table: a kitchen order (厨打单, double size, no prices), then the bill in four columns
(品名 数量 单价 金额) with a per-cover tea charge (茶位费, the service charge) and a discount;
some tables get a pre-bill (消费清单) first. Dates as 2026/11/25 18:03.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, logo, pick

MENU = [
    ("白切鸡(半只)", "68.00"), ("烧鹅", "88.00"), ("虾饺皇", "32.00"), ("干炒牛河", "42.00"),
    ("清蒸石斑", "168.00"), ("菜心", "28.00"), ("例汤", "22.00"), ("菠萝包", "18.00"),
]  # fmt: skip
PAY = [("支付宝", "alipay"), ("微信", "wechat"), ("现金", "cash"), ("会员卡", "other")]
TEA = Decimal("3.00")


def xiangyun(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("gb18030", 48, fs=True)
    table, covers = f"{rng.choice('大中')}厅{rng.randrange(1, 20)}", rng.randrange(2, 9)
    when = f"2026/11/25 {17 + n}:{rng.randrange(60):02d}"
    order = f"NO.XY2611250{n:03d}"
    waiter = ["阿芳", "阿强", "小梅"][n % 3]
    dishes = [(nm, q := rng.randrange(1, 3), Decimal(pr), Decimal(pr) * q) for nm, pr in pick(rng, MENU, 2, 5)]
    subtotal = sum((a for *_, a in dishes), Decimal(0))
    tea = TEA * covers
    discount = Decimal(rng.choice([0, 10, 20])) if n != 2 else Decimal(0)
    total = subtotal + tea - discount
    records: list[Record] = []
    # kitchen order
    s.init()
    s.big("厨打单")
    s.line(f"祥云酒家  {when}")
    s.big(f"台号:{table}", align="left")
    s.rule("=")
    for name, q, _, _ in dishes:
        s.style(double_height=True, double_width=True)
        s.line(f"{name} ×{q}")
        s.style(normal_textsize=True)
    s.rule("=")
    s.cut(mode="PART", feed=False)
    kitchen = {"table": table, "items": [{"name": nm, "quantity": str(q)} for nm, q, _, _ in dishes]}
    records.append({"profile": "xiangyun-canyin", "kind": "kitchen", "transaction": kitchen})
    kinds = [("pre_bill", "消费清单"), ("sale", "结账单")] if n % 2 else [("sale", "结账单")]
    for kind, title in kinds:
        s.init()
        s.image(logo("XY"))
        s.big("祥云酒家")
        s.center(f"—— {title} ——")
        s.line(f"单号:{order}")
        s.row(f"台号:{table}", f"人数:{covers}")
        s.row(f"时间:{when}", f"服务员:{waiter}")
        s.rule("-")
        s.cols(("品名", 24), ("数量", -6), ("单价", -8), ("金额", -10))
        for name, q, price, amount in dishes:
            s.cols((name, 24), (str(q), -6), (f"{price:.2f}", -8), (f"{amount:.2f}", -10))
        s.rule("-")
        s.row("菜品合计:", f"{subtotal:.2f}")
        s.row(f"茶位费({covers}位×{TEA:.2f}):", f"{tea:.2f}")
        if discount:
            s.row("优惠:", f"-{discount:.2f}")
        s.style(bold=True, double_height=True)
        s.row("应付金额:", f"{total:.2f}")
        s.style(bold=False, normal_textsize=True)
        tx: Record = {"order_no": order, "table": table, "covers": covers, "cashier": waiter,
                      "datetime": when.replace("/", "-").replace(" ", "T") + ":00",
                      "subtotal": dec(subtotal), "service_charge": dec(tea), "total": dec(total),
                      "items": [{"name": nm, "quantity": str(q), "unit_price": dec(pr), "amount": dec(a)}
                                for nm, q, pr, a in dishes]}  # fmt: skip
        if discount:
            tx["discount"] = dec(discount)
        if kind == "sale":
            word, method = PAY[n % 4]
            s.row(f"{word}:", f"{total:.2f}")
            tx["payments"] = [{"method": method, "amount": dec(total)}]
            s.qr(f"https://kelaile.example/x/{order}")
            s.center("多谢光临 祥云酒家")
        else:
            s.center("请核对菜品 结账请找服务员")
            tx["payments"] = []
        s.cut(mode="PART", feed=False)
        records.append({"profile": "xiangyun-canyin", "kind": kind, "transaction": tx})
    return s.output, records
