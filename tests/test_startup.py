"""The import budget of a start: what ``klx --version``, ``--help`` and ``parse --json`` must NOT import.

Timing targets live in ``bench/bench_startup.py``; this test guards the cause of a slow start instead —
a heavy library imported by a command that does not need it (``python -X importtime`` lists every
module a run imported).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

#: never needed to parse a print job (python-escpos's capability database is: for ``ESC t``, when a job has it)
HEAVY = [
    "fastapi", "uvicorn", "starlette", "aiohttp", "httpx", "textual", "cryptography", "serial", "usb", "dpkt",
    "PIL", "barcode", "hdrh", "cbor2", "cobs", "yaml", "rich", "pydantic", "kelaile_cli.core.profiles.schema",
    "kelaile_cli.services.emulator", "kelaile_cli.services.replay", "kelaile_cli.services.cloud",
    "kelaile_cli.services.box", "kelaile_cli.services.demo", "kelaile_cli.core.box", "kelaile_cli.core.render.png",
    "kelaile_cli.core.render.html", "kelaile_cli.core.profiles.draft", "kelaile_cli.cli.commands.box",
    "kelaile_cli.cli.commands.cloud", "kelaile_cli.cli.commands.replay", "kelaile_cli.cli.commands.capture",
]  # fmt: skip
#: typer (and through it pydantic's per-parameter validators) is not needed by the plain click commands
TYPER = ["typer"]
#: not even the command-line library is needed to print the version or the command list
FRAMEWORK = ["typer", "click", "pydantic", "kelaile_cli.cli.commands", "kelaile_cli.core", "kelaile_cli.services"]


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module ``python -X importtime -m kelaile_cli ARGS`` imported (the run must succeed)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kelaile_cli", *args], capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "kelaile_cli" in names  # the listing is real
    return names


def loaded(names: set[str], package: str) -> list[str]:
    return sorted(n for n in names if n == package or n.startswith(package + "."))


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_command_and_no_framework(args):
    names = imported(*args)
    assert {p: loaded(names, p) for p in [*FRAMEWORK, *HEAVY] if loaded(names, p)} == {}


def test_parse_json_imports_nothing_it_does_not_need(tmp_path):
    job = tmp_path / "one.bin"
    job.write_bytes((ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin").read_bytes())
    env = {"KLX_CACHE_DIR": str(tmp_path / "cache")}
    cold = imported("parse", str(job), "--json", env=env)  # fills the profile cache (imports yaml to parse)
    assert "kelaile_cli.core.profiles.detect" in cold  # the run really parsed and detected
    warm = imported("parse", str(job), "--json", env=env)
    assert {p: loaded(warm, p) for p in [*HEAVY, *TYPER] if loaded(warm, p)} == {}
    assert {"yaml", "pydantic"} <= cold  # the check above can fail: only the cold run read files


#: a warm ``parse --json`` of receipts no profile knows needs neither the profile model nor extraction (built
#: only for a winner), the profile cache's pickle, OpenSSL's hashes (recordings, full profiles),
#: importlib.resources (the capability database is read as a plain file) nor the dataclass decorator (the
#: print stream's classes are written out: the decorator's run at import cost every start)
UNKNOWN_ONLY = [
    "kelaile_cli.core.profiles.profile", "kelaile_cli.core.profiles.extract", "pickle", "hashlib", "_hashlib",
    "importlib.resources", "dataclasses",
]  # fmt: skip


def test_parse_json_of_receipts_no_profile_knows_builds_no_profile_model(tmp_path):
    job = tmp_path / "unknown.bin"
    job.write_bytes(b"\x1b@\x1bt\x10hello\nworld\n\x1dV\x00")  # ESC t 16: the capability database is read
    env = {"KLX_CACHE_DIR": str(tmp_path / "cache")}
    imported("parse", str(job), "--json", env=env)  # fills the rules cache
    warm = imported("parse", str(job), "--json", env=env)
    assert "kelaile_cli.core.profiles.analysis" in warm and "escpos" in warm  # it detected, and read the database
    assert {p: loaded(warm, p) for p in UNKNOWN_ONLY if loaded(warm, p)} == {}
    known = tmp_path / "known.bin"
    known.write_bytes((ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin").read_bytes())
    imported("parse", str(known), "--json", env=env)  # fills the profile cache
    winner = imported("parse", str(known), "--json", env=env)
    assert "kelaile_cli.core.profiles.extract" in winner  # a winner's profile is built: the check above can fail
    assert "dataclasses" in winner  # (its extraction is dataclasses: the check above can fail)
    assert "hashlib" not in winner  # profile contents are keyed by BLAKE2b (built in), not OpenSSL's SHA-256


def test_plain_commands_run_without_typer_and_say_the_same_as_through_the_root(tmp_path):
    """``klx parse``/``show``/``printers`` skip typer; through typer's root (``--traceback``) they act the same."""
    job = tmp_path / "one.bin"
    job.write_bytes((ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin").read_bytes())
    env = {"KLX_CACHE_DIR": str(tmp_path / "cache")}
    for args in (["parse", str(job), "--json"], ["show", str(job), "-f", "text"], ["printers", "--json"]):
        names = imported(*args, env=env)
        assert loaded(names, "typer") == [], args
        direct = subprocess.run(
            [sys.executable, "-m", "kelaile_cli", *args], capture_output=True, text=True, cwd=ROOT,
            env={**os.environ, **env}, timeout=120, check=False,
        )  # fmt: skip
        rooted = subprocess.run(
            [sys.executable, "-m", "kelaile_cli", "--traceback", *args], capture_output=True, text=True, cwd=ROOT,
            env={**os.environ, **env}, timeout=120, check=False,
        )  # fmt: skip
        assert direct.returncode == rooted.returncode == 0, direct.stderr + rooted.stderr
        assert direct.stdout == rooted.stdout and direct.stdout.strip(), args


def test_a_plain_command_s_usage_errors_and_help_name_the_command(tmp_path):
    from tests.helpers import klx

    bad = klx("parse", "--no-such-option")
    assert bad.returncode == 2 and "klx parse" in bad.stderr and "--no-such-option" in bad.stderr
    missing = klx("parse", str(tmp_path / "nope.bin"), "--json")
    assert missing.returncode == 2 and "nope.bin" in missing.stderr and "Traceback" not in missing.stderr
    for flag in ("-h", "--help"):
        shown = klx("show", flag)
        assert shown.returncode == 0 and "Usage: klx show [OPTIONS] [FILES]..." in shown.stdout
        assert "FILES: Print job files" in shown.stdout and "--printer" not in shown.stdout


def test_a_plain_command_s_fast_exit_loses_no_output_and_keeps_its_code(tmp_path):
    """``klx parse`` ends with ``os._exit`` (no interpreter teardown): everything written still arrives."""
    sample = (ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin").read_bytes()
    files = []
    for i in range(40):
        files.append(tmp_path / f"job{i:02d}.bin")
        files[-1].write_bytes(sample)
    env = {**os.environ, "KLX_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-m", "kelaile_cli", "parse", *map(str, files), str(tmp_path / "missing.bin"), "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["source"] for r in records] == [str(f) for f in files]
    assert run.returncode == 2 and "missing.bin" in run.stderr  # the bad file's code survives the fast exit


def test_a_reader_that_goes_away_ends_a_plain_command_quietly(tmp_path):
    job = tmp_path / "one.bin"
    job.write_bytes((ROOT / "recordings" / "samples" / "en-us-grocery-58mm.bin").read_bytes())
    env = {**os.environ, "KLX_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", "parse", *[str(job)] * 200, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["index"] == 0
    proc.stdout.close()  # like ``| head -1``
    try:
        stderr = proc.stderr.read()
        proc.wait(timeout=60)  # exit 1, as before the fast exit: click's own answer to EPIPE
    finally:
        proc.kill()
        proc.stderr.close()
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
