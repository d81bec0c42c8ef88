"""``klx cloud serve`` under a supervisor: once it says it is ready, a SIGTERM is always a clean stop.

The ready line is printed from uvicorn's start-up, after its signal handlers are in place, so a
supervisor that waits for the line and then stops the server at once gets exit 0 and a database
closed cleanly (its write-ahead log checkpointed and removed), every time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT


def _serve_then_stop_at_once(db: Path, workers: int) -> tuple[int, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--port", "0", "--db", str(db),
         "--workers", str(workers)],
        stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    said = ""
    try:
        for _ in range(10):  # bounded: the ready line comes first (a warning at most before it)
            line = proc.stderr.readline()
            said += line
            if "sandbox cloud on" in line or not line:
                break
        assert "sandbox cloud on" in said, said
        proc.send_signal(signal.SIGTERM)  # the instant it is ready, as a supervisor would
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return proc.returncode, said + rest


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sigterm_right_after_the_ready_line_is_a_clean_stop(tmp_path: Path, workers: int) -> None:
    for attempt in range(4):
        db = tmp_path / f"cloud-{attempt}.sqlite"
        code, stderr = _serve_then_stop_at_once(db, workers)
        assert code == 0, stderr
        assert "sandbox cloud stopped" in stderr and "Traceback" not in stderr
        if workers == 1:  # the server's own connection was closed: the log is checkpointed away
            assert not Path(f"{db}-wal").exists(), f"attempt {attempt}: the database was not closed"
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
