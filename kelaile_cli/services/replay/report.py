"""The replay report: one JSON document (``--report``), also the source of the summary table and plot.

Top-level keys: ``requested_rate``, ``achieved_rate``, ``sent``, ``succeeded``, ``failed``, ``retries``,
``retry_reasons``, ``unique_transactions``, ``duplicates_answered``, ``latency_ms`` (p50/p90/p99/p999/max/
mean/count, from the scheduled send time), ``send_lag_ms``, ``errors`` (by kind) with ``error_lines``,
``problems`` (one line each), ``differences`` (per receipt and field), ``receipts`` (one result per
replayed receipt, what ``--baseline`` compares), ``timeline`` (per second) and ``histogram`` (the whole
run's HdrHistogram, base64, for merging with other runs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kelaile_cli import __version__
from kelaile_cli.core.errors import KlxError
from kelaile_cli.services.replay.compare import BASELINE_FIELDS, Difference, diff_expected, diff_values
from kelaile_cli.services.replay.runner import ReplayOptions, Tally
from kelaile_cli.services.replay.workload import Problem, Workload

__all__ = ["build_report", "report_lines", "write_report"]


def _receipts(work: Workload, tally: Tally) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(work.items):
        t = tally.items.get(i)
        answer = t.answer if t else None
        rows.append({
            "receipt": item.name,
            "recording": item.recording,
            "index": item.index,
            **item.identity,
            "answer_kind": answer.get("kind") if answer else None,
            "answer_text": answer.get("text") if answer else None,
            "sent": t.sent if t else 0,
            "succeeded": t.succeeded if t else 0,
            "failed": t.failed if t else 0,
            "retries": t.retries if t else 0,
            "ok": bool(t and t.sent and not t.failed),
            "error": t.error if t else None,
        })  # fmt: skip
    return rows


def _differences(work: Workload, rows: list[dict[str, Any]], baseline: dict[str, dict[str, Any]] | None) -> list:
    found: list[Difference] = []
    for item in work.items:
        if item.expected is not None:
            found += diff_expected(item.name, item.expected, item.identity)
    if baseline is not None:
        mine = {r["receipt"]: {k: r.get(k) for k in BASELINE_FIELDS} for r in rows}
        for name, then in baseline.items():
            now = mine.get(name)
            if now is None:
                found.append(Difference(name, "baseline", "(receipt)", "replayed", "not in this run"))
                continue
            found += [Difference(name, "baseline", f, e, a) for f, e, a in diff_values(then, now, both_ways=True)]
        found += [Difference(n, "baseline", "(receipt)", "not in the baseline", "replayed")
                  for n in mine if n not in baseline]  # fmt: skip
    return found


def build_report(
    work: Workload,
    tally: Tally,
    options: ReplayOptions,
    problems: list[Problem],
    *,
    started_at: float,
    elapsed_s: float,
    baseline: dict[str, dict[str, Any]] | None = None,
    baseline_path: str | None = None,
) -> dict[str, Any]:
    plan = options.plan
    rows = _receipts(work, tally)
    differences = _differences(work, rows, baseline)
    window = max(tally.last_done_s, tally.last_due_s)
    all_problems = [*work.problems, *problems]
    ok = not tally.failed and not all_problems and not differences and not tally.interrupted and tally.sent > 0
    return {
        "klx_version": __version__,
        "started_at": datetime.fromtimestamp(started_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "cloud": options.cloud,
        "mode": "rate" if plan.rate is not None else "as-recorded",
        "requested_rate": plan.rate,
        "speed": plan.speed if plan.rate is None else None,
        "duration_s": plan.duration,
        "loop": plan.looping,
        "stores": plan.stores,
        "concurrency": options.concurrency,
        "workers": options.workers,
        "recordings": work.recordings,
        "receipts_replayable": len(work.items),
        "elapsed_s": round(elapsed_s, 3),
        "achieved_rate": round(tally.succeeded / window, 2) if window > 0 else None,
        "sent": tally.sent,
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "retries": tally.retries,
        "retry_reasons": dict(tally.retry_reasons),
        "unique_transactions": len(tally.keys),
        "duplicates_answered": tally.duplicates,
        "latency_ms": tally.latency.summary(),
        "send_lag_ms": tally.lag_ms(),
        "errors": dict(tally.errors),
        "error_lines": tally.error_lines,
        "problems": [p.to_dict() for p in all_problems],
        "differences": [d.to_dict() for d in differences],
        "baseline": baseline_path,
        "interrupted": tally.interrupted,
        "ok": ok,
        "receipts": rows,
        "timeline": tally.latency.timeline(),
        "histogram": tally.latency.encode()["total"],
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The one-line messages a person must see: problems, error kinds, differences."""
    lines = [f"{p['source']}: {p['message']}" for p in report["problems"]]
    lines += [f"{n} upload(s) failed ({kind}): {report['error_lines'].get(kind, '')}"
              for kind, n in report["errors"].items()]  # fmt: skip
    lines += [
        f"{d['receipt']}: {d['field']}: {d['against']} {d['expected']!r}, got {d['actual']!r}"
        for d in report["differences"]
    ]
    return lines


def write_report(report: dict[str, Any], path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise KlxError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
