"""What a ``printer`` setting names, and the printer links that need no printer to test."""

from __future__ import annotations

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.printer import FileLink, LineSettings, link_kind, printer_endpoint
from kelaile_cli.transports.pty import PtyLink


def test_each_kind_of_printer_is_recognised(tmp_path):
    pty = PtyLink()
    try:
        assert link_kind("tcp://10.0.0.9:9100") == "tcp"
        assert link_kind(pty.name) == "serial"  # a character device: a port, not a file
        assert link_kind("rfc2217://10.0.0.9:4000") == "serial"
        assert link_kind("usb://04b8:0202") == "usb"
        assert link_kind("/dev/usb/lp0") == "lp" and link_kind(f"chardev://{pty.name}") == "lp"
        assert link_kind(str(tmp_path / "paper.out")) == "file"  # not there yet, not under /dev: a file
        assert link_kind("") == "none" and link_kind("usb://x") == "bad"
    finally:
        pty.close()


@pytest.mark.parametrize(
    ("text", "needle"),
    [("listen://0.0.0.0:9100", "listen:// is a POS side"), ("usb://04b8", "expected usb://VID:PID"),
     ("chardev://", "expected chardev://PATH"), ("gopher://x", "unknown scheme")],
)  # fmt: skip
def test_bad_printers_are_one_line_errors(text, needle):
    with pytest.raises(InputError, match=needle):
        printer_endpoint(text)


def test_file_printer_appends_and_never_answers(tmp_path):
    path = tmp_path / "paper.bin"
    path.write_bytes(b"old")
    link = FileLink(str(path))
    link.write(b"\x1b@new")
    assert link.read(0.01) == b""
    link.close()
    assert path.read_bytes() == b"old\x1b@new"


def test_line_settings_are_checked():
    with pytest.raises(InputError, match="expected one of none, xonxoff, rtscts"):
        LineSettings(9600, "dtrdsr").check()
