"""What the sandbox answers an upload with: the text and QR payload the box prints before the cut.

Deterministic from the transaction id, so a retried upload gets the very same answer.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

__all__ = ["QR_BASE", "answer_for", "order_no_for", "transaction_id_for"]

QR_BASE = "https://sandbox.kelaile.example"


def transaction_id_for(device_id: str, idempotency_key: str) -> str:
    """A stable id: the same (device, key) always names the same transaction."""
    return "tx_" + hashlib.sha256(f"{device_id}\n{idempotency_key}".encode()).hexdigest()[:24]


def _code(transaction_id: str, salt: str, length: int) -> str:
    digest = hashlib.sha256(f"{salt}:{transaction_id}".encode()).digest()
    return base64.b32encode(digest).decode()[:length]


def order_no_for(transaction_id: str) -> str:
    """The payment order of a pre-bill: unique per transaction (a POS's own bill numbers repeat across stores)."""
    return "PO" + _code(transaction_id, "order", 12)


def answer_for(transaction_id: str, kind: str, transaction: dict[str, Any] | None) -> dict[str, Any]:
    """The answer document: ``{"kind": "loyalty"|"payment", "qr": str, "text": [str]}``."""
    tx = transaction or {}
    total, currency = tx.get("total"), tx.get("currency") or ""
    amount = f"{currency} {total}".strip() if total else None
    if kind == "pre_bill":
        order_no = order_no_for(transaction_id)
        qr = f"{QR_BASE}/pay/{order_no}" + (f"?amount={total}" if total else "")
        text = ["Scan to pay", f"Order {order_no}"]
        if tx.get("order_no"):
            text.append(f"Bill {tx['order_no']}")
        if amount:
            text.append(f"Amount due {amount}")
        return {"kind": "payment", "qr": qr, "text": text, "order_no": order_no}
    coupon = _code(transaction_id, "coupon", 10)
    text = ["Thank you!", f"Coupon {coupon}", "Scan to collect points and your coupon"]
    if kind == "refund":
        text = ["Refund recorded", f"Reference {coupon}"]
    return {"kind": "loyalty", "qr": f"{QR_BASE}/c/{coupon}", "text": text, "coupon": coupon}
