"""The replay report: one JSON document (``--report``), also the source of the summary table and plot.

Top-level keys: ``requested_rate``, ``achieved_rate``, ``sent``, ``succeeded``, ``failed``, ``retries``,
``retry_reasons``, ``missed_cuts`` (answers later than ``cut_wait_s``: the box would have cut the paper
without the QR), ``unique_transactions``, ``duplicates_answered``, ``latency_ms`` (p50/p90/p99/p999/max/
mean/count, from the scheduled send time), ``send_lag_ms``, ``errors`` (by kind) with ``error_lines``,
``problems`` (one line each), ``unrecognised`` (receipts of no known POS: reported, a failure only with
``strict``), ``differences`` (per receipt and field), ``regressions`` (against ``--baseline``),
``receipts`` (one result per replayed receipt: answer, latency of each attempt, retries, ``missed_cut``;
what ``--baseline`` compares), ``timeline`` (per second) and ``histogram`` (the whole run's HdrHistogram,
base64, for merging with other runs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kelaile_cli import __version__
from kelaile_cli.core.errors import KlxError
from kelaile_cli.services.replay.compare import (
    BASELINE_FIELDS,
    Baseline,
    Difference,
    Thresholds,
    diff_expected,
    diff_values,
    regressions,
)
from kelaile_cli.services.replay.runner import ReplayOptions, Tally
from kelaile_cli.services.replay.workload import Problem, Workload

__all__ = ["UNRECOGNISED", "build_report", "report_lines", "write_report"]

UNRECOGNISED = "unknown_pos"  # the Problem kind of a receipt no profile recognises


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
            "latency_ms": t.latency_ms if t else None,
            "attempts_ms": t.attempts_ms if t else [],
            "missed_cuts": t.missed_cuts if t else 0,
            "missed_cut": bool(t and t.missed_cuts),
            "ok": bool(t and t.sent and not t.failed),
            "error": t.error if t else None,
        })  # fmt: skip
    return rows


def _differences(work: Workload, rows: list[dict[str, Any]], baseline: Baseline | None) -> list[Difference]:
    found: list[Difference] = []
    for item in work.items:
        if item.expected is not None:
            found += diff_expected(item.name, item.expected, item.identity)
    if baseline is not None:
        mine = {r["receipt"]: r for r in rows}
        for name, then in baseline.receipts.items():
            row = mine.get(name)
            if row is None:
                found.append(Difference(name, "baseline", "(receipt)", "replayed", "not in this run"))
                continue
            now = {k: row.get(k) for k in BASELINE_FIELDS if k in then}  # an older report may lack a field
            found += [Difference(name, "baseline", f, e, a) for f, e, a in diff_values(then, now, both_ways=True)]
        found += [Difference(n, "baseline", "(receipt)", "not in the baseline", "replayed")
                  for n in mine if n not in baseline.receipts]  # fmt: skip
    return found


def build_report(
    work: Workload,
    tally: Tally,
    options: ReplayOptions,
    problems: list[Problem],
    *,
    started_at: float,
    elapsed_s: float,
    baseline: Baseline | None = None,
    baseline_path: str | None = None,
    thresholds: Thresholds | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """The report document. ``ok`` is false when an upload failed, a problem or difference was found, the run was
    interrupted or regressed against the baseline; unrecognised receipts count only when ``strict``."""
    plan = options.plan
    rows = _receipts(work, tally)
    differences = _differences(work, rows, baseline)
    window = max(tally.last_done_s, tally.last_due_s)
    all_problems = [*work.problems, *problems]
    unrecognised = [p for p in all_problems if p.kind == UNRECOGNISED]
    blocking = [p for p in all_problems if strict or p.kind != UNRECOGNISED]
    latency = tally.latency.summary()
    regressed = []
    if baseline is not None:
        now = {"latency_ms": latency, "retries": tally.retries, "sent": tally.sent, "failed": tally.failed,
               "missed_cuts": tally.missed_cuts}  # fmt: skip
        regressed = regressions(baseline.report, now, thresholds or Thresholds())
    ok = (not tally.failed and not blocking and not differences and not regressed and not tally.interrupted
          and tally.sent > 0)  # fmt: skip
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
        "cut_wait_s": options.cut_wait_s,
        "missed_cuts": tally.missed_cuts,
        "unique_transactions": len(tally.keys),
        "duplicates_answered": tally.duplicates,
        "latency_ms": latency,
        "send_lag_ms": tally.lag_ms(),
        "errors": dict(tally.errors),
        "error_lines": tally.error_lines,
        "problems": [p.to_dict() for p in all_problems if p.kind != UNRECOGNISED],
        "unrecognised": [p.to_dict() for p in unrecognised],
        "strict": strict,
        "differences": [d.to_dict() for d in differences],
        "regressions": [r.to_dict() for r in regressed],
        "baseline": baseline_path,
        "interrupted": tally.interrupted,
        "ok": ok,
        "receipts": rows,
        "timeline": tally.latency.timeline(),
        "histogram": tally.latency.encode()["total"],
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The one-line messages a person must see: problems, error kinds, differences, regressions (and, with
    ``strict``, unrecognised receipts)."""
    problems = [*report["problems"], *(report["unrecognised"] if report.get("strict") else [])]
    lines = [f"{p['source']}: {p['message']}" for p in problems]
    lines += [f"{n} upload(s) failed ({kind}): {report['error_lines'].get(kind, '')}"
              for kind, n in report["errors"].items()]  # fmt: skip
    lines += [
        f"{d['receipt']}: {d['field']}: {d['against']} {d['expected']!r}, got {d['actual']!r}"
        for d in report["differences"]
    ]
    lines += [
        f"regression: {r['metric']} {r['now']:g} (baseline {r['baseline']:g}, allowed up to {r['limit']:g})"
        for r in report.get("regressions", [])
    ]
    return lines


def write_report(report: dict[str, Any], path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise KlxError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
