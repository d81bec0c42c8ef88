"""Packages are discovered (setup.py); the bundled profiles ship as a package of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out)]
    env = {**os.environ, "KLX_COMPILE": "0"}  # pure: fast (tests/test_compiled.py covers the compiled build)
    r = subprocess.run([*cmd, str(ROOT)], capture_output=True, text=True, check=False, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    [wheel] = out.glob("*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_every_module_ships(wheel_names):
    """Every module of the source tree is in the wheel (discovery would miss a folder without __init__.py)."""
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kelaile_cli").rglob("*.py")}
    assert sources <= wheel_names, sorted(sources - wheel_names)
    folders = {p.parent for p in (ROOT / "kelaile_cli").rglob("*.py")}
    assert [str(f) for f in folders if not (f / "__init__.py").exists()] == []


def test_installed_wheel_ships_the_bundled_profiles(wheel_names):
    shipped = {n.rsplit("/", 1)[1] for n in wheel_names if n.startswith("kelaile_cli/profiles/")}
    assert shipped == {p.name for p in (ROOT / "profiles").glob("*.yaml")}
    assert "kelaile_cli/data/sample.klr" in wheel_names
    assert not [n for n in wheel_names if n.endswith(".so")], "KLX_COMPILE=0 must build pure Python"
    assert not [n for n in wheel_names if n.startswith("tests/")], "test doubles stay out of the wheel"
