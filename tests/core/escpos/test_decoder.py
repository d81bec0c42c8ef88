"""ESC/POS decoder: exact command lengths, h11-style chunking properties, resynchronisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.escpos.decoder import MAX_TEXT_RUN, EscPosDecoder
from kelaile_cli.core.escpos.events import OPS, Command, Text, Truncated, Unknown
from tests.core.escpos.conftest import escpos_job

JOB = escpos_job()


def decode(data: bytes, chunks: list[int] | None = None) -> list:
    d = EscPosDecoder()
    events = []
    prev = 0
    for cut in sorted(set(chunks or [])):
        events += d.feed(data[prev:cut])
        prev = cut
    events += d.feed(data[prev:])
    return events + d.close()


# (bytes, mnemonic, op, subset of params) — one row per command family, lengths from the Epson reference.
TABLE = [
    (b"\x1b@", "ESC @", "init", {}),
    (b"\x1b!\x38", "ESC !", "print_mode", {"bold": True, "double_height": True, "double_width": True}),
    (b"\x1d!\x11", "GS !", "char_size", {"width": 2, "height": 2}),
    (b"\x1d!\x70", "GS !", "char_size", {"width": 8, "height": 1}),
    (b"\x1bE\x01", "ESC E", "bold", {"on": True}),
    (b"\x1bG\x00", "ESC G", "bold", {"on": False}),
    (b"\x1b-\x32", "ESC -", "underline", {"weight": 2}),
    (b"\x1dB\x01", "GS B", "reverse", {"on": True}),
    (b"\x1ba\x32", "ESC a", "align", {"align": "right"}),
    (b"\x1bM\x01", "ESC M", "font", {"font": "B"}),
    (b"\x1bV\x01", "ESC V", "rotate", {"on": True}),
    (b"\x1b{\x01", "ESC {", "upside_down", {"on": True}),
    (b"\x1bt\x13", "ESC t", "codepage", {"n": 19}),
    (b"\x1bR\x03", "ESC R", "intl_charset", {"n": 3}),
    (b"\x1c&", "FS &", "cjk_on", {}),
    (b"\x1c.", "FS .", "cjk_off", {}),
    (b"\x1c!\x0c", "FS !", "cjk_print_mode", {"double_width": True, "double_height": True}),
    (b"\x1cC\x01", "FS C", "cjk_code_system", {"n": 1}),
    (b"\r", "CR", "cr", {}),
    (b"\t", "HT", "ht", {}),
    (b"\x1bd\x05", "ESC d", "feed_lines", {"n": 5}),
    (b"\x1bJ\x40", "ESC J", "feed_dots", {"dots": 64}),
    (b"\x1b2", "ESC 2", "line_spacing", {"dots": None}),
    (b"\x1b3\x18", "ESC 3", "line_spacing", {"dots": 24}),
    (b"\x1bD\x04\x0a\x00", "ESC D", "tab_stops", {"stops": [4, 10]}),
    (b"\x1dv0\x00\x01\x00\x02\x00\xf0\x0f", "GS v 0", "image", {"width": 8, "height": 2, "bitmap": b"\xf0\x0f"}),
    (b"\x1b*\x00\x02\x00\x80\x01", "ESC *", "image", {"width": 2, "height": 8}),
    (b"\x1b*\x21\x01\x00\xff\x00\x01", "ESC *", "image", {"width": 1, "height": 24}),
    (b"\x1d(L\x0b\x000p0\x01\x011\x08\x00\x01\x00\xaa", "GS ( L", "graphics_store", {"width": 8, "height": 1}),
    (b"\x1d(L\x02\x0002", "GS ( L", "graphics_print", {}),
    (b"\x1d8L\x03\x00\x00\x0002\x00", "GS 8 L", "graphics_print", {}),
    (b"\x1cp\x01\x00", "FS p", "logo", {"key": "1"}),
    (b"\x1cq\x01\x01\x00\x01\x00" + b"\x00" * 8, "FS q", "nv_define", {}),
    (b"\x1dk\x024006381333931\x00", "GS k", "barcode", {"symbology": "EAN13", "data": b"4006381333931"}),
    (b"\x1dkI\x05{Babc", "GS k", "barcode", {"symbology": "CODE128", "text": "abc"}),
    (b"\x1dkI\x04{C\x0c\x22", "GS k", "barcode", {"symbology": "CODE128", "text": "1234"}),
    (b"\x1dh\x50", "GS h", "barcode_height", {"dots": 80}),
    (b"\x1dw\x02", "GS w", "barcode_width", {"n": 2}),
    (b"\x1dH\x02", "GS H", "barcode_hri", {"position": 2}),
    (b"\x1df\x00", "GS f", "barcode_hri_font", {}),
    (b"\x1d(k\x06\x001P0abc", "GS ( k", "code2d_store", {"symbology": "QR", "data": b"abc"}),
    (b"\x1d(k\x03\x001Q0", "GS ( k", "code2d_print", {"symbology": "QR"}),
    (b"\x1d(k\x06\x000P0xyz", "GS ( k", "code2d_store", {"symbology": "PDF417", "data": b"xyz"}),
    (b"\x1d(k\x03\x001C\x06", "GS ( k", "code2d_setting", {"fn": 67}),
    (b"\x1dV\x00", "GS V", "cut", {"partial": False}),
    (b"\x1dV\x31", "GS V", "cut", {"partial": True}),
    (b"\x1dVB\x10", "GS V", "cut", {"partial": True, "feed": 16}),
    (b"\x1dVA\x00", "GS V", "cut", {"partial": False, "feed": 0}),
    (b"\x1bi", "ESC i", "cut", {"partial": True}),
    (b"\x1bm", "ESC m", "cut", {"partial": True}),
    (b"\x1bp\x00\x19\xfa", "ESC p", "drawer", {"pin": 2, "on_ms": 50, "off_ms": 500}),
    (b"\x10\x14\x01\x01\x05", "DLE DC4", "drawer", {"pin": 5}),
    (b"\x10\x04\x01", "DLE EOT", "status_query", {"kind": "printer status"}),
    (b"\x10\x04\x04", "DLE EOT", "status_query", {"kind": "paper status"}),
    (b"\x10\x05\x02", "DLE ENQ", "status_query", {}),
    (b"\x1dr\x01", "GS r", "status_query", {"kind": "paper sensor status"}),
    (b"\x1dI\x43", "GS I", "status_query", {"kind": "model name"}),
    (b"\x1da\xff", "GS a", "asb", {"n": 255}),
    (b"\x1d(A\x02\x00\x00\x02", "GS (", "setting", {}),
    (b"\x1b(A\x04\x00\x30\x31\x03\x0a", "ESC ( A", "buzzer", {}),
    (b"\x1b&\x03\x20\x21\x01\xaa\xbb\xcc\x02\x01\x02\x03\x04\x05\x06", "ESC &", "user_chars", {}),
    (b"\x1dL\x10\x00", "GS L", "left_margin", {"dots": 16}),
    (b"\x1dW\x00\x02", "GS W", "print_width", {"dots": 512}),
    (b"\x1b$\x20\x00", "ESC $", "position", {"dots": 32, "relative": False}),
    (b"\x1bW\x00\x00\x00\x00\x00\x02\x00\x02", "ESC W", "page_mode", {}),
    (b"\x1d*\x01\x01" + b"\x00" * 8, "GS *", "nv_define", {"width": 8, "height": 8}),
    (b"\x1d/\x00", "GS /", "logo", {}),
]


@pytest.mark.parametrize(("raw", "name", "op", "params"), TABLE, ids=[row[1] + ":" + row[0].hex() for row in TABLE])
def test_command_table(raw, name, op, params):
    # followed by text: a wrong length would eat or leave bytes and the text would come out different
    events = decode(raw + b"after")
    first = events[0]
    assert isinstance(first, Command), first
    assert (first.name, first.op, first.raw) == (name, op, raw)
    for key, value in params.items():
        assert first.params[key] == value
    assert events[1:] == [Text(len(raw), b"after")]
    assert first.op in OPS


def test_every_op_emitted_is_documented():
    for ev in decode(JOB):
        if isinstance(ev, Command):
            assert ev.op in OPS, ev


def test_real_job_round_trips_and_has_no_unknowns():
    events = decode(JOB)
    assert b"".join(e.raw for e in events) == JOB
    assert not [e for e in events if isinstance(e, Unknown | Truncated)]
    ops = [e.op for e in events if isinstance(e, Command)]
    for op in ("image", "graphics_store", "graphics_print", "code2d_store", "code2d_print", "barcode", "drawer"):
        assert op in ops


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(JOB)), max_size=30))
def test_any_chunking_gives_identical_events(cuts):
    assert decode(JOB, cuts) == decode(JOB)


def test_byte_by_byte_and_with_trailing_data():
    whole = decode(JOB)
    assert decode(JOB, list(range(len(JOB)))) == whole
    trailing = decode(JOB + b"tail")
    assert trailing[: len(whole)] == whole
    assert trailing[-1] == Text(len(JOB), b"tail")


fragments = st.sampled_from([row[0] for row in TABLE] + [b"hello", "你好".encode("gb18030"), b"\x00", b"\x1b\x99"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(fragments, st.binary(max_size=8)), max_size=30), st.lists(st.integers(0, 400), max_size=10))
def test_mixed_commands_and_garbage_keep_every_byte_in_order(parts, cuts):
    data = b"".join(parts)
    events = decode(data, [c for c in cuts if c <= len(data)])
    assert b"".join(e.raw for e in events) == data
    offsets = [e.offset for e in events]
    assert offsets == sorted(offsets)
    pos = 0
    for e in events:
        assert e.offset == pos
        pos += len(e.raw)
    assert events == decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise_and_only_close_truncates(data):
    events = decode(data)
    assert b"".join(e.raw for e in events) == data
    assert sum(isinstance(e, Truncated) for e in events) <= 1
    if events and isinstance(events[-1], Truncated):
        assert events[-1].offset + len(events[-1].raw) == len(data)
    # a text run holds printable bytes and LF only (the layout relies on it: no control character in text)
    for e in events:
        if isinstance(e, Text):
            assert all(b >= 0x20 or b == 0x0A for b in e.raw), e


def test_line_feeds_travel_inside_text_runs():
    # LF never starts a command, so plain lines form one text event; any other control byte ends it
    assert decode(b"A\nB\n\nC\rD") == [
        Text(0, b"A\nB\n\nC"),
        Command(6, b"\r", "CR", "cr", {}),
        Text(7, b"D"),
    ]


def test_unknown_command_is_reported_and_text_after_it_survives():
    events = decode(b"AB\x1b\x99CD")
    assert events == [Text(0, b"AB"), Unknown(2, b"\x1b\x99", "unknown command ESC 0x99"), Text(4, b"CD")]


def test_truncated_command_at_close():
    events = decode(b"Hi\x1dv0\x00\x10\x00\x10\x00\xff")
    assert isinstance(events[-1], Truncated)
    assert events[-1].name == "GS v 0" and events[-1].offset == 2


def test_huge_declared_length_is_not_buffered():
    data = b"\x1d8L\xff\xff\xff\x7fAFTER"
    events = decode(data)
    assert isinstance(events[0], Unknown)
    assert events[-1] == Text(3, b"\xff\xff\xff\x7fAFTER")  # the prefix is reported, the rest resyncs


def test_text_runs_split_at_fixed_positions():
    data = b"x" * (MAX_TEXT_RUN * 2 + 10)
    a = decode(data)
    b = decode(data, [1, 5000, 8191])
    assert a == b
    assert [len(e.raw) for e in a] == [MAX_TEXT_RUN, MAX_TEXT_RUN, 10]


def test_column_image_pixels():
    # ESC * 33 (24-dot), 2 columns: first column has only its top dot, second only its bottom dot
    data = b"\x1b*\x21\x02\x00" + b"\x80\x00\x00" + b"\x00\x00\x01"
    [ev] = decode(data)
    bitmap = ev.params["bitmap"]
    assert ev.params["width"] == 2 and ev.params["height"] == 24
    assert bitmap[0] == 0x80  # row 0: x=0 set
    assert bitmap[23] == 0x40  # row 23: x=1 set
    assert sum(bin(b).count("1") for b in bitmap) == 2


def test_preview_close_leaves_the_decoder_going():
    """preview_close gives what close would at that point, and feeding goes on as if it was never asked."""
    from pathlib import Path

    from kelaile_cli.core.escpos.dialect import StreamDecoder

    corpus = Path(__file__).resolve().parents[2] / "fixtures" / "conformance"
    for path in sorted(corpus.glob("*.bin"))[:8]:
        data = path.read_bytes()
        for cut in (0, 1, 5, 600, len(data) // 2, len(data) - 1):
            going = StreamDecoder()
            head = going.feed(data[:cut])
            preview = going.preview_close()
            closed = StreamDecoder()
            closed.feed(data[:cut])
            assert _shape(preview) == _shape(closed.close()), (path.name, cut)
            whole = StreamDecoder()
            assert _shape(head + going.feed(data[cut:]) + going.close()) == _shape(whole.feed(data) + whole.close())


def _shape(events):
    return [(type(e).__name__, e.offset, e.raw, getattr(e, "op", None), getattr(e, "params", None)) for e in events]
