"""The one serial opener: real ptys and sockets; every failure is a PortError with a stable code."""

from __future__ import annotations

import errno
import socket

import pytest

from kelaile_cli.core.errors import InputError, PortError
from kelaile_cli.transports.link import ByteLink
from kelaile_cli.transports.pty import PtyLink
from kelaile_cli.transports.serial import (
    PORT_BUSY,
    PORT_DENIED,
    PORT_FAILED,
    PORT_MISSING,
    PORT_UNREACHABLE,
    SerialLink,
    open_port,
    port_error,
)
from kelaile_cli.transports.sockets import SocketServerLink


@pytest.fixture
def pty():
    link = PtyLink()
    yield link
    link.close()


def test_a_serial_link_and_a_pty_carry_bytes_both_ways(pty):
    port = SerialLink.open(pty.name, baud=115200)
    try:
        assert isinstance(port, ByteLink) and isinstance(pty, ByteLink)
        port.write(b"\x00ping\x00")
        got = b""
        for _ in range(40):  # bounded: 40 reads of at most 0.05 s
            got += pty.read(0.05) or b""
            if len(got) >= 6:
                break
        assert got == b"\x00ping\x00"
        pty.write(b"pong")
        back = b""
        for _ in range(40):
            back += port.read(0.05) or b""
            if len(back) >= 4:
                break
        assert back == b"pong"
        port.baud = 9600
        assert port.baud == 9600
    finally:
        port.close()


def test_a_busy_port_and_a_missing_one(pty, tmp_path):
    first = open_port(pty.name, baud=9600)
    try:
        with pytest.raises(PortError, match="in use by another program") as busy:
            open_port(pty.name, baud=9600)
        assert busy.value.code == PORT_BUSY and busy.value.exit_code == 1 and busy.value.remedy
    finally:
        first.close()
    with pytest.raises(PortError, match="no such port") as missing:
        open_port(str(tmp_path / "ttyGONE"), baud=9600)
    assert missing.value.code == PORT_MISSING and missing.value.exit_code == 1 and "klx devices" in missing.value.remedy


def test_nothing_listening_behind_a_socket_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a port nobody listens on
    with pytest.raises(PortError, match="nothing is listening") as info:
        open_port(f"socket://127.0.0.1:{port}", baud=9600, timeout=0.5)
    assert info.value.code == PORT_UNREACHABLE


def test_settings_pyserial_rejects_are_input_errors(pty):
    with pytest.raises(InputError, match=pty.name):
        open_port(pty.name, baud=9600, parity="Q")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (OSError(errno.ENOENT, "No such file or directory"), PORT_MISSING),
        (OSError(errno.EBUSY, "Device or resource busy"), PORT_BUSY),
        (OSError(errno.EACCES, "Permission denied"), PORT_DENIED),
        (OSError(errno.EIO, "Input/output error"), PORT_FAILED),
    ],
)
def test_the_same_os_error_gives_the_same_code_and_message(exc, code):
    one, two = port_error("/dev/ttyUSB0", exc), port_error("/dev/ttyUSB0", exc)
    assert one.code == two.code == code and str(one) == str(two) and one.exit_code == 1


def test_a_port_name_with_a_telling_word_is_not_misread():
    err = port_error("/dev/serial/by-id/usb-busy-lock-0", OSError(errno.EIO, "Input/output error"))
    assert err.code == PORT_FAILED


def test_the_socket_server_link_serves_one_peer_and_reports_a_hang_up():
    server = SocketServerLink("socket://127.0.0.1:0")
    try:
        assert isinstance(server, ByteLink)
        port = int(server.name.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=2) as peer:
            peer.sendall(b"abc")
            got = b""
            for _ in range(40):
                got += server.read(0.05) or b""
                if got == b"abc":
                    break
            assert got == b"abc"
        hung = [server.read(0.05) for _ in range(20)]
        assert None in hung  # the peer closed: the link says so once
    finally:
        server.close()
