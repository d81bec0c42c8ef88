"""The whole ``klx insights`` answer: load, scope, every figure, reconciliation — as one dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from kelaile_cli.services.insights import figures, load
from kelaile_cli.services.insights.model import Scope, create_views
from kelaile_cli.services.insights.reconcile import reconcile

__all__ = [
    "Insights",
    "build",
    "gather",
    "insights_from_cloud",
    "insights_from_db",
    "insights_from_recordings",
    "to_json",
]

Insights = dict[str, Any]


def build(con: duckdb.DuckDBPyConnection, scope: Scope, top: int = 10) -> Insights:
    """Every figure over the documents loaded into ``con``, restricted to ``scope``. A period with both
    ends also gets the sellers' trend against the period of the same length just before it."""
    trend = scope.start is not None and scope.end is not None
    if scope.start is not None and scope.end is not None:
        create_views(con, Scope(scope.store, scope.start - (scope.end - scope.start), scope.start))
        figures.previous_sellers(con)
    create_views(con, scope)
    return {
        "scope": {"store": scope.store, "from": scope.start, "to": scope.end},
        "documents": con.execute("SELECT count(*) FROM docs").fetchone()[0],  # type: ignore[index]
        "stores": figures.summary(con),
        "payment_mix": figures.payment_mix(con),
        "sellers": figures.sellers(con, top, trend),
        "traffic": figures.traffic(con),
        "covers": figures.covers(con),
        "tables": figures.tables(con),
        "refunds_and_discounts": figures.refunds_and_discounts(con),
        "shifts": reconcile(con),
    }


def gather(
    scope: Scope,
    *,
    db: str | Path | None = None,
    cloud: str | None = None,
    recordings: Sequence[str | Path] = (),
    parquet: str | Path | None = None,
    top: int = 10,
    export: str | Path | None = None,
    threads: int | None = None,
) -> Insights:
    """Load one source (the cloud's SQLite file, a running cloud, recordings, a Parquet export), optionally
    export it to Parquet, and compute every figure for ``scope``."""
    con = load.connect(threads)
    try:
        if db is not None:
            load.load_db(con, db)
        elif cloud is not None:
            from kelaile_cli.services.insights.cloud import cloud_documents

            load.load_documents(con, cloud_documents(cloud))
        elif parquet is not None:
            load.load_parquet(con, parquet)
        else:
            load.load_recordings(con, recordings)
        if export is not None:
            load.export_parquet(con, export)
        return build(con, scope, top)
    finally:
        con.close()


def insights_from_db(db: str | Path, scope: Scope, top: int = 10) -> Insights:
    """Insights over a sandbox cloud database file."""
    return gather(scope, db=db, top=top)


def insights_from_recordings(paths: Sequence[str | Path], scope: Scope, top: int = 10) -> Insights:
    """Insights straight from recordings, through the box pipeline (no cloud)."""
    return gather(scope, recordings=paths, top=top)


def insights_from_cloud(url: str, scope: Scope, top: int = 10) -> Insights:
    """Insights over what a running cloud has stored (its loopback admin reads)."""
    return gather(scope, cloud=url, top=top)


def to_json(value: Any) -> Any:
    """JSON-ready copy: money as decimal strings (exact), times as ISO 8601."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
