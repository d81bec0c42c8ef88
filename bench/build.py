"""Which klx a benchmark measures: the installed build (compiled with mypyc by ``pip install .``) when there is
one, the repository's sources otherwise. Benchmarks put the repository *after* the installed packages on
``sys.path`` and print this, so a figure always says what it measured."""

from __future__ import annotations

import subprocess
import sys

#: run in the measured interpreter: where kelaile_cli comes from and whether the decode path is compiled
_PROBE = """
from importlib.machinery import EXTENSION_SUFFIXES
import kelaile_cli
from kelaile_cli.core.stream import layout
compiled = (layout.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
print(("compiled (mypyc)" if compiled else "pure Python") + " from " + kelaile_cli.__file__.rsplit("/", 1)[0])
"""


def describe(python: str = sys.executable, cwd: str = "/") -> str:
    """'compiled (mypyc) from /…/site-packages/kelaile_cli' or 'pure Python from /…/repo/kelaile_cli'."""
    run = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)
    return run.stdout.strip() or f"unknown ({run.stderr.strip()[-200:]})"
