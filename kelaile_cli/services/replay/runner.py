"""Sending the schedule: claims, open-model uploads with bounded concurrency, one or several processes.

``run_replay`` claims one device per simulated store, then walks the schedule: each send starts when
it is due (or as soon as a concurrency slot frees up), its latency counts from when it was due, and
its retries (done by the cloud client) reuse its idempotency key. With ``workers > 1`` the schedule is
dealt round-robin to that many processes, each with its own event loop and connection pool, all
starting at one shared instant; their tallies (HdrHistograms included) are merged.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from kelaile_cli.core.cloud.protocol import idempotency_key
from kelaile_cli.services.cloud.client import AsyncCloudClient, CloudError, Credentials, RetryEvent, RetryPolicy
from kelaile_cli.services.replay.http import AiohttpTransport
from kelaile_cli.services.replay.latency import Latency, summary_ms
from kelaile_cli.services.replay.schedule import Plan, schedule
from kelaile_cli.services.replay.workload import Item, Problem

__all__ = ["ItemTally", "Progress", "ReplayOptions", "Tally", "claim_stores", "run_replay", "run_sends"]

_PROGRESS_EVERY_S = 0.25
_CLAIM_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    cloud: str
    plan: Plan = field(default_factory=Plan)
    concurrency: int = 256  # uploads in flight at once (per process)
    workers: int = 1  # processes
    timeout_s: float = 10.0  # per attempt
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    model: str = "klx-replay"
    run_id: str = ""  # part of each simulated store's serial, so runs do not share devices
    cut_wait_s: float = 1.5  # how long the box holds a receipt's cut for its answer (box config ``cut_wait``)


@dataclass(frozen=True, slots=True)
class Progress:
    sent: int
    succeeded: int
    failed: int
    retries: int
    planned: int | None
    elapsed_s: float


@dataclass(slots=True)
class ItemTally:
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    missed_cuts: int = 0  # sends whose answer came after the cut wait (or never): the box printed no QR
    answer: dict[str, Any] | None = None  # the first answer's kind and text
    error: str | None = None  # the first error
    latency_ms: float | None = None  # the first send: from its scheduled time to its answer (or failure)
    attempts_ms: list[float] = field(default_factory=list)  # the first send: when each attempt ended, ms from due

    def merge(self, other: ItemTally) -> None:
        self.sent += other.sent
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.retries += other.retries
        self.missed_cuts += other.missed_cuts
        self.answer = self.answer or other.answer
        self.error = self.error or other.error
        if self.latency_ms is None:
            self.latency_ms, self.attempts_ms = other.latency_ms, other.attempts_ms


@dataclass
class Tally:
    """What one process (or, merged, the whole run) did."""

    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    missed_cuts: int = 0  # sends whose answer would have come after the box's cut wait
    duplicates: int = 0  # answers flagged duplicate (the first answer was lost to a dropped connection)
    retry_reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_lines: dict[str, str] = field(default_factory=dict)  # kind → first message
    keys: set[str] = field(default_factory=set)  # idempotency keys that succeeded
    items: dict[int, ItemTally] = field(default_factory=dict)
    latency: Latency = field(default_factory=Latency)
    lag: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, 600_000_000, 2))  # µs late at send
    last_due_s: float = 0.0
    last_done_s: float = 0.0
    interrupted: bool = False

    def item(self, index: int) -> ItemTally:
        tally = self.items.get(index)
        if tally is None:
            tally = self.items[index] = ItemTally()
        return tally

    def merge(self, other: Tally) -> None:
        self.sent += other.sent
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.retries += other.retries
        self.missed_cuts += other.missed_cuts
        self.duplicates += other.duplicates
        self.retry_reasons.update(other.retry_reasons)
        self.errors.update(other.errors)
        for kind, line in other.error_lines.items():
            self.error_lines.setdefault(kind, line)
        self.keys |= other.keys
        for index, tally in other.items.items():
            self.item(index).merge(tally)
        self.latency.merge(other.latency)
        self.lag.add(other.lag)
        self.last_due_s = max(self.last_due_s, other.last_due_s)
        self.last_done_s = max(self.last_done_s, other.last_done_s)
        self.interrupted = self.interrupted or other.interrupted

    def lag_ms(self) -> dict[str, float | int | None]:
        return summary_ms(self.lag)

    # processes exchange tallies as plain data (histograms in their encoded form)
    def to_wire(self) -> dict[str, Any]:
        doc = {k: getattr(self, k) for k in ("sent", "succeeded", "failed", "retries", "missed_cuts", "duplicates",
                                             "retry_reasons", "errors", "error_lines", "keys", "last_due_s",
                                             "last_done_s", "interrupted")}  # fmt: skip
        doc["items"] = {i: _item_wire(t) for i, t in self.items.items()}
        doc["latency"] = self.latency.encode()
        doc["lag"] = self.lag.encode().decode("ascii")
        return doc

    @classmethod
    def from_wire(cls, doc: dict[str, Any]) -> Tally:
        out = cls(**{k: v for k, v in doc.items() if k not in ("latency", "lag", "items")})
        out.items = {int(i): ItemTally(**t) for i, t in doc["items"].items()}
        out.latency = Latency.decode(doc["latency"])
        out.lag = HdrHistogram.decode(doc["lag"].encode("ascii"))
        return out


def _item_wire(t: ItemTally) -> dict[str, Any]:
    return {k: getattr(t, k) for k in ItemTally.__slots__}


# -- claims ------------------------------------------------------------------------------------------
async def _claim_all(cloud: AsyncCloudClient, stores: int, model: str, run_id: str) -> list[Credentials]:
    gate = asyncio.Semaphore(_CLAIM_CONCURRENCY)

    async def one(store: int) -> Credentials:
        async with gate:
            serial = f"replay-{run_id}-{store + 1:04d}" if run_id else f"replay-{store + 1:04d}"
            return await cloud.claim(serial, model, store=f"store-{store + 1:04d}")

    return list(await asyncio.gather(*(one(s) for s in range(stores))))


def claim_stores(options: ReplayOptions) -> list[Credentials]:
    """One claimed device per simulated store (raises ``CloudError`` when the cloud refuses or is away)."""

    async def main() -> list[Credentials]:
        async with AsyncCloudClient(options.cloud, retry=options.retry, timeout=options.timeout_s) as cloud:
            return await _claim_all(cloud, options.plan.stores, options.model, options.run_id)

    return asyncio.run(main())


# -- sending (one process) -----------------------------------------------------------------------------
def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _send_all(
    items: list[Item],
    identities: list[Credentials],
    options: ReplayOptions,
    worker: int,
    start_at: float | None,
    stop: Callable[[], bool],
    progress: Callable[[Tally, float], None] | None,
) -> Tally:
    tally = Tally()
    plan, workers = options.plan, max(1, options.workers)
    in_flight: dict[str, int] = {}
    attempts: dict[str, list[float]] = {}  # idempotency key → monotonic end of each failed attempt

    def on_retry(event: RetryEvent) -> None:
        tally.retries += 1
        tally.retry_reasons[event.reason] += 1
        if event.idempotency_key in in_flight:
            tally.item(in_flight[event.idempotency_key]).retries += 1
            attempts[event.idempotency_key].append(time.monotonic())

    limits = max(1, options.concurrency)
    transport = AiohttpTransport.open(limits, options.timeout_s)
    cloud = AsyncCloudClient(options.cloud, retry=options.retry, on_retry=on_retry, timeout=options.timeout_s,
                             transport=transport, owns_transport=True)  # fmt: skip
    async with cloud:
        devices = [cloud.for_device(c) for c in identities]
        gate = asyncio.Semaphore(limits)
        tasks: set[asyncio.Task[None]] = set()
        t0 = start_at if start_at is not None else time.monotonic()

        async def send_one(item_no: int, store: int, occurrence: int, due_s: float) -> None:
            item = items[item_no]
            due = t0 + due_s
            async with gate:
                began = time.monotonic()
                tally.lag.record_value(min(600_000_000, max(1, round((began - due) * 1e6))))
                device = devices[store]
                key = idempotency_key(identities[store].device_id, item.digest, occurrence)
                per_item = tally.item(item_no)
                tally.sent += 1
                per_item.sent += 1
                in_flight[key] = item_no
                ends = attempts[key] = []
                failed = False
                try:
                    result = await device.upload(item.body, key)
                except CloudError as exc:
                    failed = True
                    tally.failed += 1
                    per_item.failed += 1
                    tally.errors[exc.kind] += 1
                    tally.error_lines.setdefault(exc.kind, str(exc))
                    per_item.error = per_item.error or str(exc)
                    return
                finally:
                    done = time.monotonic()
                    in_flight.pop(key, None)
                    attempts.pop(key, None)
                    tally.last_done_s = max(tally.last_done_s, done - t0)
                    late = failed or done - due > options.cut_wait_s  # a failed upload has no answer to print
                    tally.missed_cuts += late
                    per_item.missed_cuts += late
                    if per_item.latency_ms is None:
                        per_item.latency_ms = round((done - due) * 1000, 3)
                        per_item.attempts_ms = [round((e - due) * 1000, 3) for e in (*ends, done)]
                tally.latency.record(due_s, done - due)
                tally.succeeded += 1
                per_item.succeeded += 1
                tally.keys.add(key)
                tally.duplicates += result.duplicate
                if per_item.answer is None:
                    per_item.answer = {"kind": result.answer.get("kind"), "text": result.answer.get("text")}

        next_report = 0.0
        ats = [i.at for i in items]
        copies = [i.copy for i in items]
        try:
            for send in schedule(plan, ats, copies, max(ats, default=0.0) + 1.0):
                if send.seq % workers != worker:
                    continue
                if stop():
                    tally.interrupted = True
                    break
                delay = t0 + send.t - time.monotonic()
                if delay > 0.0005:
                    await asyncio.sleep(delay)
                now = time.monotonic()
                if progress is not None and now >= next_report:
                    progress(tally, now - t0)
                    next_report = now + _PROGRESS_EVERY_S
                tally.last_due_s = send.t
                task = asyncio.create_task(send_one(send.item, send.store, send.occurrence, send.t))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks:
                _, pending = await asyncio.wait(set(tasks), timeout=_PROGRESS_EVERY_S)
                if progress is not None:
                    progress(tally, time.monotonic() - t0)
                if pending and stop():
                    tally.interrupted = True
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
        except asyncio.CancelledError:  # pragma: no cover - Ctrl-C in a single process
            tally.interrupted = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if progress is not None:
            progress(tally, time.monotonic() - t0)
    return tally


def run_sends(
    items: list[Item],
    identities: list[Credentials],
    options: ReplayOptions,
    *,
    worker: int = 0,
    start_at: float | None = None,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[Tally, float], None] | None = None,
) -> Tally:
    """Send this worker's share of the schedule on a fresh event loop (uvloop when available)."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(_send_all(items, identities, options, worker, start_at, stop, progress))


