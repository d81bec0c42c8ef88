"""What changed: each replayed receipt against its ``*.expected.json`` label, and a run against a previous report.

Against a label, only the keys the label states are judged (as ``klx profile test`` does); against a
baseline report, the receipt's recorded result (profile, kind, transaction, answer kind, whether it went
through, whether its answer missed the cut) is compared both ways, so a field that appeared or vanished shows
up too. The run as a whole is compared with ``Thresholds``: latency percentiles, the retry rate, failed
uploads and missed cuts; what exceeds them is a ``Regression``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError

__all__ = [
    "BASELINE_FIELDS",
    "Baseline",
    "Difference",
    "Regression",
    "Thresholds",
    "diff_expected",
    "diff_values",
    "load_baseline",
    "regressions",
]

BASELINE_FIELDS = ("profile", "kind", "transaction", "answer_kind", "ok", "missed_cut")
PERCENTILES = ("p50", "p90", "p99")
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


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How much worse than the baseline a run may be before it counts as a regression."""

    latency_ratio: float = 1.5  # a percentile (p50/p90/p99) may grow to this multiple of the baseline's …
    latency_slack_ms: float = 10.0  # … or by this many ms, whichever allows more (tiny latencies jitter)
    retry_rate_increase: float = 0.01  # retries per send may grow by this much (0.01: one retry per 100 sends)
    # failed uploads and missed cuts may not grow at all


@dataclass(frozen=True, slots=True)
class Regression:
    metric: str  # latency_ms.p99 | retry_rate | failed | missed_cuts
    baseline: float
    now: float
    limit: float

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "baseline": self.baseline, "now": self.now, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class Baseline:
    """A previous report: its per-receipt results by receipt name, and its run-level figures."""

    receipts: dict[str, dict[str, Any]]
    report: dict[str, Any]


def _retry_rate(report: dict[str, Any]) -> float:
    return (report.get("retries") or 0) / max(1, report.get("sent") or 0)


def regressions(baseline: dict[str, Any], now: dict[str, Any], limits: Thresholds) -> list[Regression]:
    """Run-level figures of ``now`` that are worse than ``baseline`` beyond ``limits``."""
    found = []
    then_lat, now_lat = baseline.get("latency_ms") or {}, now.get("latency_ms") or {}
    for p in PERCENTILES:
        a, b = then_lat.get(p), now_lat.get(p)
        if a is None or b is None:
            continue
        limit = max(a * limits.latency_ratio, a + limits.latency_slack_ms)
        if b > limit:
            found.append(Regression(f"latency_ms.{p}", a, b, round(limit, 3)))
    a, b = _retry_rate(baseline), _retry_rate(now)
    if b > a + limits.retry_rate_increase:
        found.append(Regression("retry_rate", round(a, 4), round(b, 4), round(a + limits.retry_rate_increase, 4)))
    for metric in ("failed", "missed_cuts"):
        a, b = baseline.get(metric) or 0, now.get(metric) or 0
        if b > a:
            found.append(Regression(metric, a, b, a))
    return found


def load_baseline(path: Path) -> Baseline:
    """A previous ``--report`` file: per-receipt results by receipt name, and the whole document."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        receipts = {r["receipt"]: {k: r[k] for k in BASELINE_FIELDS if k in r} for r in doc["receipts"]}
        if not isinstance(doc.get("latency_ms"), dict):
            raise ValueError("no latency_ms")
        return Baseline(receipts, doc)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline report ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a klx replay report ({type(exc).__name__}: {exc})",
                         remedy="pass a file written by klx replay --report") from None  # fmt: skip
