"""Serial ports: the one opener of klx, and the one mapping of pyserial/OS errors to ``PortError``.

Every command that opens a serial port (the box client, flash, sniff/record) goes through
``open_port``: the same failure always gives the same message, code and exit code.

| code | when | |
| --- | --- | --- |
| ``PORT_MISSING`` | the device path does not exist (unplugged, renamed after a reset) | |
| ``PORT_BUSY`` | another program holds the port (klx opens ports exclusively) | |
| ``PORT_DENIED`` | the OS refuses access (permissions, the dialout group) | |
| ``PORT_UNREACHABLE`` | a ``socket://`` URL with nothing listening there | |
| ``PORT_FAILED`` | anything else the driver reports | |
"""

from __future__ import annotations

import errno
from typing import Any

from kelaile_cli.core.errors import InputError, PortError
from kelaile_cli.transports.link import DEFAULT_READ_TIMEOUT

__all__ = ["PORT_BUSY", "PORT_DENIED", "PORT_FAILED", "PORT_MISSING", "PORT_UNREACHABLE", "SerialLink", "open_port"]

PORT_MISSING = "PORT_MISSING"
PORT_BUSY = "PORT_BUSY"
PORT_DENIED = "PORT_DENIED"
PORT_UNREACHABLE = "PORT_UNREACHABLE"
PORT_FAILED = "PORT_FAILED"

_BUSY_ERRNOS = (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK)
_DENIED_ERRNOS = (errno.EACCES, errno.EPERM)


def port_error(url: str, exc: BaseException) -> PortError:
    """The ``PortError`` for a failure to open ``url`` (an ``OSError``/``SerialException``)."""
    number = getattr(exc, "errno", None)
    low = str(exc).replace(url, "").lower()  # the port name itself may contain any word
    if number == errno.ENOENT or "no such file" in low or "errno 2]" in low:
        return PortError(
            f"{url}: no such port", code=PORT_MISSING,
            remedy="list ports with `klx devices`; after a reset a port may be renamed",
        )  # fmt: skip
    if number in _BUSY_ERRNOS or "busy" in low or "lock" in low or "resource temporarily unavailable" in low:
        return PortError(
            f"{url}: the port is in use by another program", code=PORT_BUSY,
            remedy="close the other program (klx opens ports exclusively)",
        )  # fmt: skip
    if number in _DENIED_ERRNOS or "permission denied" in low:
        return PortError(
            f"{url}: permission denied", code=PORT_DENIED,
            remedy="add your user to the port's group (Debian: `sudo adduser $USER dialout`, then log in again)",
        )  # fmt: skip
    if "refused" in low or "timed out" in low:
        return PortError(
            f"{url}: nothing is listening there", code=PORT_UNREACHABLE, layer="network",
            remedy="start the box (or `klx box sim --listen ...`) and check the address",
        )  # fmt: skip
    return PortError(f"{url}: cannot open the port ({exc})", code=PORT_FAILED, remedy="check `klx devices`")


def open_port(url: str, *, baud: int, timeout: float = DEFAULT_READ_TIMEOUT, **settings: Any) -> Any:
    """Open ``url`` (a device path or pyserial URL) exclusively -> the pyserial port.

    ``settings`` are pyserial's (parity, rtscts, xonxoff, dsrdtr, write_timeout). ``PortError`` when
    the port cannot be opened; ``InputError`` for settings pyserial rejects."""
    import serial  # pyserial

    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout, exclusive=True, **settings)
    except ValueError as exc:
        raise InputError(f"{url}: {exc}", remedy="check the port's settings (baud, parity)") from None
    except (serial.SerialException, OSError) as exc:
        raise port_error(url, exc) from None


class SerialLink:
    """A ``ByteLink`` over a pyserial port; ``baud`` can change while it is open."""

    def __init__(self, port: Any, name: str) -> None:
        self.port = port
        self.name = name

    @classmethod
    def open(cls, url: str, *, baud: int, **settings: Any) -> SerialLink:
        """``open_port`` wrapped as a link."""
        return cls(open_port(url, baud=baud, **settings), url)

    @property
    def baud(self) -> int:
        return int(self.port.baudrate)

    @baud.setter
    def baud(self, value: int) -> None:
        self.port.baudrate = value

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes | None:
        if self.port.timeout != timeout:
            self.port.timeout = timeout
        return bytes(self.port.read(self.port.in_waiting or 1))

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def discard_input(self) -> None:
        """Forget what the port received before now (stale bytes)."""
        self.port.reset_input_buffer()

    def close(self) -> None:
        self.port.close()
