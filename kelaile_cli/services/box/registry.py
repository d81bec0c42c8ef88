"""Emulated boxes running on this machine: each ``klx box sim`` leaves a small file while it runs, so
``klx devices`` and ``klx provision`` find it as they find a USB box.

Files live in ``$KLX_RUNTIME_DIR`` (else ``$XDG_RUNTIME_DIR/klx/boxes``, else ``/tmp/klx-<uid>/boxes``),
one ``<serial>.json`` per box: serial, port, pid, state directory, start time. An entry whose process
is gone (a crash, SIGKILL) is pruned when the list is read.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from kelaile_cli.transports.files import write_atomic

__all__ = ["register_box", "registry_dir", "running_boxes", "unregister_box"]


def registry_dir() -> Path:
    if os.environ.get("KLX_RUNTIME_DIR"):
        return Path(os.environ["KLX_RUNTIME_DIR"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "klx" / "boxes"
    return Path(tempfile.gettempdir()) / f"klx-{os.getuid()}" / "boxes"


def register_box(serial: str, port: str, state: Path) -> Path | None:
    """Announce a running emulated box; the file's path (None if the directory cannot be written)."""
    folder = registry_dir()
    entry = {
        "serial": serial,
        "port": port,
        "pid": os.getpid(),
        "state": str(state.resolve()),
        "started": round(time.time(), 3),
        "kind": "emulated",
    }
    path = folder / f"{serial}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, json.dumps(entry).encode())
    except OSError:
        return None  # discovery is a convenience: the box runs without it
    return path


def unregister_box(path: Path) -> None:
    with contextlib.suppress(OSError):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("pid") == os.getpid():  # a newer run of the same box may have taken the name
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_boxes() -> list[dict[str, Any]]:
    """The emulated boxes running now (stale entries removed), by serial number."""
    folder = registry_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("pid"), int) or not _alive(doc["pid"]):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        found.append(doc)
    return found
