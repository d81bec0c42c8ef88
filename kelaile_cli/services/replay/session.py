"""``klx replay`` as one library call: recordings in, report out (the command only shows it)."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.replay.compare import Thresholds, load_baseline
from kelaile_cli.services.replay.report import build_report
from kelaile_cli.services.replay.runner import Progress, ReplayOptions, run_replay
from kelaile_cli.services.replay.workload import Item, Problem, Workload, load_workload

__all__ = ["auto_workers", "check_options", "replay", "select_receipts"]

UPLOADS_PER_PROCESS = 1_000  # what one sending process sustains (measured: docs/performance.md, replay)


def auto_workers(rate: float | None, cores: int | None = None) -> int:
    """Sending processes for ``--workers 0``: one per ~1,000 uploads/s asked, at most half the CPUs.

    The other half is left to the cloud, usually a sandbox on the same machine: on 2 cores a second sending
    process made every rate measured slower (p99 650 ms against 5.7 ms at 1,500/s), so there it stays 1.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    if rate is None:
        return 1
    return max(1, min(cores // 2, math.ceil(rate / UPLOADS_PER_PROCESS)))


def _order_no(item: Item) -> str | None:
    order = (item.identity.get("transaction") or {}).get("order_no")
    return None if order is None else str(order)


def select_receipts(work: Workload, order: str) -> None:
    """Keep only the receipts whose transaction's order number is ``order`` (``--receipt``)."""
    keep = [i for i in work.items if _order_no(i) == order]
    if not keep:
        known = sorted({o for i in work.items if (o := _order_no(i)) is not None})[:8]
        raise InputError(f"--receipt {order}: no replayable receipt has this order number",
                         remedy=f"order numbers found: {', '.join(known) or 'none'}")  # fmt: skip
    work.items[:] = keep


def check_options(options: ReplayOptions) -> None:
    """Refuse option values that cannot work, before anything is loaded or sent."""
    plan = options.plan
    if plan.rate is not None and plan.rate <= 0:
        raise InputError(f"--rate {plan.rate}: must be more than 0 transactions/s")
    if plan.speed <= 0:
        raise InputError(f"--speed {plan.speed}: must be more than 0")
    if plan.duration is not None and plan.duration <= 0:
        raise InputError(f"--duration {plan.duration}: must be more than 0 seconds")
    if plan.stores < 1:
        raise InputError(f"--stores {plan.stores}: at least 1")
    if options.concurrency < 1:
        raise InputError(f"--concurrency {options.concurrency}: at least 1")
    if options.cut_wait_s < 0:
        raise InputError(f"--cut-wait {options.cut_wait_s}: must be 0 or more seconds")
    if options.workers < 0:
        raise InputError(f"--workers {options.workers}: at least 1 (or 0: as many as the rate needs)")
    if not options.cloud.startswith(("http://", "https://")):
        raise InputError(f"--cloud {options.cloud}: expected an http:// or https:// URL",
                         remedy="e.g. http://127.0.0.1:8787 (klx cloud serve)")  # fmt: skip


def replay(
    paths: list[Path],
    options: ReplayOptions,
    *,
    baseline: Path | None = None,
    thresholds: Thresholds | None = None,
    strict: bool = False,
    receipt: str | None = None,
    profile_dirs: list[Path] | None = None,
    decode: DecodeOptions | None = None,
    on_loaded: Callable[[Workload], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Load, detect and extract every recording, send the schedule, and return the report document.

    Setting ``stop`` ends the run early: the report then covers what was sent and says ``interrupted``."""
    check_options(options)
    if options.workers == 0:
        options = dataclasses.replace(options, workers=auto_workers(options.plan.rate))
    previous = load_baseline(baseline) if baseline is not None else None
    loaded = load_profiles(profile_dirs or [])
    work = load_workload(paths, Detector(loaded.profiles), decode)
    work.problems[:0] = [Problem("profiles", "profile", str(e)) for e in loaded.errors]
    if receipt is not None:
        select_receipts(work, receipt)
    if on_loaded is not None:
        on_loaded(work)
    started, began = time.time(), time.monotonic()
    tally, _, problems = run_replay(work.items, options, progress=progress, stop=stop)
    if not work.items and not problems:
        problems = [Problem("replay", "no_receipts", "nothing to replay: no receipt of a known POS was found")]
    return build_report(work, tally, options, problems, started_at=started, elapsed_s=time.monotonic() - began,
                        baseline=previous, baseline_path=str(baseline) if baseline else None,
                        thresholds=thresholds, strict=strict)  # fmt: skip
