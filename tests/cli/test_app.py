"""The klx command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "recordings" / "samples"


def klx(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "kelaile_cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_help_lists_commands_and_exit_codes():
    r = klx("--help")
    assert r.returncode == 0
    for word in ("show", "parse", "Exit codes"):
        assert word in r.stdout


@pytest.mark.parametrize("cmd", ["show", "parse", "printers"])
def test_every_command_has_help(cmd):
    r = klx(cmd, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout


def test_version():
    from kelaile_cli import __version__

    r = klx("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"klx {__version__}"


def test_show_bundled_sample_without_arguments():
    r = klx("show", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    assert "receipt 1" in r.stdout
    assert "\x1b[" not in r.stdout  # NO_COLOR: no escape sequences


def test_show_text_format_of_a_file(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@\x1ba\x01Hello shop\n\x1ba\x00Tea  2.00\n\x1dV\x00")
    r = klx("show", str(job), "--format", "text", "--width", "32")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Hello shop".center(32).rstrip() or lines[0].strip() == "Hello shop"
    assert "Tea  2.00" in lines


def test_parse_json_lines(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@A\n\x1d(k\x06\x001P0abc\x1d(k\x03\x001Q0\x1dV\x00\x1b@B\n\x1b\x99\n\x1dV\x01")
    r = klx("parse", str(job), "--json")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["index"] for o in objs] == [0, 1]
    for key in ("source", "index", "text", "encoding", "width", "codes", "warnings"):
        assert key in objs[0]
    assert objs[0]["codes"][0]["data"] == "abc"
    assert objs[1]["warnings"][0]["offset"] == 30
    assert objs[0]["source"] == str(job)


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    r = klx("parse", str(tmp_path / "nope.bin"), "--json")
    assert r.returncode == 2
    assert "nope.bin" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unreadable_file_does_not_stop_the_others(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"hello\n")
    r = klx("parse", str(tmp_path / "missing.bin"), str(good), "--json")
    assert r.returncode == 2
    assert json.loads(r.stdout.splitlines()[0])["text"].strip() == "hello"


def test_bad_option_value_is_exit_2():
    r = klx("show", "--encoding", "klingon")
    assert r.returncode == 2 and "klingon" in r.stderr and "Traceback" not in r.stderr
    assert klx("show", "--no-such-option").returncode == 2


def test_garbage_is_data_exit_0(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    r = klx("parse", str(junk), "--json")
    assert r.returncode == 0, r.stderr
    assert any(json.loads(x)["warnings"] for x in r.stdout.splitlines())


def test_dump_names_commands(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@\x1b!\x08Bold\n\x1dV\x00")
    r = klx("show", str(job), "--dump", "--format", "text")
    assert r.returncode == 0, r.stderr
    assert "ESC @" in r.stdout and "ESC !" in r.stdout and "GS V" in r.stdout


def test_html_and_png_outputs(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(b"\x1b@Hi\n\x1dV\x00\x1b@Again\n\x1dV\x00")
    html = tmp_path / "r.html"
    assert klx("show", str(job), "-f", "html", "-o", str(html)).returncode == 0
    assert "Again" in html.read_text()
    r = klx("show", str(job), "-f", "png", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    pngs = sorted(tmp_path.glob("job-*.png"))
    assert len(pngs) == 2 and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not SAMPLES.exists(), reason="samples not generated")
def test_every_bundled_sample_parses():
    files = sorted(str(p) for p in SAMPLES.glob("*.bin"))
    assert files
    r = klx("parse", *files, "--json")
    assert r.returncode == 0, r.stderr
    sources = {json.loads(x)["source"] for x in r.stdout.splitlines()}
    assert sources == set(files)
