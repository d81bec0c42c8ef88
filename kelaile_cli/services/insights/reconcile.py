"""Shift reconciliation: each shift/Z report against the transactions captured in its period.

A report's period runs from its ``opened`` time (else the previous report's close for the same store
and POS, else the beginning of the data) to its ``closed`` time (else the report's own time). The captured side
is every sale and refund of that store and POS in the period, per payment method (change given back
taken off cash). ``difference = reported − captured``; a non-zero difference comes with what
explains it: receipts the report counts that the box never captured (``missing``), refunds and
receipts whose own figures did not add up (failed checks) inside the period.
"""

from __future__ import annotations

from typing import Any

import duckdb

from kelaile_cli.services.insights.figures import query

__all__ = ["reconcile"]

_PERIODS = """
SELECT seq, store, profile, ts, number, opened AS start, coalesce(closed, ts) AS "end",
       receipts, refunds, refund_total, total
FROM reports ORDER BY "end", seq
"""

# the close of the report before (same store and POS), for a report that does not print its opening
_PREVIOUS_CLOSE = """
SELECT max(coalesce(closed, ts)) FROM all_reports
WHERE store = ? AND profile IS NOT DISTINCT FROM ? AND ts < ?
"""

_REPORTED = """
SELECT u.p.method AS method, sum(TRY_CAST(u.p.amount AS DECIMAL(18,2))) AS amount
FROM (SELECT unnest(payments) AS p FROM reports WHERE seq = ?) u GROUP BY 1
"""

_IN_PERIOD = """
(store = ? AND profile IS NOT DISTINCT FROM ? AND kind IN ('sale', 'refund')
 AND (CAST(? AS TIMESTAMP) IS NULL OR ts >= ?) AND ts <= ?)
"""

_CAPTURED = f"""
SELECT method, sum(CASE WHEN kind = 'refund' THEN -abs(amount) ELSE amount END) AS amount
FROM all_payments WHERE seq IN (SELECT seq FROM all_receipts WHERE {_IN_PERIOD}) GROUP BY 1
"""

_COUNTS = f"""
SELECT count(*) AS receipts, count(*) FILTER (kind = 'refund') AS refunds,
       coalesce(sum(-abs(total)) FILTER (kind = 'refund'), 0) AS refund_total
FROM all_receipts WHERE {_IN_PERIOD}
"""

_EXPLAIN = f"""
SELECT seq, kind, order_no, ts, total,
       CASE WHEN kind = 'refund' THEN 'refund' ELSE 'checks failed' END AS why
FROM all_receipts WHERE {_IN_PERIOD} AND (kind = 'refund' OR NOT coalesce(checks_ok, TRUE))
ORDER BY ts, seq
"""


def reconcile(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One entry per shift report in scope: per-method reported/captured/difference and the explanation."""
    out = []
    for rep in query(con, _PERIODS):
        if rep["start"] is None and rep["ts"] is not None:
            previous = con.execute(_PREVIOUS_CLOSE, [rep["store"], rep["profile"], rep["ts"]]).fetchone()
            rep["start"] = previous[0] if previous else None
        period = [rep["store"], rep["profile"], rep["start"], rep["start"], rep["end"]]
        reported = {r["method"]: r["amount"] for r in query(con, _REPORTED, [rep["seq"]])}
        captured = {r["method"]: r["amount"] for r in query(con, _CAPTURED, period)}
        methods = sorted(set(reported) | set(captured))
        lines = [
            {
                "method": m,
                "reported": reported.get(m),
                "captured": captured.get(m),
                "difference": (reported.get(m) or 0) - (captured.get(m) or 0),
            }
            for m in methods
        ]
        counts = query(con, _COUNTS, period)[0]
        missing = rep["receipts"] - counts["receipts"] if rep["receipts"] is not None else None
        out.append(
            {
                "store": rep["store"],
                "profile": rep["profile"],
                "number": rep["number"],
                "start": rep["start"],
                "end": rep["end"],
                "methods": lines,
                "reported_total": rep["total"],
                "captured_total": sum((ln["captured"] or 0 for ln in lines), 0),
                "difference": sum((ln["difference"] for ln in lines), 0),
                "receipts": {"reported": rep["receipts"], "captured": counts["receipts"], "missing": missing},
                "refunds": {
                    "reported": rep["refunds"],
                    "captured": counts["refunds"],
                    "reported_total": rep["refund_total"],
                    "captured_total": counts["refund_total"],
                },
                "explaining_receipts": query(con, _EXPLAIN, period),
            }
        )
    return out
