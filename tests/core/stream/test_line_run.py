"""Runs of plain lines are kept as one ``LineRun`` (no object per line): what reads the run as it is
(``render_text``, ``line_texts``, width inference) says what the expanded ``Line``/``Feed`` elements say,
and the expansion points back into the stream."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.layout import Layout, TextSetup, infer_width
from kelaile_cli.core.stream.printstream import decode_events
from kelaile_cli.core.stream.receipt import Feed, Line, LineRun, Receipt, joined_line_texts, line_texts

WORDS = ["Item", " ", "   ", "2.50", "合计", "麻婆豆腐", "é", "\u3000", "#" * 30]
LINE = st.lists(st.sampled_from(WORDS), max_size=5).map("".join)
# lines with runs of empty ones (more than the renderer's 10 blank rows included)
LINES = st.lists(st.one_of(LINE, st.integers(1, 13).map(lambda n: "\n" * (n - 1))), min_size=1, max_size=12)
ALIGN = st.sampled_from([b"", b"\x1ba\x01", b"\x1ba\x02"])  # left, centre, right
SIZE = st.sampled_from([b"", b"\x1d!\x10", b"\x1d!\x11"])  # normal, double width, double both


def _receipt(data: bytes) -> Receipt:
    events, _ = decode_events(data)
    return Layout(TextSetup(cjk_codec="gb18030", cjk_default=True)).receipt(events)


@given(lines=LINES, align=ALIGN, size=SIZE, cut=st.booleans(), feeds=st.integers(0, 3))
@settings(max_examples=150, deadline=None)
def test_a_run_reads_as_its_expanded_lines(lines: list[str], align: bytes, size: bytes, cut: bool, feeds: int) -> None:
    body = "\n".join(lines).encode("gb18030") + b"\n"
    data = b"\x1b@" + align + size + b"\n" * feeds + body + b"\n" * feeds + (b"\x1dV\x00" if cut else b"")
    compact = _receipt(data)
    assert any(isinstance(block, LineRun) for block in compact.blocks) == any(line.strip("\n") for line in lines)
    fast_text, fast_texts, width = render_text(compact), line_texts(compact), compact.width
    assert joined_line_texts(compact) == "\n".join(fast_texts)  # detection's text, from the runs' own
    for run in compact.blocks:
        if isinstance(run, LineRun):
            assert run.joined == "\n".join(run.texts)
            assert run.stripped or run.printed == run.texts

    elements = compact.elements  # expanded now, and kept
    assert not any(isinstance(block, LineRun) for block in compact.blocks)
    expanded = Receipt(0, list(elements), compact.start, compact.end, compact.encoding, compact.width, cut=compact.cut)
    assert render_text(expanded) == fast_text
    assert [line.text for line in expanded.lines] == fast_texts
    assert infer_width(list(elements)) == width

    for prev, el in itertools.pairwise(elements):  # feeds next to each other are one feed
        assert not (isinstance(prev, Feed) and isinstance(el, Feed) and prev.end == el.start)
    for el in elements:
        if isinstance(el, Line):  # a line's bytes are its text, and it took no LF
            assert data[el.start : el.end].decode("gb18030") == el.text
            assert el.cols >= 0
        elif isinstance(el, Feed):
            assert set(data[el.start : el.end]) <= {0x0A}
            assert el.lines == el.end - el.start
    assert [line.text for line in expanded.lines] == [text for text in "\n".join(lines).split("\n") if text]


def test_reading_elements_twice_gives_the_same_list() -> None:
    receipt = _receipt(b"\x1b@one\ntwo\n\nthree\n")
    first = receipt.elements
    assert receipt.elements is first
    assert [type(el).__name__ for el in first] == ["Line", "Line", "Feed", "Line"]
    assert [el.text for el in first if isinstance(el, Line)] == ["one", "two", "three"]


def test_receipts_compare_by_their_elements_whatever_their_form() -> None:
    data = b"\x1b@one\ntwo\n\nthree\n"
    compact, expanded = _receipt(data), _receipt(data)
    _ = expanded.elements
    assert any(isinstance(block, LineRun) for block in compact.blocks)
    assert compact == expanded  # the form is not part of the value
    assert repr(compact) == repr(expanded)
    assert "LineRun" not in repr(compact)
