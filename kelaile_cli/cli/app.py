"""The ``klx`` command line: thin commands over the library (see ARCHITECTURE.md).

Each command module registers its commands on the shared ``app`` when imported.
"""

from __future__ import annotations

import sys

from kelaile_cli.cli.base import app, err, flags
from kelaile_cli.cli.commands import (  # noqa: F401  (each module registers its commands)
    box,
    capture,
    cloud,
    decode,
    demo,
    firmware,
    imports,
    profile,
    provision,
    redact,
    replay,
)
from kelaile_cli.cli.errors import run_guarded
from kelaile_cli.runtime import tune_gc

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    tune_gc()
    sys.exit(run_guarded(app, err, lambda: flags["traceback"]))
