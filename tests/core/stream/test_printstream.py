"""The pipeline as a whole: identical receipts however a stream is chunked."""

from __future__ import annotations

from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import PrintStream, read_receipts


def sample_stream() -> bytes:
    p = Dummy(profile="TM-T88V")
    for n in range(3):
        p.set(align="center", bold=True)
        p.text(f"SHOP {n}\n")
        p.set(align="left", bold=False)
        p.text("Tea   2.00\nCake  3.00\n")
        p.qr(f"https://k.example/{n}", native=True)
        p.cut()
    return b"\x1b@\x1c&" + "欢迎光临\n".encode("gb18030") + b"\x1c.\x1dV\x00" + p.output


STREAM = sample_stream()


def live(data: bytes, cuts: list[int]) -> list:
    ps = PrintStream()
    out = []
    prev = 0
    for c in sorted(set(cuts)):
        out += ps.feed(data[prev:c])
        prev = c
    out += ps.feed(data[prev:])
    out += ps.close()
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_live_pipeline_is_independent_of_chunking(cuts):
    whole = live(STREAM, [])
    assert [render_text(r) for r in live(STREAM, cuts)] == [render_text(r) for r in whole]


def test_byte_by_byte_equals_whole_file():
    ps = PrintStream()
    got = []
    for i in range(len(STREAM)):
        got += ps.feed(STREAM[i : i + 1])
    got += ps.close()
    assert [render_text(r) for r in got] == [render_text(r) for r in read_receipts(STREAM)]
    assert len(got) == 4


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_and_offsets_stay_in_range(data):
    receipts = read_receipts(data)
    for r in receipts:
        assert 0 <= r.start <= r.end <= len(data)
        for w in r.warnings:
            assert 0 <= w.offset < len(data)
        render_text(r)


def test_receipt_time_is_when_its_first_byte_arrived_and_idle_gaps_split_jobs():
    ps = PrintStream()
    got = ps.feed(b"\x1b@First\n", timestamp=100.0)  # held back until the dialect is known
    got += ps.feed(b"line\n", timestamp=100.5)
    got += ps.feed(b"Second job, no cut, no init\n", timestamp=110.0)  # 9.5 s of silence before it
    got += ps.feed(b"\x1dV\x00", timestamp=110.1)
    got += ps.close()
    assert [r.timestamp for r in got] == [100.0, 110.0]
    assert [[ln.text for ln in r.lines] for r in got] == [["First", "line"], ["Second job, no cut, no init"]]


def page_and_user_chars_stream() -> bytes:
    """Page mode (two areas, a direction, positions, an image) and user-defined characters, by hand
    from the Epson command reference."""
    esc, gs = b"\x1b", b"\x1d"
    u16 = lambda n: n.to_bytes(2, "little")  # noqa: E731
    page = (
        esc + b"L" + esc + b"W" + u16(0) + u16(0) + u16(240) + u16(120) + b"Item\nTea\n"
        + esc + b"W" + u16(288) + u16(0) + u16(216) + u16(120) + esc + b"T\x02" + b"Price\n2.00"
        + gs + b"$" + u16(90) + esc + b"$" + u16(24) + esc + b"*\x21" + u16(4) + b"\xf0" * 12 + b"\x0c"
    )  # fmt: skip
    glyph = esc + b"&\x03\x41\x42" + b"\x02" + b"\xff" * 6 + b"\x01" + b"\x81" * 3
    return (esc + b"@" + page + gs + b"V\x00") * 2 + glyph + esc + b"%\x01" + b"xABx\n" + gs + b"V\x00"


STREAM2 = page_and_user_chars_stream()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM2)), max_size=40))
def test_page_mode_and_user_chars_are_independent_of_chunking(cuts):
    whole = live(STREAM2, [])
    assert len(whole) == 3 and "Price" in render_text(whole[0]) and "\ufffc\ufffc" in render_text(whole[2])
    got = live(STREAM2, cuts)
    assert [render_text(r) for r in got] == [render_text(r) for r in whole]
    assert [[w.to_dict() for w in r.warnings] for r in got] == [[w.to_dict() for w in r.warnings] for r in whole]


