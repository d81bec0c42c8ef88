"""The figures of ``klx insights``, each one SQL query over the views of ``model``.

Sales are receipts of kind ``sale``; refunds (kind ``refund``) count against them: their amounts are
negative and their quantities are taken off what was sold. Pre-bills, kitchen tickets and shift reports
are never revenue. Money stays ``Decimal``; ratios are rounded to cents (``ROUND(…, 2)``) in SQL.
"""

from __future__ import annotations

from typing import Any

import duckdb

__all__ = [
    "covers",
    "payment_mix",
    "previous_sellers",
    "query",
    "refunds_and_discounts",
    "sellers",
    "summary",
    "tables",
    "traffic",
]


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts (column name → value)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def summary(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per store: transactions, gross sales, refunds, revenue, average ticket, items per ticket."""
    return query(
        con,
        """
WITH r AS (
    SELECT store, count(*) FILTER (kind = 'sale') AS transactions,
           coalesce(sum(total) FILTER (kind = 'sale'), 0) AS gross_sales,
           coalesce(sum(-abs(total)) FILTER (kind = 'refund'), 0) AS refunds,
           min(ts) FILTER (kind IN ('sale', 'refund')) AS first, max(ts) FILTER (kind IN ('sale', 'refund')) AS last
    FROM receipts GROUP BY store
), q AS (SELECT store, sum(quantity) AS items FROM items WHERE kind = 'sale' GROUP BY store)
SELECT r.store, r.transactions, r.gross_sales, r.refunds, r.gross_sales + r.refunds AS revenue,
       ratio(r.gross_sales, r.transactions) AS average_ticket,
       coalesce(q.items, 0) AS items,
       ratio(coalesce(q.items, 0), r.transactions) AS items_per_ticket,
       r.first, r.last
FROM r LEFT JOIN q USING (store)
WHERE r.transactions > 0 OR r.refunds <> 0
ORDER BY revenue DESC, store
""",
    )


def payment_mix(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Takings per payment method (sales less refunds, change given back), with each one's share."""
    return query(
        con,
        """
WITH m AS (
    SELECT method, sum(CASE WHEN kind = 'refund' THEN -abs(amount) ELSE amount END) AS amount,
           count(DISTINCT seq) AS receipts
    FROM payments WHERE kind IN ('sale', 'refund') GROUP BY method
)
SELECT method, amount, receipts,
       ratio(100 * amount, sum(amount) OVER ()) AS share_pct
FROM m ORDER BY amount DESC, method
""",
    )


_SELLERS = """
CREATE OR REPLACE TEMP TABLE {name} AS
SELECT name,
       sum(CASE WHEN kind = 'refund' THEN -abs(quantity) ELSE quantity END) AS quantity,
       sum(CASE WHEN kind = 'refund' THEN -abs(amount) ELSE amount END) AS revenue,
       count(DISTINCT seq) FILTER (kind = 'sale') AS receipts
FROM items WHERE kind IN ('sale', 'refund') AND name IS NOT NULL GROUP BY name
"""


def previous_sellers(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the sellers of the scope now in place as ``previous_sellers`` (for the trend columns)."""
    con.execute(_SELLERS.format(name="previous_sellers"))


def sellers(con: duckdb.DuckDBPyConnection, top: int = 10, trend: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Best and worst sellers by quantity and by revenue (refunds taken off); with ``trend``, each one's
    quantity and revenue in the previous period (``previous_sellers``) and the change since."""
    con.execute(_SELLERS.format(name="sellers"))
    if trend:
        con.execute("""
CREATE OR REPLACE TEMP TABLE sellers AS
SELECT s.*, coalesce(p.quantity, 0) AS previous_quantity, coalesce(p.revenue, 0) AS previous_revenue,
       s.quantity - coalesce(p.quantity, 0) AS quantity_change, s.revenue - coalesce(p.revenue, 0) AS revenue_change
FROM sellers s LEFT JOIN previous_sellers p USING (name)
""")
    orders = {
        "best_by_quantity": "quantity DESC, revenue DESC",
        "best_by_revenue": "revenue DESC, quantity DESC",
        "worst_by_quantity": "quantity ASC, revenue ASC",
        "worst_by_revenue": "revenue ASC, quantity ASC",
    }
    sql = "SELECT * FROM sellers ORDER BY {order}, name LIMIT ?"
    return {key: query(con, sql.format(order=order), [top]) for key, order in orders.items()}


def traffic(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """Sales and revenue by hour of day (0–23) and by ISO weekday (1 = Monday)."""
    by = {
        "by_hour": "hour(ts)",
        "by_weekday": "isodow(ts)",
    }
    out = {}
    for key, expr in by.items():
        out[key] = query(
            con,
            f"""
SELECT {expr} AS {key.removeprefix("by_")}, count(*) AS transactions, sum(total) AS revenue
FROM receipts WHERE kind = 'sale' AND ts IS NOT NULL GROUP BY 1 ORDER BY 1
""",
        )
    return out


def covers(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Guests served (covers printed on sales) and revenue per cover, over the sales that state covers."""
    row = query(
        con,
        """
SELECT coalesce(sum(covers), 0) AS covers, count(*) AS transactions, coalesce(sum(total), 0) AS revenue,
       ratio(sum(total), sum(covers)) AS revenue_per_cover
FROM receipts WHERE kind = 'sale' AND covers IS NOT NULL AND covers > 0
""",
    )[0]
    return row


_PAIRS = """
WITH s AS (SELECT * FROM receipts WHERE kind = 'sale' AND table_no IS NOT NULL),
p AS (SELECT * FROM receipts WHERE kind = 'pre_bill'),
j AS (  -- equi-joins: by order number, or by table for a sale without one
    SELECT s.seq, s.store, s.table_no, s.order_no, p.printed AS pre_bill, s.printed AS sale
    FROM s JOIN p ON p.store = s.store AND p.profile = s.profile AND p.order_no = s.order_no
    WHERE p.printed <= s.printed
    UNION ALL
    SELECT s.seq, s.store, s.table_no, s.order_no, p.printed AS pre_bill, s.printed AS sale
    FROM s JOIN p ON p.store = s.store AND p.profile = s.profile AND p.table_no = s.table_no
    WHERE s.order_no IS NULL AND p.printed <= s.printed
),
m AS (SELECT *, row_number() OVER (PARTITION BY seq ORDER BY pre_bill DESC) AS k FROM j)
SELECT seq, store, table_no AS "table", order_no, pre_bill, sale,
       CAST(epoch(sale) - epoch(pre_bill) AS BIGINT) AS dwell_s
FROM m WHERE k = 1
"""


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Table turnover (seatings per table per day) and dwell from pre-bill to sale (same order, or table)."""
    turnover = query(
        con,
        """
SELECT count(*) AS seatings, count(DISTINCT (store, table_no)) AS tables,
       count(DISTINCT CAST(ts AS DATE)) AS days,
       ratio(count(*), count(DISTINCT (store, table_no)) * count(DISTINCT CAST(ts AS DATE))) AS turnover
FROM receipts WHERE kind = 'sale' AND table_no IS NOT NULL
""",
    )[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE dwell AS {_PAIRS}")
    pairs = query(con, "SELECT * EXCLUDE (seq) FROM dwell ORDER BY sale, seq")
    turnover["dwell"] = query(
        con, "SELECT count(*) AS pairs, ratio(sum(dwell_s), count(*)) AS mean_s, max(dwell_s) AS max_s FROM dwell"
    )[0]
    turnover["pairs"] = pairs
    return turnover


def refunds_and_discounts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Refund receipts (count, total, each one) and discounts given on sales."""
    refunds = query(
        con,
        """
SELECT seq, store, order_no, ts, -abs(total) AS total FROM receipts WHERE kind = 'refund' ORDER BY ts, seq
""",
    )
    disc = query(
        con,
        """
SELECT count(*) FILTER (kind = 'refund') AS refunds,
       coalesce(sum(-abs(total)) FILTER (kind = 'refund'), 0) AS refund_total,
       count(*) FILTER (kind = 'sale' AND discount <> 0) AS discounted,
       coalesce(sum(abs(discount)) FILTER (kind = 'sale'), 0) AS discount_total
FROM receipts
""",
    )[0]
    return {"refund_receipts": refunds, **disc}
