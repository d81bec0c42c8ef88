"""Telling ESC/POS from Star line mode, and the Star decoder."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.escpos.dialect import StreamDecoder, detect_dialect
from kelaile_cli.core.escpos.events import Command, Text, Unknown
from kelaile_cli.core.escpos.star import StarDecoder
from tests.core.escpos.conftest import escpos_job

SAMPLES = Path(__file__).resolve().parents[3] / "recordings" / "samples"
STAR = (SAMPLES / "star-line-mode.bin").read_bytes()


def stream(data: bytes, cuts: list[int] | None = None, dialect: str | None = None) -> tuple[list, str | None]:
    d = StreamDecoder(dialect)
    events, prev = [], 0
    for c in sorted(set(cuts or [])):
        events += d.feed(data[prev:c])
        prev = c
    events += d.feed(data[prev:]) + d.close()
    return events, d.dialect


def test_star_sample_is_detected_and_decoded():
    assert detect_dialect(STAR)[0] == "star"
    events, dialect = stream(STAR)
    assert dialect == "star"
    assert not [e for e in events if isinstance(e, Unknown)]
    ops = [e.op for e in events if isinstance(e, Command)]
    assert {"align", "bold", "char_size", "underline", "reverse", "code2d_store", "code2d_print", "cut"} <= set(ops)
    texts = b"".join(e.raw for e in events if isinstance(e, Text))
    assert b"HARBOUR DELI" in texts and b"TOTAL" in texts


def test_escpos_streams_are_detected_as_escpos():
    for path in SAMPLES.glob("*.bin"):
        if path.name != "star-line-mode.bin":
            assert stream(path.read_bytes())[1] == "escpos", path.name
    assert detect_dialect(escpos_job())[0] == "escpos"


def test_star_cut_means_cut_and_escpos_feed_means_feed():
    star = StarDecoder()
    [ev] = star.feed(b"\x1bd\x03") + star.close()
    assert ev.op == "cut" and ev.params["partial"] is True
    events, _ = stream(b"\x1bd\x03", dialect="escpos")
    assert events[0].op == "feed_lines"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, len(STAR)), max_size=20))
def test_detection_is_independent_of_chunking(cuts):
    assert stream(STAR, cuts) == stream(STAR)
    job = escpos_job()
    assert stream(job, [c for c in cuts if c < len(job)]) == stream(job)


def test_forced_dialect():
    assert stream(STAR, dialect="escpos")[1] == "escpos"
