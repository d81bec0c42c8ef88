"""KassenFuchs (fictional) at a bakery café: German, 80 mm with 42 columns, CP858 (ESC t 19), decimal comma.

Items 'QTY x NAME  AMOUNT A|B' with VAT classes, MwSt lines (included), terminal and operator,
Storno (void) receipts with trailing minus signs ('1,80-'), a TSE-style QR code at the bottom.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tools.labelled.common import Record, Slip, dec, pick

GOODS = [
    ("Laugenbrezel", "0.95", "A"), ("Roggenbrötchen", "0.60", "A"), ("Käsekuchen Stück", "3.40", "A"),
    ("Franzbrötchen", "1.90", "A"), ("Kaffee groß", "3.20", "B"), ("Milchkaffee", "3.60", "B"),
    ("Apfelschorle 0,5l", "2.80", "B"), ("Mohnschnecke", "2.10", "A"),
]  # fmt: skip
RATES = {"A": Decimal("0.07"), "B": Decimal("0.19")}


def _de(value: Decimal) -> str:
    """German amount: decimal comma, a trailing minus on negative values (as the till prints voids)."""
    text = f"{abs(value):.2f}".replace(".", ",")
    return text + "-" if value < 0 else text


def backstube(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    s = Slip("cp858", 42)
    void = n == 3
    sign = -1 if void else 1
    goods = pick(rng, GOODS, 2, 5)
    items = [(name, q := rng.randrange(1, 5), Decimal(price), sign * Decimal(price) * q, cls)
             for name, price, cls in goods]  # fmt: skip
    total = sum((i[3] for i in items), Decimal(0))
    tax = {
        c: sum((a - a / (1 + RATES[c]) for *_, a, cl in items if cl == c), Decimal(0)).quantize(Decimal("0.01"))
        for c in "AB"
    }
    minute = rng.randrange(60)
    when = f"25.11.2026 {6 + n}:{minute:02d}"
    bon = str(4000 + n * 13)
    cashier = ["Anna", "Mehmet", "Jana"][n % 3]
    house = "Außer Haus" if n % 2 else "Im Haus"
    s.init()
    s.raw(b"\x1bt\x13")  # ESC t 19: CP858 (with the euro sign)
    s.style(align="center", bold=True, double_height=True)
    s.line("Backstube Sonnenkorn")
    s.style(align="center", bold=False, normal_textsize=True)
    s.line("Lindenallee 7, 50667 Köln")
    s.line("STORNO" if void else "Rechnung")
    s.style(align="left")
    s.row(f"Bon-Nr. {bon}", f"Kasse 2 / {cashier}")
    s.row(when, house)
    s.rule("=")
    for name, q, _price, amount, cls in items:
        s.row(f"{q} x {name}", f"{_de(amount)} {cls}")
    s.rule("=")
    s.style(bold=True, double_height=True)
    s.row("Summe EUR", _de(total))
    s.style(bold=False, normal_textsize=True)
    paid, change, method, word = total, Decimal(0), "card", "EC-Karte"
    if n % 2 and not void:
        method, word = "cash", "Bar"
        paid = (total / 5).to_integral_value(rounding="ROUND_CEILING") * 5
        change = paid - total
    s.row(word, _de(paid))
    if change:
        s.row("Rückgeld", _de(change))
    s.rule("-")
    for cls in "AB":
        if tax[cls]:
            s.row(f"MwSt {cls} {int(RATES[cls] * 100)}%", _de(sign * abs(tax[cls])))
    s.qr(f"V0;KF2;Kassenbeleg-V1;Beleg^{dec(total)};{bon}")
    s.center("Vielen Dank und bis morgen!")
    s.cut()
    first_rate = tax["A"] or tax["B"]  # the profile's tax rule reads the first MwSt line
    tx: Record = {"order_no": bon, "terminal": "2", "cashier": cashier,
                  "datetime": f"2026-11-25T{6 + n:02d}:{minute:02d}:00",
                  "total": dec(total), "tax": dec(sign * abs(first_rate)),
                  "payments": [{"method": method, "amount": dec(paid)}],
                  "items": [{"name": nm, "quantity": str(q), "amount": dec(a)}
                            for nm, q, _, a, _ in items]}  # fmt: skip
    if change:
        tx["change"] = dec(change)
    return s.output, [{"profile": "kassenfuchs-backstube", "kind": "refund" if void else "sale", "transaction": tx}]
