"""A new pseudo-terminal as a ``ByteLink``: klx holds the master end, a program opens ``name`` (the slave).

To the program at the other end it is a serial port (raw mode, no echo): what the emulator offers
as the box's USB-serial port, and the POS's port when the POS side is serial.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
import tty

from kelaile_cli.transports.link import DEFAULT_READ_TIMEOUT

__all__ = ["PtyLink"]

WRITE_GRACE = 0.2  # seconds a write waits for a reader to drain the port before the rest is lost


class PtyLink:
    """The master end of a new pty; ``name`` is the slave's path (``/dev/pts/N``)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.name = os.ttyname(self.slave)
        os.set_blocking(self.master, False)

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes | None:
        """What the program wrote; ``b""`` on timeout (a pty cannot tell that a program hung up)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 65536)
        except BlockingIOError:
            return b""
        except OSError:  # EIO: no process has the port open right now
            time.sleep(timeout)
            return b""

    def write(self, data: bytes) -> None:
        """Like a UART, never blocks for long: if nobody drains the port, bytes are lost (after 0.2 s)."""
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                if not select.select([], [self.master], [], WRITE_GRACE)[1]:
                    return  # the program is not reading: what does not fit is lost
                continue
            except OSError:
                return  # nobody listening: bytes on a dead line are lost
            view = view[n:]

    def drop_host(self) -> None:
        """Nothing to drop: the port stays (a USB re-enumeration would rename it; the emulator keeps it)."""

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
