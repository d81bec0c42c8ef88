"""The sandbox cloud: the HTTP service a Kelaile box talks to, for tests and load rehearsals.

``app`` (FastAPI endpoints), ``storage`` (SQLite, idempotent ingest), ``faults`` (latency, 5xx,
dropped answers), ``answers`` (what the box prints), ``server`` (uvicorn: foreground or in a thread).
"""

from kelaile_cli.services.cloud.app import CloudConfig, create_app
from kelaile_cli.services.cloud.faults import Faults
from kelaile_cli.services.cloud.server import RunningCloud, running_cloud, serve
from kelaile_cli.services.cloud.storage import Storage, read_stats

__all__ = ["CloudConfig", "Faults", "RunningCloud", "Storage", "create_app", "read_stats", "running_cloud", "serve"]
