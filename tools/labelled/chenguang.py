"""ChenGuang Cafe POS (fictional): zh-TW café on 58 mm, Big5 without FS &, cash with change."""

from __future__ import annotations

import random

from escpos.printer import Dummy

from tools.labelled.common import Record
from tools.make_samples import cols


def chenguang(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    """ChenGuang Cafe POS: Big5 on 58 mm, no FS &, cash with change."""
    enc, w = "cp950", 32
    menu = [("拿鐵 大杯", 120), ("珍珠奶茶", 65), ("雞肉三明治", 85), ("美式咖啡", 90), ("起司蛋糕", 110)]
    items = rng.sample(menu, rng.randrange(1, 4))
    total = sum(price for _, price in items)
    cash = (total // 100 + 1) * 100
    order, when = f"KL-2026{n:04d}", f"2026-11-25 08:{n:02d}"
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p.set(align="center", bold=True, double_height=True)
    p._raw("晨光咖啡館\n".encode(enc))
    p.set(align="center", bold=False, normal_textsize=True)
    p._raw("統一發票 (交易明細)\n".encode(enc))
    p.set(align="left")
    p._raw(f"發票號碼: {order}\n日期: {when}\n".encode(enc))
    for name, price in items:
        p._raw(cols(name, str(price), w, enc))
    p._raw(cols("合計", str(total), w, enc) + cols("現金", str(cash), w, enc) + cols("找零", str(cash - total), w, enc))
    p._raw("謝謝光臨\n".encode(enc))
    p.cut()
    record = {
        "profile": "chenguang-cafe", "kind": "sale",
        "transaction": {"order_no": order, "datetime": when.replace(" ", "T") + ":00", "total": f"{total}.00",
                        "change": f"{cash - total}.00", "payments": [{"method": "cash", "amount": f"{cash}.00"}],
                        "items": [{"name": nm, "quantity": "1", "amount": f"{pr}.00"} for nm, pr in items]},
    }  # fmt: skip
    return p.output, [record]
