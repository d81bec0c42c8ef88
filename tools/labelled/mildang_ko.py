"""Mildang POS (fictional) at a bakery: Korean, 80 mm set to 42 columns, EUC-KR in FS & mode, won
without decimals (15,700), prices that include VAT (과세물품가액 + 부가세 = 합계금액), an order number
(주문번호), columns 'name  unit price  qty  amount', a card number and approval number (승인번호) on card
sales, Kakao Pay, a member discount (회원번호), a refund (환불, amounts '-7,000') and a split payment.
Not a bundled profile: its receipts are the test of ``klx profile new``.
"""

from __future__ import annotations

import random

from tools.labelled.common import Record, Slip, pick

GOODS = [
    ("소금빵", 3500), ("크루아상", 4200), ("단팥빵", 2800), ("우유식빵", 5500), ("딸기 생크림 케이크", 28000),
    ("아메리카노(ICE)", 4000), ("카페라떼", 4800), ("마늘 바게트", 6500),
]  # fmt: skip
# n -> 1 cash with change, 2 card, 3 Kakao Pay, 4 member discount (card), 5 refund (card), 6 split
PAYMENT = {1: "cash", 2: "card", 3: "mobile", 4: "card", 5: "card", 6: "split"}


def won(value: int) -> str:
    return f"{value:,}"


def mildang(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("euc_kr", 42, fs=True)
    refund = n == 5
    sign = -1 if refund else 1
    items = [(name, price, q := rng.randrange(1, 4), price * q) for name, price in pick(rng, GOODS, 2, 4)]
    subtotal = sum(i[3] for i in items)
    discount = 500 * rng.randrange(1, 5) if n == 4 else 0
    total = subtotal - discount
    net = round(total / 1.1)
    vat = total - net
    order = f"20261125-{rng.randrange(10**4):04d}"
    when = f"2026-11-25 {8 + n:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    member = f"{rng.randrange(10**3, 10**4)}-{rng.randrange(10**4):04d}"
    method = PAYMENT[n]
    s.init()
    s.big("밀당제과")
    s.center("서울시 마포구 양화로 45")
    s.center("사업자번호: 105-87-41236")
    s.center("대표: 김민수  TEL 02-334-5678")
    s.center("[환불영수증]" if refund else "[영수증]", bold=True)
    s.line(f"주문번호: {order}")
    s.line(f"판매일시: {when}")
    s.line(f"계산원: {['이수진', '박지훈', '최유나'][n % 3]}")
    s.rule("-")
    s.cols(("상품명", 18), ("단가", -8), ("수량", -5), ("금액", -11))
    s.rule("-")
    for name, price, q, amount in items:
        s.cols((name, 18), (won(price), -8), (str(q), -5), (won(sign * amount), -11))
    s.rule("-")
    s.row("합계수량", str(sum(i[2] for i in items)))
    s.row("소계", won(sign * subtotal))
    if discount:
        s.row("회원할인", won(-discount))
        s.line(f"회원번호: {member}")
    s.style(bold=True, double_height=True)
    s.row("합계금액", won(sign * total))
    s.style(bold=False, normal_textsize=True)
    s.row("과세물품가액", won(sign * net))
    s.row("부가세", won(sign * vat))
    s.rule("-")
    payments: list[tuple[str, int]]
    change = 0
    if method == "cash":
        paid = -(-total // 10000) * 10000
        payments, change = [("cash", paid)], paid - total
    elif method == "split":
        part = 5000
        paid = -(-(total - part) // 1000) * 1000
        payments, change = [("mobile", part), ("cash", paid)], paid - (total - part)
    else:
        payments = [(method, total)]
    words = {"cash": "현금", "card": "신용카드", "mobile": "카카오페이"}
    for how, amount in payments:
        s.row(words[how], won(sign * amount))
        if how == "card":
            s.line(f"카드번호: 9410-{rng.randrange(10**2):02d}**-****-{rng.randrange(10**4):04d}")
            s.line(f"승인번호: {rng.randrange(10**8):08d}")
    if change:
        s.row("거스름돈", won(change))
    s.rule("-")
    s.center("교환/환불은 영수증 지참 후 7일 이내")
    s.center("감사합니다. 또 오세요!")
    s.cut()
    tx: Record = {
        "currency": "KRW", "order_no": order, "datetime": when.replace(" ", "T"),
        "items": [{"name": nm, "quantity": str(q), "unit_price": str(p), "amount": str(sign * a)}
                  for nm, p, q, a in items],
        "subtotal": str(sign * subtotal), "tax": str(sign * vat), "total": str(sign * total),
        "payments": [{"method": how, "amount": str(sign * amount)} for how, amount in payments],
    }  # fmt: skip
    if discount:
        tx["discount"], tx["member_id"] = str(discount), member
    if change:
        tx["change"] = str(change)
    return s.output, [{"profile": "mildang-pos", "kind": "refund" if refund else "sale", "transaction": tx}]
