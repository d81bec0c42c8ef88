"""The registry of emulated boxes running on this machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kelaile_cli.services.box.registry import register_box, running_boxes, unregister_box


def test_register_list_and_unregister(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLX_RUNTIME_DIR", str(tmp_path / "run"))
    path = register_box("KLBTEST1", "socket://127.0.0.1:7001", tmp_path)
    assert path is not None
    assert [(b["serial"], b["port"]) for b in running_boxes()] == [("KLBTEST1", "socket://127.0.0.1:7001")]
    unregister_box(path)
    assert running_boxes() == []


def test_an_entry_whose_process_is_gone_is_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLX_RUNTIME_DIR", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = tmp_path / "KLBGONE.json"
    stale.write_text(json.dumps({"serial": "KLBGONE", "port": "/dev/pts/99", "pid": int(dead.stdout)}))
    assert running_boxes() == []
    assert not stale.exists()
