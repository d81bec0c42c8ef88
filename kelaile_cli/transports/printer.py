"""The printer side as a ``ByteLink``, whatever cable the printer hangs on.

``open_printer`` turns a printer endpoint into one link the box's passthrough writes to and reads the
printer's answers from:

* ``tcp://HOST:PORT`` — one connection held open (through pyserial's ``socket://``);
* a serial port (a device path such as a pty, or any pyserial URL: ``rfc2217://``, ``socket://``, …) at
  ``line.baud`` with the flow control ``line.flow`` (``none``, ``xonxoff`` or ``rtscts``);
* ``usb://VID:PID`` — a USB printer-class device through pyusb (bulk OUT / bulk IN);
* ``/dev/usb/lpN`` (or ``chardev://PATH``) — the kernel's USB printer character device;
* a file — every byte appended; it never answers.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import time
from dataclasses import dataclass
from typing import Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.chardev import CharDeviceLink, is_chardev_path
from kelaile_cli.transports.endpoints import Endpoint, parse_endpoint
from kelaile_cli.transports.link import ByteLink
from kelaile_cli.transports.serial import SerialLink, open_port
from kelaile_cli.transports.usb import UsbPrinter

__all__ = [
    "FLOWS",
    "FileLink",
    "LineSettings",
    "is_port_path",
    "link_kind",
    "open_printer",
    "printer_endpoint",
    "printer_kind",
]

FLOWS = ("none", "xonxoff", "rtscts")


@dataclass(frozen=True, slots=True)
class LineSettings:
    """A serial printer's line: speed and flow control."""

    baud: int = 9600
    flow: str = "none"  # none | xonxoff | rtscts

    def check(self) -> None:
        if self.flow not in FLOWS:
            raise InputError(f"flow control {self.flow!r}: expected one of {', '.join(FLOWS)}")
        if self.baud <= 0:
            raise InputError(f"baud {self.baud}: expected a positive speed, e.g. 9600 or 115200")


def printer_endpoint(text: str) -> Endpoint:
    """What a ``printer`` setting names: URLs by their scheme; a path is a port when it is a character
    device (a tty, a pty, ``/dev/usb/lpN``) or looks like one (``/dev/…``, ``COMn``), else a file."""
    ep = parse_endpoint(text)
    if ep.kind == "listen":
        raise InputError(f"{text}: listen:// is a POS side; a printer is tcp://, a port, usb://VID:PID or a file")
    if ep.kind == "serial" and "://" not in text and not is_port_path(text):
        return Endpoint("file", text, path=text)
    return ep


def is_port_path(path: str) -> bool:
    """A character device (a tty, a pty, a USB printer), or a path that looks like a port (``/dev/…``, COMn)."""
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return path.startswith("/dev/") or path.upper().startswith("COM")


def link_kind(printer: str) -> str:
    """What STATE calls a ``printer`` setting's link: ``tcp``, ``serial``, ``usb``, ``lp``, ``file``, ``none``
    (or ``bad``: not a printer endpoint)."""
    if not printer:
        return "none"
    try:
        return printer_kind(printer_endpoint(printer))
    except InputError:
        return "bad"


def printer_kind(ep: Endpoint) -> str:
    """``tcp``, ``serial``, ``usb``, ``lp`` (a character device) or ``file``: what STATE calls the link."""
    if ep.kind == "serial" and (is_chardev_path(ep.path) or ep.path.startswith("chardev://")):
        return "lp"
    return ep.kind


class FileLink:
    """A file as the printer: appended to, flushed per write; it never answers."""

    def __init__(self, path: str) -> None:
        self.name = path
        try:
            self.file = open(path, "ab")  # noqa: SIM115  (closed by close())
        except OSError as exc:
            raise InputError(f"printer {path}: cannot write ({exc.strerror or exc})") from None

    def read(self, timeout: float = 0.05) -> bytes | None:
        time.sleep(timeout)
        return b""

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.file.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


def open_printer(ep: Endpoint, line: LineSettings | None = None, *, usb_backend: Any = None) -> ByteLink:
    """Open the printer ``ep`` names as a link; ``InputError``/``PortError`` when it cannot be."""
    line = line or LineSettings()
    line.check()
    kind = printer_kind(ep)
    if kind == "tcp":
        return SerialLink.open(f"socket://{ep.host}:{ep.port}", baud=line.baud)
    if kind == "usb":
        return UsbPrinter(ep.vid, ep.pid, backend=usb_backend)
    if kind == "lp":
        return CharDeviceLink(ep.path.removeprefix("chardev://"))
    if kind == "file":
        return FileLink(ep.path)
    if kind != "serial":
        raise InputError(f"{ep}: not a printer (expected tcp://, a serial port, usb://VID:PID, /dev/usb/lpN or a file)")
    port = open_port(ep.path, baud=line.baud, xonxoff=line.flow == "xonxoff", rtscts=line.flow == "rtscts")
    return PrinterPort(port, ep.text)


class PrinterPort(SerialLink):
    """A serial printer: ``write`` waits as long as the printer holds its bytes back (XOFF, CTS low) —
    never drops one — and sleeps meanwhile: pyserial's own write spins on a stopped tty (about one CPU core
    for as long as the printer is busy, measured with bench/bench_serial_printer.py)."""

    MAX_PAUSE_S = 0.01  # the longest sleep between tries: how late the box resumes after XON

    def write(self, data: bytes) -> None:
        fd = getattr(self.port, "fd", None)
        if not isinstance(fd, int):  # not a POSIX tty (rfc2217://, socket://): pyserial's write
            self.port.write(data)
            return
        view, pause = memoryview(data), 0.0005
        while view:
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                n = 0
            if n:
                view, pause = view[n:], 0.0005
                continue
            select.select([], [fd], [], self.MAX_PAUSE_S)  # returns at once on a stopped tty: hence the sleep
            time.sleep(pause)
            pause = min(pause * 2, self.MAX_PAUSE_S)
