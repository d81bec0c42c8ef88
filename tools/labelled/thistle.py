"""Thistle EPOS (fictional) in a British pub: English on 80 mm, code page 437 (the '£' sign), raster logo.

Bills ('BILL - NOT A RECEIPT', the pre-bill) then receipts for a table, items 'QTY NAME @ PRICE  AMOUNT',
an optional 12.5 % service charge, VAT included, contactless card or cash; a Z reading closes the day
(takings per payment method with thousands separators).
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, logo, money, pick

MENU = [
    ("Pint of Bitter", "4.80"), ("Pint of Cider", "5.10"), ("Fish & Chips", "15.50"), ("Steak Pie", "14.25"),
    ("Ploughman's", "11.00"), ("Sticky Toffee Pud", "6.75"), ("Large Red Wine", "8.90"), ("Crisps", "1.60"),
]  # fmt: skip
PAY = [("Card (Contactless)", "card"), ("Cash", "cash")]


def _top(s: Slip) -> None:
    s.init()
    s.image(logo("TCT"))
    s.center("THE CROOKED THISTLE", bold=True)
    s.center("14 Harbour Lane, Whitby YO21 3PU")
    s.center("VAT No. GB 123 4567 89")


def thistle(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp437", 48)
    if n == 5:
        return _z_reading(s, rng)
    table, covers = str(rng.randrange(1, 25)), rng.randrange(1, 7)
    minute = rng.randrange(60)
    when = f"25 Nov 2026 {18 + n}:{minute:02d}"
    check = f"{2200 + n * 9}"
    staff = ["Morag", "Callum", "Isla"][n % 3]
    lines = [(nm, q := rng.randrange(1, 4), Decimal(p), Decimal(p) * q) for nm, p in pick(rng, MENU, 2, 5)]
    subtotal = sum((a for *_, a in lines), Decimal(0))
    service = (subtotal * Decimal("0.125")).quantize(Decimal("0.01")) if n != 2 else Decimal(0)
    total = subtotal + service
    vat = (total / 6).quantize(Decimal("0.01"))  # 20 % VAT included: one sixth of the gross
    records = []
    for kind in ("pre_bill", "sale"):
        _top(s)
        s.center("BILL - NOT A RECEIPT" if kind == "pre_bill" else "RECEIPT", bold=True)
        s.row(f"Table {table}", f"Covers {covers}")
        s.row(f"Check #{check}", f"Served by {staff}")
        s.line(when)
        s.rule("-")
        for name, q, price, amount in lines:
            s.row(f"{q} {name} @ {price:.2f}", f"£{amount:.2f}")
        s.rule("-")
        s.row("Subtotal", money(subtotal))
        if service:
            s.row("Service 12.5% (optional)", money(service))
        s.style(bold=True, double_height=True)
        s.row("TOTAL", money(total))
        s.style(bold=False, normal_textsize=True)
        s.row("VAT @20% incl.", money(vat))
        tx: Record = {"order_no": check, "table": table, "covers": covers, "cashier": staff,
                      "datetime": f"2026-11-25T{18 + n}:{minute:02d}:00", "subtotal": dec(subtotal),
                      "total": dec(total), "tax": dec(vat),
                      "items": [{"name": nm, "quantity": str(q), "unit_price": dec(p), "amount": dec(a)}
                                for nm, q, p, a in lines]}  # fmt: skip
        if service:
            tx["service_charge"] = dec(service)
        if kind == "sale":
            word, method = PAY[n % 2]
            paid = total if method == "card" else (total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
            s.row(word, money(paid))
            tx["payments"] = [{"method": method, "amount": dec(paid)}]
            if paid != total:
                s.row("Change", money(paid - total))
                tx["change"] = dec(paid - total)
            s.center("Cheers! See you at the Thistle")
        else:
            tx["payments"] = []
        s.cut(mode="PART", feed=False)
        records.append({"profile": "thistle-epos", "kind": kind, "transaction": tx})
    return s.output, records


def _z_reading(s: Slip, rng: random.Random) -> tuple[bytes, list[Record]]:
    takings = [(word, method, Decimal(rng.randrange(50000, 500000)) / 100) for word, method in PAY]
    net = sum((a for *_, a in takings), Decimal(0))
    count, voids, voided = rng.randrange(60, 300), rng.randrange(0, 6), Decimal(rng.randrange(400, 5000)) / 100
    _top(s)
    s.center("Z READING", bold=True)
    s.row("Z No.", "0412")
    s.row("From", "25/11/2026 10:58")
    s.row("To", "25/11/2026 23:41")
    s.rule("=")
    s.row("Transactions", str(count))
    s.row("Voids", str(voids))
    s.row("Void value", f"-{money(voided)}")
    s.rule("-")
    for word, _, amount in takings:
        s.row(word.upper(), money(amount))
    s.rule("-")
    s.style(bold=True)
    s.row("NET SALES", money(net))
    s.style(bold=False)
    s.cut(mode="PART", feed=False)
    tx = {"total": dec(net), "payments": [{"method": m, "amount": dec(a)} for _, m, a in takings],
          "report": {"number": "0412", "opened": "2026-11-25T10:58:00", "closed": "2026-11-25T23:41:00",
                     "receipts": count, "refunds": voids, "refund_total": dec(-voided)}}  # fmt: skip
    return s.output, [{"profile": "thistle-epos", "kind": "shift_report", "transaction": tx}]
