"""klx replay as a user runs it: a real subprocess against a real sandbox cloud."""

from __future__ import annotations

import json
import shutil

from kelaile_cli.services.cloud.sandbox import running_cloud
from tests.helpers import ROOT, klx


def _tree(tmp_path):
    root = tmp_path / "recs"
    root.mkdir()
    for name in ("meiwei-pos/meiwei-pos-01", "greenleaf-till/greenleaf-till-01"):
        for suffix in (".klr", ".expected.json"):
            src = ROOT / "recordings" / f"{name}{suffix}"
            shutil.copy(src, root / src.name)
    (root / "corrupt.klr").write_bytes(b'{"klr": 1}\n\x00\x01garbage\n')
    return root


def test_replay_directory_reports_json_plot_and_the_corrupt_file(tmp_path):
    root = _tree(tmp_path)
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        r = klx("replay", str(root), "--cloud", cloud.url, "--rate", "100", "--stores", "2", "--json",
                "--report", str(tmp_path / "r.json"), "--plot", str(tmp_path / "r.html"))  # fmt: skip
        stored = cloud.storage.stats()["transactions"]
    assert r.returncode == 1, r.stderr  # the corrupt recording counts as a failure
    report = json.loads(r.stdout)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["sent"] == report["sent"] == 6
    assert report["succeeded"] == report["unique_transactions"] == stored == 6
    [problem] = report["problems"]
    assert problem["kind"] == "corrupt" and problem["source"].endswith("corrupt.klr")
    lines = [ln for ln in r.stderr.splitlines() if "corrupt.klr" in ln]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_replay_clean_run_exits_zero_with_a_summary(tmp_path):
    root = _tree(tmp_path)
    (root / "corrupt.klr").unlink()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        r = klx("replay", str(root), "--cloud", cloud.url, "--speed", "100")
    assert r.returncode == 0, r.stderr
    assert "succeeded" in r.stdout and "unique transactions" in r.stdout


def test_unreachable_cloud_is_one_clear_line_and_exit_1(tmp_path):
    root = _tree(tmp_path)
    r = klx("replay", str(root), "--cloud", "http://127.0.0.1:9", "--attempts", "2")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    [line] = [ln for ln in r.stderr.splitlines() if "127.0.0.1:9" in ln]
    assert "unreachable" in line and "klx cloud serve" in line


def test_bad_options_exit_2(tmp_path):
    r = klx("replay", str(tmp_path), "--cloud", "ftp://x", "--rate", "10")
    assert r.returncode == 2 and "--cloud ftp://x" in r.stderr
    r = klx("replay", str(tmp_path), "--cloud", "http://127.0.0.1:9", "--rate", "0")
    assert r.returncode == 2 and "--rate" in r.stderr


def test_unprofiled_receipts_are_reported_but_fail_only_with_strict(tmp_path):
    root = _tree(tmp_path)
    (root / "corrupt.klr").unlink()
    shutil.copy(ROOT / "recordings" / "unknown" / "diner-01.klr", root)
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        lenient = klx("replay", str(root), "--cloud", cloud.url, "--rate", "100", "--json")
        strict = klx("replay", str(root), "--cloud", cloud.url, "--rate", "100", "--json", "--strict")
    assert lenient.returncode == 0, lenient.stderr
    assert json.loads(lenient.stdout)["unrecognised"]
    assert strict.returncode == 1 and "diner-01.klr" in strict.stderr


def test_ctrl_c_writes_the_partial_report_and_exits_130(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = _tree(tmp_path)
    (root / "corrupt.klr").unlink()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        cmd = [sys.executable, "-m", "kelaile_cli", "replay", str(root), "--cloud", cloud.url, "--rate", "20",
               "--loop", "--duration", "120", "--report", str(tmp_path / "r.json")]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while cloud.storage.stats()["transactions"] < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["interrupted"] and report["sent"] >= 5
    assert "Traceback" not in stderr


def test_play_writes_the_pos_side_to_a_file_and_reports_json(tmp_path):
    src = ROOT / "recordings" / "meiwei-pos" / "meiwei-pos-01.klr"
    out = tmp_path / "printer.bin"
    r = klx("play", str(src), "--to", str(out), "--json", "--reply-wait", "0")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["bytes_sent"] == out.stat().st_size > 0
    bad = klx("play", str(src), "--to", "listen://127.0.0.1:9100")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
