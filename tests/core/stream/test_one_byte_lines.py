"""Text decoded one character per byte is laid out from its characters alone (``Layout._one_byte_lines``):
each line's offsets, text and columns are those of its bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.stream.cells import cells
from kelaile_cli.core.stream.layout import Layout, TextSetup
from kelaile_cli.core.stream.printstream import decode_events
from kelaile_cli.core.stream.receipt import Feed, Line

WORDS = [b"Item", b" ", b"   ", b"2.50", b"\xb1", b"\xc4\xc4", b"\xe9", b"#"]
LINE_BYTES = st.lists(st.sampled_from(WORDS), max_size=6)


@pytest.mark.parametrize(
    ("setup", "prefix"),
    [
        (TextSetup(codepage_codec="cp437"), b""),
        (TextSetup(), b"\x1bR\x03"),  # national characters (ESC R 3: Germany)
        (TextSetup(cjk_codec="cp932", cjk_default=True), b""),  # 0xB1, 0xC4: half-width katakana
    ],
)
@given(lines=st.lists(LINE_BYTES.map(b"".join), min_size=1, max_size=6), head=LINE_BYTES.map(b"".join))
@settings(max_examples=60, deadline=None)
def test_each_line_keeps_its_bytes_offsets(setup: TextSetup, prefix: bytes, lines: list[bytes], head: bytes) -> None:
    # a line begun by an earlier run (bold on in between), then lines and an open tail in one run
    run = b"\n".join(lines)
    data = b"\x1b@" + prefix + head + b"\x1bE\x01" + run
    events, _ = decode_events(data)
    layout = Layout(setup)
    receipt = layout.receipt(events)
    start = len(data) - len(run)
    expected: list[tuple[int, int]] = []
    for i, part in enumerate(lines[:-1]):  # the last: an open tail, ended by the job's end
        if i == 0 and head:
            pass  # ends the line begun before
        elif part:
            expected.append((start, start + len(part)))
        start += len(part) + 1
    lines_out = [el for el in receipt.elements if isinstance(el, Line)]
    plain = lines_out[1:] if head and len(lines) > 1 else lines_out
    if lines[-1] or (head and len(lines) == 1):
        plain = plain[:-1]
    assert [(line.start, line.end) for line in plain] == expected
    for line in lines_out:
        assert line.cols == sum(cells(s.text) * s.style.width for s in line.spans) - (
            len(line.text) - len(line.text.rstrip())
        )
    assert not any(isinstance(el, Feed) and el.lines != int(el.lines) for el in receipt.elements)
