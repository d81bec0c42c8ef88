"""WanJia Select supermarket till (fictional): zh-CN, 80 mm, GB18030 in FS & mode, raster logo.

Two-line items (name, then barcode + qty x price + amount; weighed goods in kg to three places),
member card with a member discount, refunds printed with minus signs, a shift report (交班报表) with
takings per payment method.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, logo, pick

GOODS = [
    ("6901234567892", "富士苹果 1kg", "12.80"), ("6923450656181", "纯牛奶 250ml*12", "45.90"),
    ("6901028075831", "洗衣液 2L", "29.90"), ("6920202888883", "东北大米 5kg", "39.80"),
    ("6954767412346", "苏打饼干 400g", "9.90"), ("6902083881405", "矿泉水 550ml", "2.00"),
    ("6921168509256", "鸡蛋 30枚", "24.50"), ("6907992500133", "酸奶 200g*4", "15.60"),
    ("2100230000007", "散装红薯(kg)", "6.80"), ("2100410000004", "五花肉(kg)", "32.00"),
]  # fmt: skip
WEIGHED = "(kg)"  # sold by weight: a scale's 21… code, kilograms to three places
PAY = [("支付宝", "alipay"), ("微信支付", "wechat"), ("银联卡", "unionpay"), ("现金", "cash")]
W = 48


def _header(s: Slip, title: str, order: str, when: str) -> None:
    s.init()
    s.image(logo("WJ"))
    s.big("万佳优选超市")
    s.center(title)
    s.row("门店: 0031 滨江店", "收银机: 03")
    s.row(f"流水号: {order}", "收银员: 陈静")
    s.line(f"时间: {when}")
    s.rule("=")


def wanjia(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("gb18030", W, fs=True)
    when = f"2026-11-25 {9 + n}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    order = f"0031-20261125-{100 + n * 7:05d}"
    base = {"store": "0031 滨江店", "terminal": "03", "cashier": "陈静", "order_no": order,
            "datetime": when.replace(" ", "T")}  # fmt: skip
    if n == 5:
        return _shift_report(s, rng, when, base)
    refund = n == 4
    goods = pick(rng, GOODS, 1 if refund else 2, 2 if refund else 5)
    items = []
    for sku, name, price in goods:
        # grams with a non-zero last digit, so the weight always shows (and reads back with) three decimals
        grams = rng.randrange(25, 250) * 10 + rng.randrange(1, 10)
        qty = Decimal(grams) / 1000 if WEIGHED in name else Decimal(rng.randrange(1, 4))
        amount = (Decimal(price) * qty).quantize(Decimal("0.01"))
        items.append((sku, name, qty, Decimal(price), -amount if refund else amount))
    subtotal = sum((i[4] for i in items), Decimal(0))
    member = f"6200{rng.randrange(10**8):08d}" if n != 3 else None
    discount = (abs(subtotal) * Decimal("0.05")).quantize(Decimal("0.1")) if member and not refund else Decimal(0)
    total = subtotal - discount
    method_word, method = PAY[n % len(PAY)] if not refund else PAY[0]
    paid = total
    change = Decimal(0)
    if method == "cash":
        paid = (total / 50).to_integral_value(rounding="ROUND_CEILING") * 50
        change = paid - total
    _header(s, "退货单" if refund else "购物小票", order, when)
    s.cols(("商品/条码", 22), ("数量", -8), ("单价", -8), ("金额", -10))
    s.rule()
    for sku, name, qty, price, amount in items:
        s.line(name)
        s.cols((sku, 22), (str(-qty if refund else qty), -8), (f"{price:.2f}", -8), (f"{amount:.2f}", -10))
    s.rule()
    count = len(items)
    s.row(f"品项: {count}", f"小计: {subtotal:.2f}")
    if member:
        s.line(f"会员卡: {member}")
        if discount:
            s.row("会员优惠", f"-{discount:.2f}")
    s.style(bold=True, double_height=True)
    s.row("应收" if not refund else "应退", f"{total:.2f}")
    s.style(bold=False, normal_textsize=True)
    s.row(method_word, f"{paid:.2f}")
    if method == "cash":
        s.row("找零", f"{change:.2f}")
    s.barcode(order.replace("-", ""))
    s.center("凭小票七日内可退换")
    s.cut()
    tx = {**base, "subtotal": dec(subtotal), "total": dec(total), "member_id": member,
          "payments": [{"method": method, "amount": dec(paid)}],
          "items": [{"name": nm, "sku": sku, "quantity": str(-q if refund else q), "unit_price": dec(pr),
                     "amount": dec(a)} for sku, nm, q, pr, a in items]}  # fmt: skip
    if discount:
        tx["discount"] = dec(discount)
    if method == "cash":
        tx["change"] = dec(change)
    return s.output, [{"profile": "wanjia-market", "kind": "refund" if refund else "sale", "transaction": tx}]


def _shift_report(s: Slip, rng: random.Random, when: str, base: Record) -> tuple[bytes, list[Record]]:
    takings = [(word, method, Decimal(rng.randrange(20000, 900000)) / 100) for word, method in PAY]
    refunds, refund_total = rng.randrange(1, 5), Decimal(rng.randrange(1000, 9000)) / 100
    net = sum((t for _, _, t in takings), Decimal(0))
    receipts = rng.randrange(80, 400)
    opened = "2026-11-25 08:00:00"
    s.init()
    s.big("万佳优选超市")
    s.center("交班报表")
    s.row("门店: 0031 滨江店", "收银机: 03")
    s.row("班次号: B20261125-1", "收银员: 陈静")
    s.line(f"开始: {opened}")
    s.line(f"结束: {when}")
    s.rule("=")
    s.row("销售笔数", str(receipts))
    s.row("退货笔数", str(refunds))
    s.row("退货金额", f"-{refund_total:.2f}")
    s.rule()
    for word, _, amount in takings:
        s.row(word, f"{amount:.2f}")
    s.rule()
    s.style(bold=True)
    s.row("净销售额", f"{net:.2f}")
    s.style(bold=False)
    s.line("交班人签字: ________")
    s.cut()
    tx = {"store": base["store"], "terminal": base["terminal"], "cashier": base["cashier"], "total": dec(net),
          "payments": [{"method": m, "amount": dec(a)} for _, m, a in takings],
          "report": {"number": "B20261125-1", "opened": opened.replace(" ", "T"),
                     "closed": base["datetime"], "receipts": receipts, "refunds": refunds,
                     "refund_total": dec(-refund_total)}}  # fmt: skip
    return s.output, [{"profile": "wanjia-market", "kind": "shift_report", "transaction": tx}]
