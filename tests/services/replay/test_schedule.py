"""The open-model schedule: due times, round-robin, occurrences (pure)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.services.replay.schedule import Plan, schedule


def test_rate_schedule_is_evenly_spaced_and_the_stores_take_turns():
    sends = list(schedule(Plan(rate=4, stores=2), [0.0, 0.5, 0.9], [0, 0, 0]))
    assert [s.t for s in sends] == [i / 4 for i in range(6)]
    assert [(s.item, s.store, s.occurrence) for s in sends] == [
        (0, 0, 0), (1, 1, 0), (1, 0, 0), (2, 1, 0), (2, 0, 0), (0, 1, 0)
    ]  # fmt: skip


def test_at_a_rate_every_store_is_busy_from_the_start():
    """200 stores at 20/s: in the first 10 s every store has sent once (not store 1's whole pass first)."""
    sends = list(schedule(Plan(rate=20, duration=10.0, stores=200), [0.0] * 99, list(range(99))))
    assert len(sends) == 200 and {s.store for s in sends} == set(range(200))
    assert len({s.item for s in sends}) == 99  # a mix of receipts, not item 0 two hundred times


def test_duration_loops_with_a_new_occurrence_each_pass():
    sends = list(schedule(Plan(rate=10, duration=1.0), [0.0, 0.0], [0, 1]))
    assert len(sends) == 10 and max(s.t for s in sends) < 1.0
    # two byte-identical items (copies 0 and 1): 2 occurrences per pass, never the same key twice
    assert [s.occurrence for s in sends[:4]] == [0, 1, 2, 3]
    assert Plan(rate=10, duration=1.0).planned_sends(2) == 10


def test_as_recorded_keeps_gaps_divided_by_speed_and_staggers_stores():
    sends = list(schedule(Plan(speed=2.0, stores=2), [0.0, 3.0], [0, 0], span=4.0))
    assert [(s.t, s.store, s.item) for s in sends] == [(0.0, 0, 0), (1.0, 1, 0), (1.5, 0, 1), (2.5, 1, 1)]


def test_as_recorded_loop_stops_at_duration():
    sends = list(schedule(Plan(duration=10.0), [0.0, 1.0], [0, 0], span=2.0))
    assert len(sends) == 10 and sends[-1].t == 9.0
    assert {s.occurrence for s in sends} == {0, 1, 2, 3, 4}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    stores=st.integers(1, 4),
    rate=st.one_of(st.none(), st.floats(1, 500)),
    duration=st.one_of(st.none(), st.floats(0.1, 3)),
    dup=st.booleans(),
)
def test_every_send_is_a_distinct_transaction_and_due_in_order(n, stores, rate, duration, dup):
    ats = [i * 0.3 for i in range(n)]
    copies = [i if dup else 0 for i in range(n)] if dup else [0] * n
    digests = ["same" if dup else f"d{i}" for i in range(n)]
    sends = list(schedule(Plan(rate=rate, duration=duration, stores=stores), ats, copies, span=n * 0.3 + 1))
    keys = [(s.store, digests[s.item], s.occurrence) for s in sends]
    assert len(keys) == len(set(keys))
    assert all(a.t <= b.t for a, b in itertools.pairwise(sends))
    assert [s.seq for s in sends] == list(range(len(sends)))
    if duration is not None:
        assert all(s.t < duration for s in sends)
    else:
        assert len(sends) == n * stores
