"""Files: reading print streams, private files for personal data, and writes that survive a power loss."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from kelaile_cli.core.errors import InputError

__all__ = ["append_durable", "create_private", "read_blocks", "read_bytes", "write_atomic"]

BLOCK = 1024 * 1024


def _read_error(p: Path, exc: OSError) -> InputError:
    """One mapping of the OS's reasons a file cannot be read to a one-line input error."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{p}: no such file", remedy="check the path")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{p}: is a directory, expected a print job or recording file")
    if isinstance(exc, PermissionError):
        return InputError(f"{p}: permission denied")
    return InputError(f"{p}: cannot read ({exc.strerror or exc})")


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a file, or an ``InputError`` naming the file and why it cannot be read."""
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise _read_error(p, exc) from None


def read_blocks(path: str | Path, size: int = BLOCK) -> Iterator[bytes]:
    """A file's bytes in blocks of at most ``size`` (memory stays one block whatever the file's size)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            while block := fh.read(size):
                yield block
    except OSError as exc:
        raise _read_error(p, exc) from None


def create_private(path: str | Path, *, append: bool = True) -> int:
    """Create (or truncate) ``path`` for writing, readable by its owner only (0600), and return the
    descriptor. A symbolic link at ``path`` is refused rather than followed, and a file that
    already existed with wider permissions is narrowed to 0600 before anything is written."""
    p = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | (os.O_APPEND if append else 0)
    try:
        fd = os.open(p, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                f"{p}: is a symbolic link; refusing to write through it", remedy="give a plain file path"
            ) from None
        raise InputError(f"{p}: cannot create ({exc.strerror or exc})") from None
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise InputError(f"{p}: cannot make the file private (chmod 600 failed)") from None
    return fd


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` so that a power loss leaves either the old or the new file:
    write a temporary file, fsync it, rename it over ``path``, fsync the directory. ``private``: the
    file is created 0600 and a symbolic link at the temporary name is refused (for secrets)."""
    tmp = path.with_name(path.name + ".tmp")
    if private:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # a link planted at the temporary name is removed, never written through
    with os.fdopen(create_private(tmp, append=False), "wb") if private else open(tmp, "wb") as f:
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
