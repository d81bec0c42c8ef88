"""``ByteLink``: the one shape of every byte link klx reads and writes (serial, pty, socket, USB).

A link moves raw bytes and decides nothing about them. ``read`` waits at most ``timeout`` seconds
and returns what arrived: ``b""`` when nothing came in time, ``None`` when the other end hung up
(a TCP peer closed; links that cannot tell never return ``None``). ``write`` sends everything or
raises ``OSError``; ``close`` is idempotent. ``name`` is what a user would type to open it again.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_READ_TIMEOUT", "ByteLink"]

DEFAULT_READ_TIMEOUT = 0.05  # seconds a read waits when the caller does not say


@runtime_checkable
class ByteLink(Protocol):
    """Raw bytes to and from one peer."""

    name: str

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes | None:
        """What arrived within ``timeout``: ``b""`` nothing, ``None`` the peer hung up."""
        ...

    def write(self, data: bytes) -> None:
        """Send all of ``data``."""
        ...

    def close(self) -> None:
        """Release the link (again: no effect)."""
        ...
