"""pyproject lists packages explicitly (the profiles ship as a package): none may be missing."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kelaile_cli").rglob("__init__.py")}
    assert found <= listed, found - listed
    assert "kelaile_cli.profiles" in listed
