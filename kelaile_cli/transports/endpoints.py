"""One syntax for every place bytes come from or go to.

* ``listen://HOST:PORT`` — be the network printer the POS prints to (port 9100, one job per connection)
* ``tcp://HOST:PORT`` — a network printer to forward to
* ``usb://VID:PID`` — a USB printer-class device
* ``chardev://PATH`` — a character device (``/dev/usb/lpN``, ``/dev/g_printerN``; those two are recognised
  by their path alone)
* a file: ``.klr``/``.klr.gz`` recording, raw ``.bin``/``.prn`` job, ``.pcap``/``.pcapng`` capture
* anything else is a serial port: a device path (``/dev/ttyUSB0``, ``COM3``, a pty) or any pyserial
  URL (``socket://``, ``rfc2217://``, ``loop://``)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kelaile_cli.core.errors import InputError

__all__ = ["Endpoint", "parse_endpoint"]

_HOSTPORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:/]*)):(?P<port>\d{1,5})$")
FILE_SUFFIXES = (".klr", ".klr.gz", ".bin", ".prn", ".pcap", ".pcapng")
SERIAL_SCHEMES = ("socket", "rfc2217", "loop", "spy", "alt", "hwgrep", "cp2110")


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: str  # 'listen' | 'tcp' | 'usb' | 'file' | 'serial'
    text: str  # as the user wrote it
    host: str = ""
    port: int = 0
    vid: int = 0
    pid: int = 0
    path: str = ""  # file path, serial device or pyserial URL

    def __str__(self) -> str:
        return self.text


def _hostport(text: str, rest: str, default_host: str) -> tuple[str, int]:
    m = _HOSTPORT.match(rest)
    if not m:
        raise InputError(f"{text}: expected HOST:PORT", remedy="e.g. listen://0.0.0.0:9100 or tcp://192.168.1.50:9100")
    port = int(m.group("port"))
    if port > 65535:
        raise InputError(f"{text}: port {port} is out of range (0-65535)")
    return (m.group("v6") or m.group("host") or default_host), port


def parse_endpoint(text: str) -> Endpoint:
    """Parse an endpoint; ``InputError`` with an example when it cannot be one."""
    if not text:
        raise InputError("empty endpoint", remedy="give a port, a listen:// or tcp:// address, or a file")
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme == "listen":
        host, port = _hostport(text, rest, "0.0.0.0")
        return Endpoint("listen", text, host=host, port=port)
    if scheme == "tcp":
        host, port = _hostport(text, rest, "")
        if not host:
            raise InputError(f"{text}: a printer address needs a host")
        return Endpoint("tcp", text, host=host, port=port)
    if scheme == "usb":
        m = re.match(r"^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$", rest)
        if not m:
            raise InputError(f"{text}: expected usb://VID:PID in hex", remedy="e.g. usb://04b8:0202")
        return Endpoint("usb", text, vid=int(m.group(1), 16), pid=int(m.group(2), 16))
    if scheme in SERIAL_SCHEMES:
        return Endpoint("serial", text, path=text)
    if scheme == "file":
        return Endpoint("file", text, path=rest)
    if scheme == "chardev":  # a character device opened as one (USB printer, printer gadget), never as a tty
        if not rest:
            raise InputError(f"{text}: expected chardev://PATH", remedy="e.g. chardev:///dev/usb/lp0")
        return Endpoint("serial", text, path=text)
    if sep:
        raise InputError(
            f"{text}: unknown scheme {scheme}://", remedy="use listen://, tcp://, usb://, a port or a file"
        )
    if text.lower().endswith(FILE_SUFFIXES):
        return Endpoint("file", text, path=text)
    return Endpoint("serial", text, path=text)
