"""``klx insights``: what sold, when, at which table — and whether the till balances at shift close.

``load`` brings transactions (the cloud's SQLite file, recordings, a cloud URL) into DuckDB, ``model``
lays views over them, ``figures`` and ``reconcile`` query them, ``report`` assembles the whole
answer and ``html`` draws it as a page with charts.
"""

from kelaile_cli.services.insights.model import Scope
from kelaile_cli.services.insights.report import (
    Insights,
    build,
    gather,
    insights_from_cloud,
    insights_from_db,
    insights_from_recordings,
    to_json,
)

__all__ = [
    "Insights",
    "Scope",
    "build",
    "gather",
    "insights_from_cloud",
    "insights_from_db",
    "insights_from_recordings",
    "to_json",
]
