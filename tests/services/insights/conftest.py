"""A known day of two stores, stored in a real sandbox cloud database.

Store S1 (a restaurant, POS profile ``bistro``), Monday 2026-11-23:
  pre-bill 1001 (T1, 2 covers) printed 12:40 → sale 1001 printed 12:55: Noodles 2×12.50, Tea 2×3.00 = 31.00,
      cash 50.00 tendered, change 19.00
  pre-bill 1002 (T2) printed 12:50 → sale 1002 at 13:10 (4 covers): Noodles 4×12.50, Dumplings 1×8.40,
      discount 5.00 = 53.40 by card; its payments check failed
  kitchen ticket for 1003 (never revenue)
  sale 1003 at 19:05 (T1, 3 covers, no pre-bill): Dumplings 3×8.40, Tea 1×3.00 = 28.20; wechat 20.00, cash 10.00,
      change 1.80
  refund 1004 at 19:30: Tea 1, -3.00 cash
  Z report Z1, 10:00–22:00: 5 receipts, 1 refund (-3.00); cash 44.20 (captured: 31.00 + 8.20 - 3.00 = 36.20, so
      8.00 planted), card 53.40, wechat 20.00
Store S1, Tuesday 2026-11-24 09:15: sale 1005, Tea 2×3.00 = 6.00 by alipay (after the shift).
Store S2, Tuesday 2026-11-24 10:00: sale 2001, Noodles 1×12.50 by card.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kelaile_cli.services.cloud.sandbox.storage import Storage, Stored


def item(name: str, qty: str, price: str, amount: str) -> dict[str, Any]:
    return {"name": name, "quantity": qty, "unit_price": price, "amount": amount, "sku": None}


def body(kind: str, printed: str, checks_ok: bool = True, **tx: Any) -> dict[str, Any]:
    transaction = {"kind": kind, "items": [], "payments": [], "report": None, **tx}
    digest = hashlib.sha256(json.dumps([kind, printed, tx], sort_keys=True).encode()).hexdigest()
    return {
        "receipt_sha256": digest,
        "printed_at": printed,
        "profile": "bistro",
        "confidence": 1.0,
        "kind": kind,
        "transaction": transaction,
        "checks": [{"name": "payments", "ok": checks_ok, "detail": "test"}],
    }


def pay(method: str, amount: str) -> dict[str, str]:
    return {"method": method, "amount": amount}


S1 = [
    body("pre_bill", "2026-11-23T12:40:00.000Z", order_no="1001", table="T1", covers=2,
         datetime="2026-11-23T12:00:00", total="31.00",
         items=[item("Noodles", "2", "12.50", "25.00"), item("Tea", "2", "3.00", "6.00")]),
    body("sale", "2026-11-23T12:55:00.000Z", order_no="1001", table="T1", covers=2,
         datetime="2026-11-23T12:00:00", total="31.00", change="19.00", payments=[pay("cash", "50.00")],
         items=[item("Noodles", "2", "12.50", "25.00"), item("Tea", "2", "3.00", "6.00")]),
    body("pre_bill", "2026-11-23T12:50:00.000Z", order_no="1002", table="T2", covers=4,
         datetime="2026-11-23T12:50:00", total="53.40",
         items=[item("Noodles", "4", "12.50", "50.00"), item("Dumplings", "1", "8.40", "8.40")]),
    body("sale", "2026-11-23T13:10:00.000Z", checks_ok=False, order_no="1002", table="T2", covers=4,
         datetime="2026-11-23T13:10:00", discount="5.00", total="53.40", payments=[pay("card", "53.40")],
         items=[item("Noodles", "4", "12.50", "50.00"), item("Dumplings", "1", "8.40", "8.40")]),
    body("kitchen", "2026-11-23T18:50:00.000Z", order_no="1003", table="T1", datetime="2026-11-23T18:50:00",
         items=[item("Dumplings", "3", "8.40", "25.20")]),
    body("sale", "2026-11-23T19:05:00.000Z", order_no="1003", table="T1", covers=3,
         datetime="2026-11-23T19:05:00", total="28.20", change="1.80",
         payments=[pay("wechat", "20.00"), pay("cash", "10.00")],
         items=[item("Dumplings", "3", "8.40", "25.20"), item("Tea", "1", "3.00", "3.00")]),
    body("refund", "2026-11-23T19:30:00.000Z", order_no="1004", datetime="2026-11-23T19:30:00", total="-3.00",
         payments=[pay("cash", "-3.00")], items=[item("Tea", "1", "3.00", "-3.00")]),
    body("shift_report", "2026-11-23T22:01:00.000Z", total="117.60",
         payments=[pay("cash", "44.20"), pay("card", "53.40"), pay("wechat", "20.00")],
         report={"number": "Z1", "opened": "2026-11-23T10:00:00", "closed": "2026-11-23T22:00:00",
                 "receipts": 5, "refunds": 1, "refund_total": "-3.00"}),
    body("sale", "2026-11-24T09:15:00.000Z", order_no="1005", datetime="2026-11-24T09:15:00", total="6.00",
         payments=[pay("alipay", "6.00")], items=[item("Tea", "2", "3.00", "6.00")]),
]  # fmt: skip
S2 = [
    body("sale", "2026-11-24T10:00:00.000Z", order_no="2001", datetime="2026-11-24T10:00:00", total="12.50",
         payments=[pay("card", "12.50")], items=[item("Noodles", "1", "12.50", "12.50")]),
]  # fmt: skip


def store_day(path: Path) -> Path:
    """The known day written through the sandbox's own storage (claim, idempotent ingest)."""
    storage = Storage(path, background_checkpoints=False)
    try:
        for store, bodies in (("S1", S1), ("S2", S2)):
            device = f"dev-{store}"
            storage.claim(device, f"serial-{store}", "test", store, "secret", 1.0)
            for n, doc in enumerate(bodies):
                text = json.dumps(doc, sort_keys=True, separators=(",", ":"))

                def make(doc: dict[str, Any] = doc, text: str = text, tx_id: str = f"tx-{device}-{n}") -> Any:
                    return Stored(tx_id, doc["receipt_sha256"], {}), doc["kind"], text, None

                signature = hashlib.sha256(f"{device}/{n}".encode()).hexdigest()
                assert storage.ingest(device, f"key-{n}", signature, 1_795_000_000, 1.0 + n, make)
    finally:
        storage.close()
    return path


@pytest.fixture(scope="module")
def day_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return store_day(tmp_path_factory.mktemp("insights") / "day.sqlite")