def _cjk_receipts(count: int) -> bytes:
    """``count`` receipts of GB18030 text without ``FS &`` (the encoding is guessed from the bytes)."""
    body = "炸酱面   2  ¥ 56.00\n小笼包   1  ¥ 18.00\n合计         ¥ 74.00\n".encode("gb18030")
    return b"".join(b"\x1b@" + body * 8 + f"No. {n}\n".encode() + b"\x1dV\x00" for n in range(count))


def test_live_setup_is_chosen_again_only_when_the_evidence_changed(monkeypatch):
    from kelaile_cli.core.stream import printstream

    chosen = []

    def counting(evidence, options):
        setup = real(evidence, options)
        chosen.append((evidence.version, evidence.sample_bytes, setup))
        return setup

    real = printstream.choose_text_setup
    monkeypatch.setattr(printstream, "choose_text_setup", counting)
    data = _cjk_receipts(60)
    ps = PrintStream()
    got = ps.feed(data) + ps.close()
    assert len(got) == 60
    # the samples stop growing at TextEvidence.LIMIT: from then on the receipts reuse the choice
    assert 1 < len(chosen) < 60
    assert chosen[-1][1] >= printstream.TextEvidence.LIMIT
    assert [v for v, _, _ in chosen] == sorted({v for v, _, _ in chosen})  # once per version
    # ... and that choice is the one scoring every receipt again would make
    monkeypatch.setattr(printstream, "choose_text_setup", real)
    assert {r.encoding for r in got} == {"gb18030"}
    assert [render_text(r) for r in got] == [render_text(r) for r in read_receipts(data)]


def test_evidence_version_moves_with_what_the_choice_reads():
    from kelaile_cli.core.stream.printstream import TextEvidence, decode_events

    def version_after(*chunks: bytes) -> list[int]:
        """The evidence's version after the events of each chunk (the chunks decoded as one stream)."""
        events, _ = decode_events(b"".join(chunks))
        ev, out, end = TextEvidence(), [], 0
        for chunk in chunks:
            end += len(chunk)
            ev.add([e for e in events if end - len(chunk) <= e.offset < end])
            out.append(ev.version)
        return out

    assert version_after(b"plain ascii\n", b"more\n") == [0, 0]  # nothing to choose by
    assert version_after(b"\x1bt\x02x\n", b"\x1bt\x02y\n", b"\x1bt\x10z\n") == [1, 1, 2]  # ESC t: changes only
    assert version_after(b"\x1c&", b"\x1c&", b"\x1c.") == [1, 1, 1]  # FS & declared once; FS . is no evidence
    han = "汉字\n".encode("gb18030") + b"\x1b!\x00"  # a command ends the text run
    assert version_after(han, han) == [1, 2]  # the samples grow
    assert version_after(b"\x1cC\x01", b"\x1cC\x01", b"\x1cC\x00") == [1, 1, 2]  # FS C code system


def test_a_codec_tracker_chooses_again_only_when_the_evidence_changed(monkeypatch):
    from kelaile_cli.core.stream import printstream

    calls = []
    real = printstream.choose_text_setup
    monkeypatch.setattr(printstream, "choose_text_setup", lambda ev, opts: calls.append(ev.version) or real(ev, opts))
    events, _ = printstream.decode_events(_cjk_receipts(60))
    tracker = printstream.CodecTracker(printstream.DecodeOptions())
    codecs = {}
    for at in range(0, len(events), 10):  # a live stream's events, a few at a time
        codecs.update(tracker.codecs(events[at : at + 10]))
    assert len(calls) < len(events) // 10 and calls == sorted(set(calls))  # once per version
    assert set(codecs.values()) == {"gb18030"}
