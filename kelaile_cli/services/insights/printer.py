"""Sending a composed job (the shift reconciliation) to the shop's printer through one endpoint syntax.

``tcp://HOST:PORT`` (a network printer, or a box's POS port), a serial port or pyserial URL, or a file
(``file://PATH`` or a name ending ``.bin``/``.prn``…), as ``transports.endpoints.parse_endpoint`` reads
them. The whole job is written, then the connection half-closed, as a print spooler does.
"""

from __future__ import annotations

import contextlib
import socket

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.transports.endpoints import parse_endpoint
from kelaile_cli.transports.serial import open_port

__all__ = ["send_to_printer"]

_DRAIN_S = 0.5  # after the half-close: read (and drop) status bytes a printer sends, this long at most


def send_to_printer(target: str, job: bytes, *, timeout: float = 10.0) -> int:
    """Write ``job`` to the printer at ``target``; returns the bytes written. ``InputError`` for an
    endpoint that cannot take a print job, ``JobError`` when the printer cannot be reached."""
    where = parse_endpoint(target)
    if where.kind == "tcp":
        try:
            sock = socket.create_connection((where.host, where.port), timeout=timeout)
        except OSError as exc:
            raise JobError(
                f"--print {target}: cannot connect ({exc.strerror or exc})",
                layer="network",
                remedy="is the printer switched on and listening there (usually port 9100)?",
            ) from None
        try:
            sock.sendall(job)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(_DRAIN_S)
                while sock.recv(4096):
                    pass
        except OSError as exc:
            raise JobError(f"--print {target}: the printer went away ({exc.strerror or exc})",
                           layer="network") from None  # fmt: skip
        finally:
            sock.close()
        return len(job)
    if where.kind == "serial":
        port = open_port(where.path, baud=9600, write_timeout=timeout)
        try:
            port.write(job)
            port.flush()
        except OSError as exc:
            raise JobError(f"--print {target}: cannot write ({exc})", layer="cable") from None
        finally:
            port.close()
        return len(job)
    if where.kind == "file":
        try:
            with open(where.path, "ab") as fh:
                fh.write(job)
        except OSError as exc:
            raise InputError(f"--print {target}: cannot write ({exc.strerror or exc})") from None
        return len(job)
    raise InputError(f"--print {target}: a print job goes to tcp://HOST:PORT, a serial port or a file",
                     remedy="e.g. --print tcp://192.168.1.50:9100 or --print /dev/ttyUSB0")  # fmt: skip
