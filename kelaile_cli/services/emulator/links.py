"""The emulated box's links: the host side (a pty or a ``socket://`` server, both ``ByteLink``s from
transports) and the POS side as a serial port (``PosPty``)."""

from __future__ import annotations

from typing import Protocol

from kelaile_cli.transports.link import ByteLink
from kelaile_cli.transports.pty import PtyLink
from kelaile_cli.transports.sockets import SocketServerLink

__all__ = ["HostSideLink", "PosPty", "open_host_link"]


class HostSideLink(ByteLink, Protocol):
    """The box's end of the host link: a ``ByteLink`` that can also drop the host (a reboot)."""

    def drop_host(self) -> None:
        """A reboot: the host's connection goes away (USB re-enumeration)."""
        ...


def open_host_link(listen: str | None) -> HostSideLink:
    """A ``socket://`` server when ``listen`` is given, else a new pty."""
    return SocketServerLink(listen) if listen else PtyLink()


class PosPty:
    """The POS side as a serial port: the POS prints to ``name`` (a pty), the box reads the other end.

    A ``ByteLink``, so the capture service's passthrough runs on it. ``close`` leaves the port in
    place (a reboot of the box does not unplug the POS's cable); ``release`` removes it."""

    def __init__(self) -> None:
        self._pty = PtyLink()
        self.name = self._pty.name

    def read(self, timeout: float = 0.05) -> bytes:
        return self._pty.read(timeout) or b""

    def write(self, data: bytes) -> None:
        self._pty.write(data)

    def close(self) -> None:
        """The passthrough is done with the port (the box reboots): the port itself stays."""

    def release(self) -> None:
        self._pty.close()
