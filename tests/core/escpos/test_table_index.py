"""The decoder finds most commands by their first two bytes (``Table.index``); that must always agree
with the general prefix walk (``Table.lookup``), for both dialects' tables."""

from __future__ import annotations

import pytest

from kelaile_cli.core.escpos.commands import ESCPOS
from kelaile_cli.core.escpos.decoder import EscPosDecoder
from kelaile_cli.core.escpos.events import Command
from kelaile_cli.core.escpos.star import STAR
from kelaile_cli.core.escpos.table import Fixed, Table


@pytest.mark.parametrize("table", [ESCPOS, STAR], ids=["escpos", "star"])
def test_index_agrees_with_lookup_for_every_two_control_led_bytes(table: Table):
    found = 0
    for first in range(0x20):
        for second in range(256):
            entry = table.index[first << 8 | second]
            if entry is None:
                continue
            found += 1
            spec, plen = table.lookup(bytes([first, second]) + b"\x00" * 8, 0, 10)
            assert (entry.spec, entry.plen) == (spec, plen), bytes([first, second])
            rule = spec.length
            if isinstance(rule, Fixed):
                assert entry.size == plen + rule.n_args
            else:
                assert entry.size == 0 and entry.memo is None
            if entry.memo is not None:
                assert entry.size - entry.plen <= 1
    assert found > 50


def test_a_long_command_fed_in_small_pieces_decodes_once_whole():
    width, height = 64, 200  # GS v 0: 8 bytes a row, 1,600 bytes of bitmap
    bitmap = bytes(range(256)) * 6 + bytes(range(64))
    data = b"\x1dv0\x00" + bytes([width // 8, 0, height, 0]) + bitmap + b"after\n"
    decoder = EscPosDecoder()
    events = []
    for at in range(0, len(data), 7):
        events += decoder.feed(data[at : at + 7])
    events += decoder.close()
    image = events[0]
    assert isinstance(image, Command) and image.op == "image" and image.offset == 0
    assert image.params["bitmap"] == bitmap and image.params["height"] == height
    assert b"".join(e.raw for e in events) == data
