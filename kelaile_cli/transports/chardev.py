"""A character device as a ``ByteLink``: the kernel's USB printer (``/dev/usb/lpN``) on the printer side,
the Linux USB printer gadget (``/dev/g_printerN``) on the POS side.

Both are plain read/write devices: what is written goes out (to the printer, or to the POS PC as the
printer's bulk IN answers), what is read came in. ``write`` waits while the device is not ready (a busy
printer holds the bytes back, none is dropped); ``read`` returns ``b""`` when nothing came in time. The
gadget also holds the port status the PC's driver reads (GET_PORT_STATUS: paper empty, selected, error),
set with an ioctl.
"""

from __future__ import annotations

import contextlib
import os
import select

from kelaile_cli.transports.link import DEFAULT_READ_TIMEOUT
from kelaile_cli.transports.serial import port_error

__all__ = ["CHARDEV_PREFIXES", "CharDeviceLink", "is_chardev_path"]

CHARDEV_PREFIXES = ("/dev/usb/lp", "/dev/g_printer")
READ_SIZE = 65536
WRITE_WAIT_S = 1.0  # one wait for the device to take more bytes; repeated while the device stays open
#: linux/usb/g_printer.h: _IOWR('g', 0x22, unsigned char), the port status byte passed by value
GADGET_SET_PRINTER_STATUS = (3 << 30) | (1 << 16) | (ord("g") << 8) | 0x22


def is_chardev_path(path: str) -> bool:
    """A path klx opens as a character device (kernel USB printer, USB printer gadget) and not as a tty."""
    return path.startswith(CHARDEV_PREFIXES)


class CharDeviceLink:
    """``name`` is the device path; ``PortError`` (missing, busy, denied) when it cannot be opened."""

    def __init__(self, path: str) -> None:
        self.name = path
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            raise port_error(path, exc) from None
        self._closed = False

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes | None:
        if self._closed:
            return None
        try:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return b""
            return os.read(self.fd, READ_SIZE)
        except BlockingIOError:
            return b""
        except (OSError, ValueError):  # EIO: the other end is not there (gadget unplugged, pty closed)
            return b""

    def write(self, data: bytes) -> None:
        """All of ``data``, waiting while the device is busy; ``OSError`` if it goes away."""
        view = memoryview(data)
        while view:
            if self._closed:
                raise OSError(f"{self.name}: closed")
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [], WRITE_WAIT_S)
                continue
            view = view[n:]

    def set_port_status(self, status: int) -> bool:
        """The port status the PC reads from a USB printer gadget (``core.escpos.status.usb_port_status``);
        False where the device has no such control (a kernel USB printer, a pty or FIFO standing in)."""
        if self._closed:
            return False
        import fcntl  # POSIX only, as the devices are

        try:
            fcntl.ioctl(self.fd, GADGET_SET_PRINTER_STATUS, status & 0xFF)
        except OSError:  # ENOTTY: not a printer gadget
            return False
        return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)
