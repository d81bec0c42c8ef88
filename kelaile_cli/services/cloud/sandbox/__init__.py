"""The sandbox cloud: the HTTP service a Kelaile box talks to, for tests and load rehearsals.

``app`` (FastAPI endpoints), ``storage`` (SQLite, idempotent ingest), ``faults`` (latency, 5xx,
dropped answers), ``answers`` (what the box prints), ``server`` (uvicorn: foreground or in a thread).
The names below load lazily, so ``klx`` does not pay for FastAPI/uvicorn unless the cloud is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kelaile_cli.services.cloud.sandbox.app import CloudConfig, create_app
    from kelaile_cli.services.cloud.sandbox.faults import Faults
    from kelaile_cli.services.cloud.sandbox.server import RunningCloud, running_cloud, serve
    from kelaile_cli.services.cloud.sandbox.storage import Storage, read_stats

__all__ = ["CloudConfig", "Faults", "RunningCloud", "Storage", "create_app", "read_stats", "running_cloud", "serve"]

_HOME = {
    "CloudConfig": "app",
    "create_app": "app",
    "Faults": "faults",
    "RunningCloud": "server",
    "running_cloud": "server",
    "serve": "server",
    "Storage": "storage",
    "read_stats": "storage",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
