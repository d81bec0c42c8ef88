"""Recordings: written by --record, read back by --replay; bad lines named by file:line."""

from __future__ import annotations

import threading

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.monitor.events import MonitorEvent, Recorder, read_events
from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.services.monitor.sources import ReplaySource
from kelaile_cli.services.monitor.synthetic import synthetic_session


def test_record_then_read_round_trips(tmp_path):
    events = synthetic_session(5, 10, 3, seed=3)
    rec = Recorder(tmp_path / "s.jsonl")
    for e in events:
        rec.write(e)
    rec.close()
    assert read_events(tmp_path / "s.jsonl") == events


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{nope", r"s\.jsonl:2: not JSON"),
        ("[1]", r"s\.jsonl:2: expected a JSON object"),
        ('{"kind":"party","serial":"A","t":1}', r"s\.jsonl:2: unknown event kind 'party'"),
        ('{"kind":"log","serial":3,"t":1}', r"s\.jsonl:2: an event needs a text 'serial'"),
    ],
)
def test_a_bad_line_is_named(tmp_path, line, message):
    good = MonitorEvent("heartbeat", "A", 1.0).to_json()
    (tmp_path / "s.jsonl").write_text(good + "\n" + line + "\n")
    with pytest.raises(InputError, match=message):
        read_events(tmp_path / "s.jsonl")


def test_replay_at_once_feeds_the_model_and_the_recorder(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in synthetic_session(4, 5, 4, seed=2)))
    rec = Recorder(tmp_path / "out.jsonl")
    feed = Feed(FleetModel(), rec)
    ReplaySource(path, speed=0).run(feed.emit, threading.Event())
    n = feed.drain()
    rec.close()
    assert n == len(read_events(path)) == len(read_events(tmp_path / "out.jsonl"))
    assert len(feed.model.boxes) == 4


def test_replay_in_real_time_stops_when_asked(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in synthetic_session(2, 100, 1, seed=2)))
    feed = Feed(FleetModel())
    stop = threading.Event()
    worker = threading.Thread(target=ReplaySource(path, speed=1.0).run, args=(feed.emit, stop))
    worker.start()
    threading.Timer(0.3, stop.set).start()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert 0 < feed.drain() < len(read_events(path))  # it stopped long before the end
