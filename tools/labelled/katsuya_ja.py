"""Katsuya Register (fictional) at a tonkatsu restaurant: Japanese, 80 mm set to 42 columns, Shift_JIS
in kanji mode (FS & + FS C 1), yen without decimals (￥1,618), consumption tax (消費税) added on top of
prices, 10 % for eating in and the reduced 8 % for take-away items '(持帰)', a slip number (伝票番号),
cash with change, credit card, PayPay, a member discount, a refund (返品, amounts '-￥…') and a
split payment. Not a bundled profile: its receipts are the test of ``klx profile new``.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal

from tools.labelled.common import Record, Slip, pick

MENU = [
    ("ロースかつ定食", 1480, 10), ("ヒレかつ定食", 1680, 10), ("生ビール", 550, 10), ("ウーロン茶", 300, 10),
    ("カツサンド(持帰)", 780, 8), ("メンチかつ弁当(持帰)", 980, 8), ("キャベツ大盛", 150, 10),
]  # fmt: skip
# n -> (what the receipt shows): 1 cash with change, 2 card, 3 PayPay, 4 member discount, 5 refund, 6 split
PAYMENT = {1: "cash", 2: "card", 3: "mobile", 4: "cash", 5: "card", 6: "split"}


def yen(value: int) -> str:
    """As the till prints a yen amount: '￥1,618', '-￥100'."""
    return ("-" if value < 0 else "") + f"￥{abs(value):,}"


def _tax(base: int, rate: int) -> int:
    return int((Decimal(base) * rate / 100).quantize(Decimal(1), rounding=ROUND_DOWN))


def katsuya(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp932", 42, fs=True)
    refund = n == 5
    sign = -1 if refund else 1
    items = [(name, q := rng.randrange(1, 4), price, price * q, rate) for name, price, rate in pick(rng, MENU, 2, 4)]
    subtotal = sum(i[3] for i in items)
    discount = 100 * rng.randrange(1, 4) if n == 4 else 0
    base = {r: sum(a for *_, a, rate in items if rate == r) for r in (10, 8)}
    base[10 if base[10] >= discount else 8] -= discount  # the member discount comes off the larger base
    tax = _tax(base[10], 10) + _tax(base[8], 8)
    total = subtotal - discount + tax
    slip = f"{n:04d}-{rng.randrange(10**4):04d}"
    minute = rng.randrange(60)
    when = f"2026年11月25日 {11 + n:02d}:{minute:02d}"
    member = f"{rng.randrange(10**7, 10**8)}"
    method = PAYMENT[n]
    s.init()
    s.raw(b"\x1cC\x01")  # FS C 1: Shift_JIS
    s.big("とんかつ 勝や")
    s.center("東京都台東区上野3-14-7")
    s.center("TEL 03-5812-0419")
    s.center("返品" if refund else "領収書", bold=True)
    s.line(f"伝票番号: {slip}")
    s.line(when)
    s.line(f"担当: {['佐藤', '鈴木', '高橋'][n % 3]}  テーブル: {n + 2}")
    s.rule("-")
    for name, q, price, amount, _rate in items:
        s.row(f"{name}  {q} x {price:,}", yen(sign * amount))
    s.rule("-")
    s.row("小計", yen(sign * subtotal))
    if discount:
        s.row("会員割引", yen(-discount))
        s.line(f"会員番号: {member}")
    s.row("10%対象", yen(sign * base[10]))
    s.row("8%対象", yen(sign * base[8]))
    s.row("消費税", yen(sign * tax))
    s.style(bold=True, double_height=True)
    s.row("合計", yen(sign * total))
    s.style(bold=False, normal_textsize=True)
    payments: list[tuple[str, int]]
    change = 0
    if method == "cash":
        paid = -(-total // 1000) * 1000
        payments, change = [("cash", paid)], paid - total
    elif method == "split":
        part = 1000 * max(1, total // 2000)
        paid = -(-(total - part) // 1000) * 1000
        payments, change = [("mobile", part), ("cash", paid)], paid - (total - part)
    else:
        payments = [(method, total)]
    words = {"cash": "現金", "card": "クレジット", "mobile": "PayPay"}
    for how, amount in payments:
        s.row(words[how], yen(sign * amount))
    if change:
        s.row("お釣り", yen(change))
    if method == "card":
        s.line(f"承認番号: {rng.randrange(10**6):06d}")
    s.rule("-")
    s.line("(持帰)は軽減税率8%対象です")
    s.center("ご来店ありがとうございました")
    s.cut()
    tx: Record = {
        "currency": "JPY", "order_no": slip, "datetime": f"2026-11-25T{11 + n:02d}:{minute:02d}:00",
        "items": [{"name": nm, "quantity": str(q), "unit_price": str(p), "amount": str(sign * a)}
                  for nm, q, p, a, _ in items],
        "subtotal": str(sign * subtotal), "tax": str(sign * tax), "total": str(sign * total),
        "payments": [{"method": how, "amount": str(sign * amount)} for how, amount in payments],
    }  # fmt: skip
    if discount:
        tx["discount"], tx["member_id"] = str(discount), member
    if change:
        tx["change"] = str(change)
    return s.output, [{"profile": "katsuya-register", "kind": "refund" if refund else "sale", "transaction": tx}]
