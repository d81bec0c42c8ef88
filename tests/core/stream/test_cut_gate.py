"""CutGate: passthrough is exact under any chunking; answers land just before each cut."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.stream.cut_gate import CutGate
from kelaile_cli.core.stream.printstream import read_receipts

CUT = b"\x1dVA\x00"
JOB = b"\x1b@\x1b!\x08SHOP\n\x1b!\x00Tea 1   3.00\nTOTAL   3.00\n" + CUT
STAR_JOB = b"\x1b@\x1bE Star shop\x1bF\nLine 2\n\x1bd\x02"


def _run(stream: bytes, cuts: list[int], inject: bytes) -> bytes:
    gate = CutGate()
    out = bytearray()
    pos = 0
    for size in [*cuts, len(stream)]:
        chunk, pos = stream[pos : pos + size], pos + size
        if not chunk:
            continue
        result = gate.feed(chunk)
        out += result.forward
        while result.cut_held:
            result = gate.release(inject)
            out += result.forward
    result = gate.flush()
    out += result.forward
    while result.cut_held:
        result = gate.release(inject)
        out += result.forward
    return bytes(out)


streams = st.lists(
    st.sampled_from([JOB, b"plain text\n", b"\x1d", b"\x1b", b"V", b"\x1dV", b"\x1d!\x11", CUT, b"\x1bi",
                     b"\x1bd\x03", b"\x1c&\xc4\xe3\xba\xc3\n\x1c."]) | st.binary(max_size=24),
    max_size=12,
).map(b"".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(streams, st.lists(st.integers(1, 9), max_size=30))
def test_without_an_answer_the_printer_gets_exactly_the_pos_bytes(stream: bytes, cuts: list[int]) -> None:
    assert _run(stream, cuts, b"") == stream


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), st.lists(st.integers(1, 7), max_size=40))
def test_the_answer_goes_right_before_every_cut_however_chunked(jobs: int, cuts: list[int]) -> None:
    stream = JOB * jobs
    out = _run(stream, cuts, b"<ANSWER>")
    assert out == (JOB.replace(CUT, b"<ANSWER>" + CUT)) * jobs


def test_a_cut_is_held_until_released_and_later_bytes_wait_behind_it() -> None:
    gate = CutGate()
    first = gate.feed(JOB + b"NEXT RECEIPT\n")
    assert first.cut_held and first.forward == JOB[: -len(CUT)]
    assert gate.feed(b"more\n").forward == b""  # order is kept: nothing passes a held cut
    released = gate.release(b"QR")
    assert released.forward == b"QR" + CUT + b"NEXT RECEIPT\nmore\n"
    assert not released.cut_held and released.receipts == 1


def test_a_trailing_prefix_waits_only_until_flush() -> None:
    gate = CutGate()
    assert gate.feed(b"abc\n\x1d").forward == b"abc\n"
    assert gate.flush().forward == b"\x1d"


def test_star_cut_is_held_too() -> None:
    gate = CutGate(dialect="star")
    result = gate.feed(STAR_JOB)
    assert result.cut_held and result.forward == STAR_JOB[:-3]


def test_composed_answer_decodes_as_centred_text_and_a_qr_with_the_payload() -> None:
    answer = {"text": ["Scan for 10% off", "Member points: 120"], "qr": "https://k.example/c/AB12"}
    stream = JOB.replace(CUT, compose_answer(answer) + CUT)
    receipt = read_receipts(stream)[0]
    texts = [line.text.strip() for line in receipt.lines]
    assert "Scan for 10% off" in texts and "Member points: 120" in texts
    assert [c.data for c in receipt.codes] == ["https://k.example/c/AB12"]
    assert receipt.cut is not None
    assert compose_answer({}) == b""


def test_a_cut_after_nothing_printed_is_not_held_and_the_held_cut_names_its_receipt_end() -> None:
    gate = CutGate()
    first = gate.feed(JOB)
    assert first.cut_held and first.cut_end == len(JOB)
    second = gate.release(b"A")
    assert not second.cut_held
    # a second cut right after (some POS programs cut twice) and blank feeds: passed straight through
    third = gate.feed(b"\n\n" + CUT)
    assert not third.cut_held and third.forward == b"\n\n" + CUT


def test_between_receipts_only_after_a_cut_with_nothing_printed_since() -> None:
    gate = CutGate()
    assert gate.between_receipts  # nothing printed yet
    gate.feed(b"\x1b@Table 7\nTea 2.00\n")
    assert not gate.between_receipts  # inside a receipt: a pause here is not a gap between jobs
    held = gate.feed(b"\x1dVA\x00")
    assert held.cut_held and not gate.between_receipts  # the cut waits for the cloud's answer
    gate.release(b"")
    assert gate.between_receipts
    gate.feed(b"\x10\x04\x01\x1b@")  # a status query and an init print nothing
    assert gate.between_receipts
    gate.feed(b"\x1d")  # the first byte of what may be a cut, not decoded yet
    assert not gate.between_receipts
