"""The insight tables, as SQL views over ``docs`` (see ``load``): one row per receipt, item, payment, report.

Money is ``DECIMAL(18,2)`` and quantities ``DECIMAL(18,3)`` (cast from the decimal strings receipts
carry, never through float). A receipt's time ``ts`` is the time the POS printed on it, else the time
the box captured it; ``printed`` is the capture time, else the POS time (dwell uses it: a pre-bill and
its sale often carry the order's opening time both). A filter (store, period) is applied once: the
receipts, items and payments in scope become small temporary tables (one pass over a Parquet export,
whose row groups outside the store and period are skipped); shift reconciliation looks past the
period through the ``all_receipts``/``all_payments`` views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

__all__ = ["Scope", "create_views"]

MONEY = "DECIMAL(18,2)"
QTY = "DECIMAL(18,3)"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which receipts the figures cover: a store (None: all) and a half-open period [start, end)."""

    store: str | None = None
    start: datetime | None = None
    end: datetime | None = None


# a / b rounded half away from zero to cents, in integers (DuckDB divides decimals as doubles); exact
# for money (2 places) and quantities (3 places)
_RATIO = """
CREATE OR REPLACE MACRO ratio(a, b) AS CASE WHEN b IS NULL OR b = 0 OR a IS NULL THEN NULL ELSE
    CAST(sign(a) * sign(b) * ((abs(CAST(a * 1000 AS HUGEINT)) * 200 // abs(CAST(b * 1000 AS HUGEINT)) + 1) // 2)
         AS DECIMAL(18, 0)) * 0.01 END
"""


def _ts(text: str) -> str:
    return f"try_cast(replace(replace({text}, 'T', ' '), 'Z', '') AS TIMESTAMP)"


def create_views(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """(Re)create ``receipts``, ``items``, ``payments`` (tables) and ``reports`` (a view) for ``scope``."""
    tx = 'd.body."transaction"'
    where = ["TRUE"]
    params: list[object] = []
    if scope.store is not None:
        where.append("store = ?")
        params.append(scope.store)
    if scope.start is not None:
        where.append("ts >= ?")
        params.append(scope.start)
    if scope.end is not None:
        where.append("ts < ?")
        params.append(scope.end)
    # views cannot take parameters: the scope is fixed into the view text as literals
    literal = [_literal(p) for p in params]
    condition = " AND ".join(w.replace("?", literal.pop(0)) if "?" in w else w for w in where)
    con.execute(_RATIO)
    con.execute(f"""
CREATE OR REPLACE VIEW all_receipts AS
SELECT d.seq, d.store, d.device, d.body.kind AS kind, d.body.profile AS profile,
       d.ts AS ts,
       coalesce({_ts("d.body.printed_at")}, {_ts(f'{tx}."datetime"')}) AS printed,
       {tx}.order_no AS order_no, {tx}."table" AS table_no, {tx}.covers AS covers,
       {tx}.currency AS currency, {tx}.cashier AS cashier,
       TRY_CAST({tx}.total AS {MONEY}) AS total, TRY_CAST({tx}.discount AS {MONEY}) AS discount,
       TRY_CAST({tx}.change AS {MONEY}) AS change,
       list_bool_and([c.ok FOR c IN coalesce(d.body.checks, [])]) AS checks_ok,
       d.body.receipt_sha256 AS sha256, {tx}.items AS item_list, {tx}.payments AS pay_list,
       {tx}.report AS report
FROM docs d
""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE receipts AS SELECT * FROM all_receipts WHERE {condition}")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE items AS
SELECT u.seq, u.store, u.kind, u.ts, u.i.name AS name, u.i.sku AS sku,
       coalesce(TRY_CAST(u.i.quantity AS {QTY}), 1) AS quantity,
       coalesce(TRY_CAST(u.i.amount AS {MONEY}),
                TRY_CAST(TRY_CAST(u.i.unit_price AS {MONEY}) * coalesce(TRY_CAST(u.i.quantity AS {QTY}), 1)
                         AS {MONEY})) AS amount
FROM (SELECT seq, store, kind, ts, unnest(item_list) AS i FROM receipts) u
""")
    # cash tendered includes the change given back: the change comes off the first cash payment
    # (or the first payment when none is cash), so the mix sums to what was taken
    payments = f"""
CREATE OR REPLACE {{what}} {{name}} AS
WITH p AS (
    SELECT seq, store, kind, ts, change, u.p.method AS method, TRY_CAST(u.p.amount AS {MONEY}) AS tendered, u.n AS n
    FROM (SELECT *, unnest(pay_list) AS p, generate_subscripts(pay_list, 1) AS n FROM {{source}}) u
), ranked AS (
    SELECT p.*, row_number() OVER (PARTITION BY seq ORDER BY (method = 'cash') DESC, n) AS pick FROM p
)
SELECT seq, store, kind, ts, method,
       tendered - CASE WHEN pick = 1 THEN coalesce(change, 0) ELSE 0 END AS amount
FROM ranked
"""
    con.execute(payments.format(what="TEMP TABLE", name="payments", source="receipts"))
    con.execute(payments.format(what="VIEW", name="all_payments", source="all_receipts"))
    reports = f"""
CREATE OR REPLACE {{what}} {{name}} AS
SELECT seq, store, profile, ts, report.number AS number,
       {_ts("report.opened")} AS opened, {_ts("report.closed")} AS closed,
       report.receipts AS receipts, report.refunds AS refunds,
       TRY_CAST(report.refund_total AS {MONEY}) AS refund_total, total, pay_list AS payments
FROM {{source}} WHERE kind = 'shift_report'
"""
    con.execute(reports.format(what="TEMP TABLE", name="reports", source="receipts"))
    con.execute(reports.format(what="VIEW", name="all_reports", source="all_receipts"))


def _literal(value: object) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return "'" + str(value).replace("'", "''") + "'"
