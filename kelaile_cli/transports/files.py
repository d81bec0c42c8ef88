"""Reading print streams from files."""

from __future__ import annotations

from pathlib import Path

from kelaile_cli.core.errors import InputError

__all__ = ["read_bytes"]


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
