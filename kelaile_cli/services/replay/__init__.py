"""``klx replay``: customer recordings through the box pipeline to a cloud, on schedule, measured.

``workload`` (recordings → upload bodies), ``schedule`` (when each send is due: as recorded, ``--speed``,
open-model ``--rate``), ``runner`` (claims, uploads, retries, worker processes), ``latency``
(HdrHistograms), ``compare`` (expected/baseline field differences), ``report``/``plot`` (the results),
``session`` (all of it as one call), ``http`` (the fast connection pool), ``locust_user`` (the same
replay as a Locust user class, for Locust's distributed workers; needs the ``load`` extra).
"""

from kelaile_cli.services.replay.report import build_report, report_lines, write_report
from kelaile_cli.services.replay.runner import Progress, ReplayOptions, Tally, run_replay
from kelaile_cli.services.replay.schedule import Plan, Send, schedule
from kelaile_cli.services.replay.session import check_options, replay
from kelaile_cli.services.replay.workload import Item, Problem, Workload, load_workload

__all__ = [
    "Item",
    "Plan",
    "Problem",
    "Progress",
    "ReplayOptions",
    "Send",
    "Tally",
    "Workload",
    "build_report",
    "check_options",
    "load_workload",
    "replay",
    "report_lines",
    "run_replay",
    "schedule",
    "write_report",
]
