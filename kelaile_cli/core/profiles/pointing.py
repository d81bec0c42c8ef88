"""A field rule from a line the integrator points at: the fix step of ``klx profile new --interactive``.

Pure: the line's text and the field in, a rule (the profile document's form) out. The label is the
text before the value, so the rule reads the same field on every receipt that prints that label.
"""

from __future__ import annotations

import re
from typing import Any

from kelaile_cli.core.profiles.draft import (
    AMOUNT_FIELDS,
    AMOUNT_PATTERN,
    CURRENCY_MARK,
    DATE_FORMATS,
    WHOLE_AMOUNT_PATTERN,
)

__all__ = ["POINTABLE", "rule_from_line"]

TEXT_FIELDS = ("order_no", "table", "cashier", "terminal", "member_id", "store")
PAYMENT_METHODS = ("cash", "card", "mobile", "wechat", "alipay", "unionpay", "other")
POINTABLE = (*AMOUNT_FIELDS, *TEXT_FIELDS, "datetime", *(f"payment:{m}" for m in PAYMENT_METHODS))
_LAST_AMOUNT = re.compile(rf"(-?{CURRENCY_MARK}?-?\d[\d,.']*-?)\s*$")


def _label(before: str) -> str:
    label = before.rstrip(" \t:：#=$¥￥€£-")
    if not label.strip():
        raise ValueError("no label before the value on that line")
    return label.lstrip()


def rule_from_line(field: str, line: str) -> tuple[str, Any]:
    """(key in ``fields``, rule) that reads ``field`` from ``line`` and lines like it.

    ``field`` is one of ``POINTABLE`` (``payment:card`` for a payment rule). Raises ``ValueError``
    with what is missing (no amount at the end of the line, no date, no label)."""
    text = line.strip()
    if field not in POINTABLE:
        raise ValueError(f"unknown field '{field}' (one of: {', '.join(POINTABLE)})")
    if field == "datetime":
        for rx, fmt in DATE_FORMATS:
            if re.search(rx, text):
                return "datetime", {"pattern": f"({rx})", "format": fmt}
        raise ValueError("no date and time of a known format on that line")
    if field in TEXT_FIELDS:
        m = re.match(r"^(?P<label>.*?[^\s:：#])\s*[:：#]\s*(?P<value>\S+)", text) or re.match(
            r"^(?P<label>.*\S)\s+(?P<value>\S+)$", text
        )
        if not m:
            raise ValueError("expected 'label: value' or 'label value' on that line")
        label = _label(m.group("label"))
        return field, {"pattern": rf"{re.escape(label)}\s*[.:：#]?\s*([^\s:：]\S*)"}
    found = _LAST_AMOUNT.search(text)
    if not found:
        raise ValueError("no amount at the end of that line")
    amount = AMOUNT_PATTERN if re.search(r"\d[.,]\d{1,2}-?$", found.group(1)) else WHOLE_AMOUNT_PATTERN
    label = _label(text[: found.start()])
    pattern = rf"^\s*{re.escape(label)}[^\n]*?[\s$¥￥€£=:：](-?{CURRENCY_MARK}?{amount}-?)\s*$"
    if field.startswith("payment:"):
        return "payments", {"pattern": pattern, "method": field.split(":", 1)[1]}
    return field, {"pattern": pattern}
