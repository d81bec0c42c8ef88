"""Replay against a real sandbox cloud: open-model timing, exactly-once under faults, bad credentials."""

from __future__ import annotations

import dataclasses

from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.services.cloud.client import Credentials
from kelaile_cli.services.cloud.sandbox import Faults, running_cloud
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.replay import load_workload, run_replay
from tests.services.replay.conftest import options


def _items(tree):
    return load_workload([tree], Detector(load_profiles().profiles)).items


def test_open_model_keeps_the_schedule_while_the_cloud_is_slow(tree, tmp_path):
    items = _items(tree)
    with running_cloud(tmp_path / "c.sqlite", faults=Faults(latency_ms=200)) as cloud:
        tally, _, problems = run_replay(items, options(cloud.url, rate=40, duration=0.5, concurrency=64))
    assert not problems and tally.sent == tally.succeeded == 20
    lag, lat = tally.lag_ms(), tally.latency.summary()
    assert lag["max"] < 100, "every send started on time although each answer took 200 ms"
    assert 200 <= lat["p50"] < 600 and tally.last_done_s < 1.2


def test_latency_counts_from_the_intended_time_not_from_when_a_slot_freed(tree, tmp_path):
    items = _items(tree)
    with running_cloud(tmp_path / "c.sqlite", faults=Faults(latency_ms=100)) as cloud:
        tally, _, _ = run_replay(items, options(cloud.url, rate=20, duration=0.5, concurrency=1))
    lat = tally.latency.summary()
    # 10 sends due 50 ms apart, served one at a time in ≥100 ms each: send k ends ≥ (k+1)·100 ms after the
    # start, i.e. ≥ 100 + 50·k ms after it was due; the last one ≥ 550 ms
    assert tally.succeeded == 10
    assert lat["max"] >= 540, lat  # a closed-model tool would report ~100 ms for every send
    assert tally.lag_ms()["max"] >= 400


def test_exactly_once_with_errors_and_drops_injected(tree, tmp_path):
    items = _items(tree)
    faults = Faults(error_rate=0.1, drop_rate=0.1, seed=11)
    with running_cloud(tmp_path / "c.sqlite", faults=faults) as cloud:
        tally, identities, problems = run_replay(items, options(cloud.url, rate=200, duration=0.6, stores=3))
        stored = cloud.storage.stats()["transactions"]
    assert not problems and len(identities) == 3
    assert tally.sent == 120 and tally.failed == 0
    assert stored == len(tally.keys) == tally.succeeded == 120, "one row per unique receipt, whatever the retries"
    assert tally.retries == sum(tally.retry_reasons.values()) > 0
    assert {"dropped", "http 503"} <= set(tally.retry_reasons)
    assert tally.duplicates <= tally.retry_reasons["dropped"]
    assert sum(t.retries for t in tally.items.values()) == tally.retries


def test_bad_credentials_fail_each_upload_with_one_line(tree, tmp_path):
    items = _items(tree)
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        tally, _, _ = run_replay(items, options(cloud.url), identities=[Credentials("dev_nobody", "wrong")])
        assert cloud.storage.stats()["transactions"] == 0
    assert tally.failed == tally.sent == 3 and tally.errors == {"credentials": 3}
    assert "dev_nobody" in tally.error_lines["credentials"] and "\n" not in tally.error_lines["credentials"]


def test_unreachable_cloud_is_one_problem(tree):
    items = _items(tree)
    tally, _, problems = run_replay(items, options("http://127.0.0.1:9"))
    assert tally.sent == 0
    assert [p.kind for p in problems] == ["unreachable"]
    assert "unreachable" in problems[0].line() and "klx cloud serve" in problems[0].line()


def test_worker_processes_share_the_schedule_and_merge_their_tallies(tree, tmp_path):
    items = _items(tree)
    faults = Faults(drop_rate=0.1, seed=5)
    with running_cloud(tmp_path / "c.sqlite", faults=faults) as cloud:
        opts = dataclasses.replace(options(cloud.url, rate=100, duration=0.6, stores=2), workers=2)
        seen: list = []
        tally, _, problems = run_replay(items, opts, progress=seen.append)
        stored = cloud.storage.stats()["transactions"]
    assert not problems
    assert tally.sent == tally.succeeded == len(tally.keys) == stored == 60
    assert (
        tally.latency.summary()["count"] == 60
        and sum(h.get_total_count() for h in tally.latency.per_second.values()) == 60
    )
    assert tally.retries == tally.retry_reasons["dropped"] > 0
    assert seen and seen[-1].sent == 60
