"""Field differences: each replayed receipt against its ``*.expected.json`` label and a previous report.

Against a label, only the keys the label states are judged (as ``klx profile test`` does); against a
baseline report, the receipt's recorded result (profile, kind, transaction, answer kind, whether it went
through) is compared both ways, so a field that appeared or vanished shows up too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError

__all__ = ["BASELINE_FIELDS", "Difference", "diff_expected", "diff_values", "load_baseline"]

BASELINE_FIELDS = ("profile", "kind", "transaction", "answer_kind", "ok")
_MISSING = "<missing>"


@dataclass(frozen=True, slots=True)
class Difference:
    receipt: str  # recording#index
    against: str  # "expected" | "baseline"
    field: str  # dotted path, e.g. transaction.items[1].amount
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"receipt": self.receipt, "against": self.against, "field": self.field,
                "expected": self.expected, "actual": self.actual}  # fmt: skip

    def line(self) -> str:
        return f"{self.receipt}: {self.field}: {self.against} {self.expected!r}, got {self.actual!r}"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def diff_values(expected: Any, actual: Any, prefix: str = "", *, both_ways: bool = False) -> list[tuple[str, Any, Any]]:
    """(field, expected, actual) for every leaf that differs; ``both_ways`` also reports keys only in ``actual``."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [(prefix or "(value)", expected, actual)]
        out: list[tuple[str, Any, Any]] = []
        for key, value in expected.items():
            got = actual.get(key, _MISSING)
            out += diff_values(value, got, _join(prefix, key), both_ways=both_ways)
        if both_ways:
            out += [(_join(prefix, k), _MISSING, v) for k, v in actual.items() if k not in expected]
        return out
    if isinstance(expected, list) and isinstance(actual, list) and any(isinstance(e, dict) for e in expected):
        out = []
        if len(expected) != len(actual):
            out.append((f"{prefix} (count)", len(expected), len(actual)))
        for i, item in enumerate(expected):
            out += diff_values(item, actual[i] if i < len(actual) else _MISSING, f"{prefix}[{i}]", both_ways=both_ways)
        return out
    return [] if expected == actual else [(prefix or "(value)", expected, actual)]


def diff_expected(receipt: str, expected: dict[str, Any], identity: dict[str, Any]) -> list[Difference]:
    """The label's fields that the replayed receipt does not reproduce."""
    return [Difference(receipt, "expected", f, e, a) for f, e, a in diff_values(expected, identity)]


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    """The per-receipt results of a previous ``--report`` file, by receipt name."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        receipts = doc["receipts"]
        return {r["receipt"]: {k: r.get(k) for k in BASELINE_FIELDS} for r in receipts}
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline report ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a klx replay report ({type(exc).__name__}: {exc})",
                         remedy="pass a file written by klx replay --report") from None  # fmt: skip
