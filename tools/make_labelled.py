"""Write labelled recordings for profile tests: recordings/<profile>/<name>.klr + <name>.expected.json.

Each fictional POS below prints receipts with python-escpos (an independent producer) from a data
record, and the expected transaction is written from that same record — never from klx's parser —
so `klx profile test` compares klx against the truth. Deterministic: fixed seeds and timestamps.

    python tools/make_labelled.py [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from escpos.printer import Dummy  # noqa: E402

from tools.make_samples import FS_OFF, FS_ON, cols, write_recording  # noqa: E402

Record = dict[str, Any]


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def meiwei(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    """MeiWei POS: a pre-bill then the final receipt for one table (two jobs)."""
    enc, w = "gb18030", 48
    menu = [("宫保鸡丁", "38.00"), ("水煮鱼", "68.00"), ("米饭", "3.00"), ("青岛啤酒", "12.00"), ("麻婆豆腐", "26.00"),
            ("酸辣汤", "18.00")]  # fmt: skip
    picks = rng.sample(menu, rng.randrange(2, 5))
    items = [(name, q := rng.randrange(1, 4), Decimal(price) * q) for name, price in picks]
    subtotal = sum((a for _, _, a in items), Decimal(0))
    service = (subtotal / 10).quantize(Decimal("0.01"))
    total = subtotal + service
    table, covers, order = f"A{rng.randrange(1, 30):02d}", rng.randrange(1, 9), f"20261125-{n:04d}"
    when = f"2026-11-25 12:{n:02d}:07"
    p = Dummy(profile="TM-T88V")
    records = []
    for kind, title in (("pre_bill", "预结单"), ("sale", "结账单")):
        p.hw("INIT")
        p.set(align="center", double_height=True, double_width=True, bold=True)
        p._raw(FS_ON + "美味小馆".encode(enc) + b"\n")
        p.set(align="center", normal_textsize=True, bold=False)
        p._raw(title.encode(enc) + b"\n")
        p.set(align="left")
        p._raw(cols(f"桌号: {table}", f"人数: {covers}", w, enc))
        p._raw(cols(f"单号: {order}", "收银员: 小王", w, enc))
        p._raw(f"{when}\n".encode(enc) + b"-" * w + b"\n")
        for name, qty, amount in items:
            p._raw(cols(f"{name}  x{qty}", money(amount), w, enc))
        p._raw(b"-" * w + b"\n" + cols("小计", money(subtotal), w, enc) + cols("服务费 10%", money(service), w, enc))
        p._raw(cols("合计", money(total), w, enc))
        payments = []
        if kind == "sale":
            p._raw(cols("微信支付", money(total), w, enc))
            payments = [{"method": "wechat", "amount": money(total)}]
        p._raw(FS_OFF)
        p.set(align="center")
        p.qr(f"https://kelaile.example/c/MW{n:04d}", native=True)
        p._raw(FS_ON + "谢谢惠顾，欢迎再来".encode(enc) + FS_OFF + b"\n")
        p.cut(mode="PART")
        records.append({
            "profile": "meiwei-pos", "kind": kind,
            "transaction": {"order_no": order, "datetime": when.replace(" ", "T"), "table": table, "covers": covers,
                            "cashier": "小王", "subtotal": money(subtotal), "service_charge": money(service),
                            "total": money(total), "payments": payments,
                            "items": [{"name": nm, "quantity": str(q), "amount": money(a)} for nm, q, a in items]},
        })  # fmt: skip
    return p.output, records


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


def greenleaf(rng: random.Random, n: int) -> tuple[bytes, list[Record]]:
    """GreenLeaf Till: English grocery on 58 mm, card payment."""
    menu = [("Bananas 1.2 lb", "0.71"), ("Whole milk 1 gal", "3.49"), ("Bread", "2.99"), ("Eggs 12", "4.19"),
            ("Apples 2 lb", "3.58"), ("Butter", "4.99")]  # fmt: skip
    items = rng.sample(menu, rng.randrange(2, 6))
    total = sum((Decimal(price) for _, price in items), Decimal(0))
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p.set(align="center", bold=True)
    p.text("GREEN LEAF GROCERY\n")
    p.set(align="left", bold=False)
    for name, price in items:
        p.text(cols(name, price, 32, "ascii").decode())
    p.set(bold=True)
    p.text(cols("TOTAL", money(total), 32, "ascii").decode())
    p.set(bold=False)
    p.text(cols(f"VISA ****{1000 + n}", money(total), 32, "ascii").decode())
    p.cut()
    record = {
        "profile": "greenleaf-till", "kind": "sale",
        "transaction": {"total": money(total), "payments": [{"method": "card", "amount": money(total)}],
                        "items": [{"name": nm, "quantity": "1", "amount": pr} for nm, pr in items]},
    }  # fmt: skip
    return p.output, [record]


POS: dict[str, Callable[[random.Random, int], tuple[bytes, list[Record]]]] = {
    "meiwei-pos": meiwei,
    "chenguang-cafe": chenguang,
    "greenleaf-till": greenleaf,
}
PER_PROFILE = 5


def write_all(out: Path) -> list[Path]:
    written = []
    for profile_id, make in POS.items():
        rng = random.Random(profile_id)
        folder = out / profile_id
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(1, PER_PROFILE + 1):
            with contextlib.redirect_stdout(io.StringIO()):  # python-escpos prints a note per barcode
                data, records = make(rng, n)
            name = f"{profile_id}-{n:02d}"
            write_recording(folder / f"{name}.klr", data, f"labelled:{profile_id}", jobs=1)
            (folder / f"{name}.expected.json").write_text(
                json.dumps({"receipts": records}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            written.append(folder / f"{name}.klr")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "recordings"
    for path in write_all(target):
        print(path)
