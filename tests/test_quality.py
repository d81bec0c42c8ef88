"""Project hygiene as tests: ruff clean and the architecture's layer contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_clean():
    r = run(sys.executable, "-m", "ruff", "check", "kelaile_cli", "tests", "tools", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_layer_contracts():
    script = Path(sys.executable).with_name("lint-imports")
    r = run(str(script) if script.exists() else shutil.which("lint-imports") or "lint-imports")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean():
    r = run(sys.executable, "-m", "mypy")
    assert r.returncode == 0, r.stdout + r.stderr
