"""GreenLeaf Till (fictional): English grocery on 58 mm, card payment."""

from __future__ import annotations

import random
from decimal import Decimal

from escpos.printer import Dummy

from tools.labelled.common import Record
from tools.labelled.common import dec as money
from tools.make_samples import cols


def greenleaf(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    """GreenLeaf Till: English grocery on 58 mm, card payment; the sixth recording is a refund."""
    menu = [("Bananas 1.2 lb", "0.71"), ("Whole milk 1 gal", "3.49"), ("Bread", "2.99"), ("Eggs 12", "4.19"),
            ("Apples 2 lb", "3.58"), ("Butter", "4.99")]  # fmt: skip
    items = rng.sample(menu, rng.randrange(2, 6))
    refund = n == 6  # a return: the same layout under REFUND, every amount with a minus
    sign = "-" if refund else ""
    total = sum((Decimal(price) for _, price in items), Decimal(0))
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p.set(align="center", bold=True)
    p.text("GREEN LEAF GROCERY\n")
    if refund:
        p.text("*** REFUND ***\n")
    p.set(align="left", bold=False)
    for name, price in items:
        p.text(cols(name, sign + price, 32, "ascii").decode())
    p.set(bold=True)
    p.text(cols("TOTAL", sign + money(total), 32, "ascii").decode())
    p.set(bold=False)
    p.text(cols(f"VISA ****{1000 + n}", sign + money(total), 32, "ascii").decode())
    p.cut()
    record = {
        "profile": "greenleaf-till", "kind": "refund" if refund else "sale",
        "transaction": {"total": sign + money(total), "payments": [{"method": "card", "amount": sign + money(total)}],
                        "items": [{"name": nm, "quantity": "1", "amount": sign + pr} for nm, pr in items]},
    }  # fmt: skip
    return p.output, [record]
