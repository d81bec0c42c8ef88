"""Latency kept as HdrHistograms (mergeable across worker processes), never as every sample.

``Latency`` holds the whole run's histogram plus one coarser histogram per second of the schedule
(for the latency-over-time plot). Values are recorded in microseconds; ``encode``/``decode`` use
HdrHistogram's standard compressed form, so worker processes (or Locust workers) merge exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["Latency", "summary_ms"]

_LOWEST_US = 1
_HIGHEST_US = 600_000_000  # 10 minutes: anything slower is clamped (and then it is a timeout anyway)


def _histogram(digits: int = 3) -> HdrHistogram:
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, digits)


def summary_ms(hist: HdrHistogram) -> dict[str, float | int | None]:
    """p50/p90/p99/p99.9/max/mean in milliseconds (None when nothing was recorded)."""
    count = hist.get_total_count()
    if not count:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "p999": None, "max": None, "mean": None}

    def ms(us: float) -> float:
        return round(us / 1000.0, 3)

    return {
        "count": count,
        "p50": ms(hist.get_value_at_percentile(50)),
        "p90": ms(hist.get_value_at_percentile(90)),
        "p99": ms(hist.get_value_at_percentile(99)),
        "p999": ms(hist.get_value_at_percentile(99.9)),
        "max": ms(hist.get_max_value()),
        "mean": ms(hist.get_mean_value()),
    }


@dataclass
class Latency:
    total: HdrHistogram = field(default_factory=_histogram)
    per_second: dict[int, HdrHistogram] = field(default_factory=dict)

    def record(self, due_s: float, latency_s: float) -> None:
        """One completed upload, due ``due_s`` after the start, ``latency_s`` after it was due."""
        us = min(_HIGHEST_US, max(_LOWEST_US, round(latency_s * 1_000_000)))
        self.total.record_value(us)
        second = int(due_s)
        hist = self.per_second.get(second)
        if hist is None:
            hist = self.per_second[second] = _histogram(2)
        hist.record_value(us)

    def merge(self, other: Latency) -> None:
        self.total.add(other.total)
        for second, hist in other.per_second.items():
            mine = self.per_second.get(second)
            if mine is None:
                mine = self.per_second[second] = _histogram(2)
            mine.add(hist)

    def encode(self) -> dict[str, Any]:
        """A picklable/JSON-able form: base64 HdrHistogram payloads."""
        return {
            "total": self.total.encode().decode("ascii"),
            "per_second": {str(s): h.encode().decode("ascii") for s, h in self.per_second.items()},
        }

    @classmethod
    def decode(cls, doc: dict[str, Any]) -> Latency:
        out = cls(HdrHistogram.decode(doc["total"].encode("ascii")))
        out.per_second = {int(s): HdrHistogram.decode(v.encode("ascii")) for s, v in doc["per_second"].items()}
        return out

    def summary(self) -> dict[str, float | int | None]:
        return summary_ms(self.total)

    def timeline(self) -> list[dict[str, float | int]]:
        """Per second of the schedule: completed uploads and their p50/p99/max in ms."""
        rows = []
        for second in sorted(self.per_second):
            hist = self.per_second[second]
            rows.append({
                "t": second,
                "count": hist.get_total_count(),
                "p50": round(hist.get_value_at_percentile(50) / 1000.0, 3),
                "p99": round(hist.get_value_at_percentile(99) / 1000.0, 3),
                "max": round(hist.get_max_value() / 1000.0, 3),
            })  # fmt: skip
        return rows