# -- several processes ---------------------------------------------------------------------------------
def _worker_main(
    items: list[Item],
    identities: list[Credentials],
    options: ReplayOptions,
    worker: int,
    events: Any,
    go: Any,
    start_at: Any,
    stop: Any,
) -> None:
    def progress(tally: Tally, elapsed: float) -> None:
        events.put(("progress", worker, (tally.sent, tally.succeeded, tally.failed, tally.retries)))

    try:
        events.put(("ready", worker, None))
        go.wait()
        tally = run_sends(items, identities, options, worker=worker, start_at=start_at.value, stop=stop.is_set,
                          progress=progress)  # fmt: skip
        events.put(("done", worker, tally.to_wire()))
    except BaseException as exc:  # a worker must always answer, or the parent would wait forever
        events.put(("failed", worker, f"{type(exc).__name__}: {exc}"))


def _run_processes(
    items: list[Item],
    identities: list[Credentials],
    options: ReplayOptions,
    stop: threading.Event,
    progress: Callable[[Progress], None] | None,
    planned: int | None,
) -> tuple[Tally, list[Problem]]:
    ctx = mp.get_context("spawn")  # never fork a process that may run threads (an in-process cloud, rich)
    events, go, start_at, halt = ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0), ctx.Event()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(items, identities, options, w, events, go, start_at, halt),
            name=f"klx-replay-{w}",
            daemon=True,
        )
        for w in range(options.workers)
    ]
    for proc in procs:
        proc.start()
    merged, problems = Tally(), []
    counts: dict[int, tuple[int, int, int, int]] = {}
    ready: set[int] = set()
    done: set[int] = set()
    began = time.monotonic()
    try:
        while len(done) < len(procs):
            if stop.is_set():
                halt.set()
                go.set()
            try:
                kind, worker, payload = events.get(timeout=_PROGRESS_EVERY_S)
            except queue.Empty:
                if all(not p.is_alive() for p in procs if p.pid is not None) and len(done) < len(procs):
                    lost = [w for w in range(len(procs)) if w not in done]
                    problems.append(Problem("replay", "worker", f"worker process(es) {lost} died without a result"))
                    break
                continue
            if kind == "ready":
                ready.add(worker)
                if len(ready) == len(procs):
                    start_at.value = time.monotonic() + 0.05
                    began = start_at.value
                    go.set()
            elif kind == "progress":
                counts[worker] = payload
            elif kind == "done":
                done.add(worker)
                merged.merge(Tally.from_wire(payload))
            elif kind == "failed":
                done.add(worker)
                problems.append(Problem("replay", "worker", f"worker {worker} failed: {payload}"))
            if progress is not None and counts:
                sums = [sum(c[i] for c in counts.values()) for i in range(4)]
                progress(Progress(sums[0], sums[1], sums[2], sums[3], planned, time.monotonic() - began))
    finally:
        halt.set()
        go.set()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(1)
        with contextlib.suppress(Exception):
            events.close()
    return merged, problems


def run_replay(
    items: list[Item],
    options: ReplayOptions,
    *,
    identities: list[Credentials] | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[Tally, list[Credentials], list[Problem]]:
    """Claim the stores (unless ``identities`` are given) and send the whole schedule.

    Never raises for a cloud that is away or refuses: that becomes a ``Problem`` and an empty tally.
    """
    stop = stop or threading.Event()
    planned = options.plan.planned_sends(len(items))
    if not items:
        return Tally(), [], []
    if identities is None:
        try:
            identities = claim_stores(options)
        except CloudError as exc:
            return Tally(), [], [Problem(options.cloud, exc.kind, f"claiming {options.plan.stores} store "
                                         f"device(s) failed: {exc}")]  # fmt: skip
    if options.workers <= 1:

        def report(tally: Tally, elapsed: float) -> None:
            if progress is not None:
                progress(Progress(tally.sent, tally.succeeded, tally.failed, tally.retries, planned, elapsed))

        return run_sends(items, identities, options, stop=stop.is_set, progress=report), identities, []
    tally, problems = _run_processes(items, identities, options, stop, progress, planned)
    return tally, identities, problems
