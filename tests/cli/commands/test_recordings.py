"""show/parse accept recordings: per-connection jobs, capture times, clear errors for corrupt files."""

from __future__ import annotations

import json

from kelaile_cli.core.formats.recording import Chunk, Header
from kelaile_cli.services.capture.recorder import RecordingWriter
from tests.helpers import SAMPLES, klx

T0 = 1795609800.0  # 2026-11-25 12:30:00 UTC


def test_parse_recording_gives_times_and_connections(tmp_path):
    path = tmp_path / "two.klr"
    with RecordingWriter(path, Header("listen://127.0.0.1:9100", T0, "0.1.0")) as w:
        # two POS connections interleaved in time: each is its own job stream
        w.write(Chunk(T0 + 1.0, "out", 0, b"\x1b@Table 1\n"))
        w.write(Chunk(T0 + 1.1, "out", 1, b"\x1b@Table 2\n"))
        w.write(Chunk(T0 + 1.2, "out", 0, b"Tea 2.00\n\x1dV\x00"))
        w.write(Chunk(T0 + 1.3, "out", 1, b"Cake 3.00\n\x1dV\x00"))
        w.write(Chunk(T0 + 1.4, "in", 1, b"\x16"))
    r = klx("parse", str(path), "--json")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["text"].splitlines() for o in objs] == [["Table 1", "Tea 2.00"], ["Table 2", "Cake 3.00"]]
    assert [o["connection"] for o in objs] == [0, 1]
    assert objs[0]["time"] == "2026-11-25T12:30:01.000Z"


def test_corrupt_recording_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "bad.klr"
    good = (SAMPLES / "zh-cn-restaurant-80mm.klr").read_bytes().split(b"\n")
    good[3] = b'{"t": "soon"}'
    path.write_bytes(b"\n".join(good))
    r = klx("show", str(path))
    assert r.returncode == 2
    assert f"{path}:4:" in r.stderr and "Traceback" not in r.stderr


def test_bundled_sample_is_a_recording_with_two_receipts():
    r = klx("parse", "--json")
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(objs) == 2 and objs[0]["source"] == "<bundled sample.klr>"
    assert objs[0]["time"] < objs[1]["time"]
    assert objs[1]["codes"][0]["data"] == "https://kelaile.example/c/MW0042"


def test_damaged_recordings_are_reported_by_show_parse_and_detect(tmp_path):
    lines = (SAMPLES / "zh-cn-restaurant-80mm.klr").read_bytes().split(b"\n")
    deleted = tmp_path / "deleted.klr"  # one chunk removed: the trailer's count and checksum disagree
    deleted.write_bytes(b"\n".join(lines[:2] + lines[3:]))
    killed = tmp_path / "killed.klr"  # no trailer: the recorder was killed
    killed.write_bytes(b"\n".join(line for line in lines if b'"end"' not in line))
    for path, needle in ((deleted, "checksum does not match"), (killed, "no trailer")):
        for command in (["show"], ["parse"], ["detect"]):
            r = klx(*command, str(path))
            assert r.returncode == 0, r.stderr
            assert "warning" in r.stderr and needle in r.stderr, (command, r.stderr)
        r = klx("parse", str(path), "--json")
        record = json.loads(r.stdout.splitlines()[0])["recording"]
        assert any(needle in w for w in record["warnings"])
        assert record["complete"] is (path == deleted)
    assert json.loads(klx("parse", str(SAMPLES / "zh-cn-restaurant-80mm.klr"), "--json").stdout.splitlines()[0])[
        "recording"
    ] == {"complete": True, "torn_tail": False, "torn_lines": 0, "lost_chunks": 0, "checksum_ok": None, "warnings": []}
