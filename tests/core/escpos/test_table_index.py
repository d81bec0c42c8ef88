"""The decoder finds most commands by their first bytes (``Table.entry_at``); that must always agree
with the general prefix walk (``Table.lookup``), for both dialects' tables."""

from __future__ import annotations

import pytest

from kelaile_cli.core.escpos.commands import ESCPOS
from kelaile_cli.core.escpos.decoder import EscPosDecoder
from kelaile_cli.core.escpos.events import Command
from kelaile_cli.core.escpos.star import STAR
from kelaile_cli.core.escpos.table import Fixed, Table


@pytest.mark.parametrize("table", [ESCPOS, STAR], ids=["escpos", "star"])
def test_entries_agree_with_lookup_for_every_three_bytes_led_by_a_control_byte(table: Table):
    found = set()
    for first in range(0x20):
        for second in range(256):
            for third in range(256) if first << 8 | second in table.rows3 else [0]:
                data = bytes([first, second, third]) + b"\x00" * 8
                entry = table.entry_at(data, 0, len(data))
                spec, plen = table.lookup(data, 0, len(data))
                if entry is None:
                    assert spec is None or plen > 3, data[:3]  # unknown, or longer than three bytes
                    continue
                found.add(id(entry))
                assert (entry.spec, entry.plen) == (spec, plen), data[:3]
                rule = entry.spec.length
                if isinstance(rule, Fixed):
                    assert entry.size == plen + rule.n_args
                else:
                    assert entry.size == 0 and not entry.memoizable
                if entry.memoizable:
                    assert entry.size - entry.plen <= 1
    assert len(found) > (60 if table is ESCPOS else 40)


@pytest.mark.parametrize("table", [ESCPOS, STAR], ids=["escpos", "star"])
def test_entries_at_the_end_of_the_bytes_wait_or_agree(table: Table):
    for first in range(0x20):
        for second in range(256):
            for data in (bytes([first]), bytes([first, second])):
                entry = table.entry_at(data, 0, len(data))
                if entry is not None:
                    assert (entry.spec, entry.plen) == table.lookup(data, 0, len(data))


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
