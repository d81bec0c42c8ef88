"""``klx monitor``'s argument errors: one line, exit 2, before any screen starts."""

from __future__ import annotations

from tests.helpers import klx


def test_nothing_to_watch_is_a_usage_error():
    res = klx("monitor")
    assert res.returncode == 2 and "nothing to watch" in res.stderr and "Traceback" not in res.stderr


def test_a_bad_recording_line_is_named_by_file_and_line(tmp_path):
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"kind":"heartbeat","serial":"A","t":1,"data":{}}\n{"kind":"heartbeat"\n')
    res = klx("monitor", "--replay", str(bad))
    assert res.returncode == 2 and f"{bad}:2: not JSON" in res.stderr


def test_a_cloud_that_is_not_a_url_is_refused():
    res = klx("monitor", "--cloud", "127.0.0.1:8787")
    assert res.returncode == 2 and "expected an http:// or https:// URL" in res.stderr
