"""When each upload is due: the replay's open-model schedule, pure (no clock, no I/O).

A ``Send`` is due ``t`` seconds after the start whatever happened to earlier sends, so a slow cloud
cannot slow the schedule down; latency is then measured from ``t`` (no coordinated omission).

- As recorded (``rate=None``): every item at its recorded time divided by ``speed``; store ``s`` of
  ``N`` starts ``s/N`` of a pass later, so stores do not print in lock-step.
- ``rate=R``: sends ``1/R`` s apart, the stores taking turns (every store is busy from the start, as a
  chain's stores are); each store walks the items from its own start, the starts spread over the items,
  so at any moment the stores send a mix of receipts; each store sends each item once a pass.

One pass sends every item once per store; ``loop`` repeats passes forever, ``duration`` stops the
schedule at that time (and implies looping). The occurrence of a send (its pass, and which byte-identical
copy it is) goes into the idempotency key, so each pass and each store is a distinct transaction.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Plan", "Send", "schedule"]


@dataclass(frozen=True, slots=True)
class Send:
    seq: int  # position in the schedule (0-based)
    t: float  # seconds after the start when it is due
    item: int  # index into the workload's items
    store: int  # which simulated store (device identity)
    occurrence: int  # pass·copies + copy: part of the idempotency key


@dataclass(frozen=True, slots=True)
class Plan:
    """The timing options of ``klx replay``."""

    rate: float | None = None  # sends per second (open model); None = as recorded
    speed: float = 1.0  # as recorded, N× faster
    duration: float | None = None  # seconds; stop scheduling then (implies loop)
    loop: bool = False
    stores: int = 1

    @property
    def looping(self) -> bool:
        return self.loop or self.duration is not None

    def planned_sends(self, items: int) -> int | None:
        """How many sends the schedule holds (None: endless)."""
        if self.duration is None:
            return None if self.loop else items * self.stores
        if self.rate is not None:
            return int(self.duration * self.rate - 1e-9) + 1 if self.duration > 0 else 0
        return None  # as recorded under a duration: counted by walking the schedule


def _by_rate(plan: Plan, n_items: int, copies: list[int], n_copies: int) -> Iterator[Send]:
    assert plan.rate is not None
    per_pass = n_items * plan.stores
    for seq in itertools.count():
        t = seq / plan.rate
        if plan.duration is not None and t >= plan.duration:
            return
        if not plan.looping and seq >= per_pass:
            return
        pass_no, within = divmod(seq, per_pass)
        turn, store = divmod(within, plan.stores)
        item = (turn + store * n_items // plan.stores) % n_items  # the stores' starts spread over the items
        yield Send(seq, t, item, store, pass_no * n_copies + copies[item])


def _as_recorded(plan: Plan, ats: list[float], copies: list[int], n_copies: int, span: float) -> Iterator[Send]:
    speed = plan.speed
    order = sorted(range(len(ats)), key=lambda i: (ats[i], i))

    def stream(store: int) -> Iterator[tuple[float, int, int, int]]:
        offset = span * store / plan.stores
        for pass_no in itertools.count() if plan.looping else range(1):
            for i in order:
                yield ((pass_no * span + offset + ats[i]) / speed, store, i, pass_no)

    merged = heapq.merge(*(stream(s) for s in range(plan.stores)))
    for seq, (t, store, item, pass_no) in enumerate(merged):
        if plan.duration is not None and t >= plan.duration:
            return
        yield Send(seq, t, item, store, pass_no * n_copies + copies[item])


def schedule(plan: Plan, ats: list[float], copies: list[int], span: float | None = None) -> Iterator[Send]:
    """The sends of ``plan`` over items with recorded times ``ats`` and copy numbers ``copies``, in time order."""
    if not ats or plan.stores < 1:
        return iter(())
    n_copies = max(copies) + 1
    if plan.rate is not None:
        return _by_rate(plan, len(ats), copies, n_copies)
    return _as_recorded(plan, ats, copies, n_copies, span if span is not None else max(ats) + 1.0)
