"""Endpoint syntax: one way to name every source and destination."""

from __future__ import annotations

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.endpoints import parse_endpoint


@pytest.mark.parametrize(
    ("text", "kind", "attrs"),
    [
        ("listen://0.0.0.0:9100", "listen", {"host": "0.0.0.0", "port": 9100}),
        ("listen://:9100", "listen", {"host": "0.0.0.0", "port": 9100}),
        ("listen://[::1]:9100", "listen", {"host": "::1", "port": 9100}),
        ("tcp://192.0.2.7:9100", "tcp", {"host": "192.0.2.7", "port": 9100}),
        ("usb://04b8:0202", "usb", {"vid": 0x04B8, "pid": 0x0202}),
        ("/dev/ttyUSB0", "serial", {"path": "/dev/ttyUSB0"}),
        ("COM3", "serial", {"path": "COM3"}),
        ("socket://127.0.0.1:7001", "serial", {"path": "socket://127.0.0.1:7001"}),
        ("rfc2217://box:4000", "serial", {"path": "rfc2217://box:4000"}),
        ("shop.klr", "file", {"path": "shop.klr"}),
        ("cap.pcapng", "file", {"path": "cap.pcapng"}),
    ],
)
def test_parse(text, kind, attrs):
    ep = parse_endpoint(text)
    assert ep.kind == kind
    for key, value in attrs.items():
        assert getattr(ep, key) == value


@pytest.mark.parametrize("text", ["listen://nohost", "tcp://:9100", "tcp://h:99999", "usb://zz:1", "ftp://x", ""])
def test_bad_endpoints_say_what_to_write(text):
    with pytest.raises(InputError) as info:
        parse_endpoint(text)
    assert text in str(info.value) or not text
