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

__all__ = ["Insights", "build", "insights_from_cloud", "insights_from_db", "insights_from_recordings", "to_json"]

Insights = dict[str, Any]


def build(con: duckdb.DuckDBPyConnection, scope: Scope, top: int = 10) -> Insights:
    """Every figure over the documents loaded into ``con``, restricted to ``scope``."""
    create_views(con, scope)
    return {
        "scope": {"store": scope.store, "from": scope.start, "to": scope.end},
        "documents": con.execute("SELECT count(*) FROM docs").fetchone()[0],  # type: ignore[index]
        "stores": figures.summary(con),
        "payment_mix": figures.payment_mix(con),
        "sellers": figures.sellers(con, top),
        "traffic": figures.traffic(con),
        "covers": figures.covers(con),
        "tables": figures.tables(con),
        "refunds_and_discounts": figures.refunds_and_discounts(con),
        "shifts": reconcile(con),
    }


def insights_from_db(db: str | Path, scope: Scope, top: int = 10) -> Insights:
    """Insights over a sandbox cloud database file."""
    con = load.connect()
    try:
        load.load_db(con, db)
        return build(con, scope, top)
    finally:
        con.close()


def insights_from_recordings(paths: Sequence[str | Path], scope: Scope, top: int = 10) -> Insights:
    """Insights straight from recordings, through the box pipeline (no cloud)."""
    con = load.connect()
    try:
        load.load_recordings(con, paths)
        return build(con, scope, top)
    finally:
        con.close()


def insights_from_cloud(url: str, scope: Scope, top: int = 10) -> Insights:
    """Insights over what a running cloud has stored (its loopback admin reads)."""
    from kelaile_cli.services.insights.cloud import cloud_documents

    con = load.connect()
    try:
        load.load_documents(con, cloud_documents(url))
        return build(con, scope, top)
    finally:
        con.close()


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
