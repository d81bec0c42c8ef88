"""pyproject lists packages explicitly (the profiles ship as a package): none may be missing."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kelaile_cli").rglob("__init__.py")}
    assert found <= listed, found - listed
    assert "kelaile_cli.profiles" in listed


def test_installed_wheel_ships_the_bundled_profiles(tmp_path):
    import subprocess
    import sys
    import zipfile

    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    env = {**os.environ, "KLX_COMPILE": "0"}  # pure: fast (tests/test_compiled.py covers the compiled build)
    r = subprocess.run([*cmd, str(ROOT)], capture_output=True, text=True, check=False, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    [wheel] = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("kelaile_cli/profiles/")}
    assert shipped == {p.name for p in (ROOT / "profiles").glob("*.yaml")}
    assert "kelaile_cli/data/sample.klr" in names
    assert not [n for n in names if n.endswith(".so")], "KLX_COMPILE=0 must build pure Python"
