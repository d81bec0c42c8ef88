"""Files: reading print streams, and writes that survive a power loss (the box emulator's state)."""

from __future__ import annotations

import os
from pathlib import Path

from kelaile_cli.core.errors import InputError

__all__ = ["append_durable", "read_bytes", "write_atomic"]


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a file, or an ``InputError`` naming the file and why it cannot be read."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file", remedy="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a print job or recording file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a power loss leaves either the old or the new file:
    write a temporary file, fsync it, rename it over ``path``, fsync the directory."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_durable(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` and fsync before returning."""
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
