"""services/jobs: receipts streamed from files as their jobs complete, the same as decoding at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from kelaile_cli.services import jobs

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "conformance"


def job(i: int) -> bytes:
    return b"\x1b@" + f"Receipt {i}\nCoffee   3.50\n".encode() + "合计 3.50\n".encode("gb18030") + b"\x1dV\x00"


def texts(receipts) -> list[str]:
    return [render_text(r, markers=False) for r in receipts]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bin")), ids=lambda p: p.stem)
def test_streamed_equals_decoded_at_once(path, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_BYTES", 37)  # many chunks, cut anywhere
    streamed = list(jobs.iter_receipts(jobs.load_source(path), DecodeOptions()))
    whole = read_receipts(path.read_bytes())
    assert texts(streamed) == texts(whole)
    assert [(r.encoding, r.cut, r.start, r.end) for r in streamed] == [
        (r.encoding, r.cut, r.start, r.end) for r in whole
    ]


def test_receipts_come_before_the_file_is_read(tmp_path, monkeypatch):
    path = tmp_path / "many.bin"
    path.write_bytes(b"".join(job(i) for i in range(400)))
    monkeypatch.setattr(jobs, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(jobs, "PRESCAN_BYTES", 2048)
    read: list[int] = []

    class Counted(jobs.Source):
        __slots__ = ()

        def chunks(self, limit=None):
            for piece in super().chunks(limit):
                read.append(len(piece))
                yield piece

    source = Counted(str(path), path=path)
    receipts = jobs.iter_receipts(source, DecodeOptions())
    first = next(receipts)
    assert "Receipt 0" in render_text(first)
    assert sum(read) < path.stat().st_size / 4  # prescan plus a chunk or two, not the whole file
    rest = list(receipts)
    assert len(rest) == 399 and "合计 3.50" in render_text(rest[-1])
    assert [r.index for r in rest[:3]] == [1, 2, 3]


def test_unreadable_file_is_one_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        jobs.load_source(tmp_path / "missing.bin")
    with pytest.raises(InputError, match="is a directory"):
        jobs.load_source(tmp_path)


ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = sorted((ROOT / "recordings").glob("*/*.klr")) + sorted((ROOT / "recordings").glob("*/*.bin"))


@pytest.fixture(scope="module")
def detector():
    from kelaile_cli.core.profiles.detect import Detector
    from kelaile_cli.services.profiles.library import load_profiles

    return Detector(load_profiles([]).profiles)


@pytest.mark.parametrize("path", RECORDINGS + sorted(CORPUS.glob("*.bin")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_receipt_json_is_the_record_as_json(path, detector):
    """The fast writer of ``klx parse --json`` gives the general encoder's text exactly: recordings with
    transactions found, captures with times and connections, codes, images, warnings."""
    from kelaile_cli.cli.console import to_json

    source = jobs.load_source(path)
    for use in (detector, None):
        for receipt in jobs.iter_receipts(source, DecodeOptions()):
            expected = to_json(jobs.receipt_record(source, receipt, use))
            assert jobs.receipt_json(source, receipt, use, to_json) == expected


def test_receipt_json_of_receipts_no_profile_knows(detector):
    """The written-out members of an unknown receipt: none matched (confidence 0) or one signature only."""
    from kelaile_cli.cli.console import to_json

    confidences = []
    for text in (b"nothing known here", "永福超市\n祥云酒家".encode("gb18030"), "交班人签字".encode("gb18030")):
        source = jobs.Source("unknown.bin", b"\x1b@" + text + b"\n\x1dV\x00")
        (receipt,) = jobs.source_receipts(source, DecodeOptions())
        record = jobs.receipt_record(source, receipt, detector)
        assert record["profile"] is None
        confidences.append(record["confidence"])
        assert jobs.receipt_json(source, receipt, detector, to_json) == to_json(record)
    assert confidences[0] == 0 and all(0 < c < 0.5 for c in confidences[1:])


def test_receipt_json_odd_values():
    """Values the corpus does not have: non-finite and integral floats, quotes and controls in strings."""
    from kelaile_cli.cli.console import to_json
    from kelaile_cli.core.stream.receipt import Warning

    source = jobs.Source('od"d\\name\x01.bin', b"\x1b@A\n\x1dV\x00")
    (receipt,) = jobs.source_receipts(source, DecodeOptions())
    receipt.warnings.append(Warning(3, "unsupported", 'a "quoted"\tline\n'))
    receipt.queries.append("status\u2028")
    for confidence in (float("nan"), float("inf"), -float("inf"), 1e300, 0.1 + 0.2, 2.0, None):
        receipt.encoding_confidence = confidence
        assert jobs.receipt_json(source, receipt, None, to_json) == to_json(jobs.receipt_record(source, receipt))


def test_a_file_name_that_is_not_utf8_is_written_back_as_its_bytes(tmp_path):
    """Python holds such a name's odd bytes as lone surrogates; ``klx parse --json`` writes them back as the
    bytes they were (as stdout does on POSIX), through the byte path and the str one alike."""
    import os
    import subprocess
    import sys

    from kelaile_cli.cli.console import to_json

    raw_name = b"caf\xe9-\xff.bin"  # Latin-1, not UTF-8
    (Path(os.fsdecode(tmp_path)) / os.fsdecode(raw_name)).write_bytes(b"\x1b@A\n\x1dV\x00")
    source = jobs.load_source(Path(os.fsdecode(tmp_path)) / os.fsdecode(raw_name))
    (receipt,) = jobs.source_receipts(source, DecodeOptions())
    out: list[bytes] = []
    jobs.receipt_json_utf8(out, source, receipt, None, to_json)
    assert b"".join(out).startswith(b'{"source": "' + os.fsencode(source.name) + b'"')
    assert raw_name in os.fsencode(source.name)
    assert jobs.receipt_json(source, receipt, None, to_json) == to_json(jobs.receipt_record(source, receipt))
    run = subprocess.run(
        [sys.executable, "-m", "kelaile_cli", "parse", os.fsdecode(raw_name), "--json"],
        cwd=tmp_path, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b'{"source": "' + raw_name + b'", "index": 0, "text": "A"')


def test_batches_are_the_receipts_grouped(tmp_path, monkeypatch):
    path = tmp_path / "many.bin"
    path.write_bytes(b"".join(job(i) for i in range(50)))
    monkeypatch.setattr(jobs, "CHUNK_BYTES", 300)
    batches = list(jobs.iter_receipt_batches(jobs.load_source(path), DecodeOptions()))
    assert len(batches) > 5  # one group per chunk read, not one for the file
    flat = [r for batch in batches for r in batch]
    assert texts(flat) == texts(jobs.iter_receipts(jobs.load_source(path), DecodeOptions()))
    assert [r.index for r in flat] == list(range(50))


@pytest.mark.parametrize("prescan", [1, 100, 1000, 4099])
@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bin"))[::3], ids=lambda p: p.stem)
def test_decoded_once_as_with_a_separate_prescan(path, prescan, monkeypatch):
    """The start of a file is decoded once (kept for layout after choosing the encoding): the receipts
    are those of a separate prescan of the first PRESCAN_BYTES, closed there, then a full decode."""
    from kelaile_cli.core.escpos.dialect import StreamDecoder
    from kelaile_cli.core.stream.printstream import PrintStream, TextEvidence, choose_text_setup

    monkeypatch.setattr(jobs, "CHUNK_BYTES", 37)
    monkeypatch.setattr(jobs, "PRESCAN_BYTES", prescan)
    data = path.read_bytes()
    scan, evidence = StreamDecoder(), TextEvidence()
    evidence.add(scan.feed(data[:prescan]))
    evidence.add(scan.close())
    stream = PrintStream(DecodeOptions(), text_setup=choose_text_setup(evidence, DecodeOptions()))
    expected = stream.feed(data) + stream.close()
    got = list(jobs.iter_receipts(jobs.load_source(path), DecodeOptions()))

    def facts(receipts):
        return [
            (r.index, r.start, r.end, r.encoding, r.encoding_confidence, r.encoding_evidence, r.dialect, r.cut)
            for r in receipts
        ]

    assert texts(got) == texts(expected)
    assert facts(got) == facts(expected)


def test_stream_constant_members_follow_each_receipt():
    """The source name and encoding evidence are written again when they change from one receipt to the next."""
    from kelaile_cli.cli.console import to_json

    source = jobs.Source("a.bin", b"\x1b@one\n\x1dV\x00\x1b@two\n\x1dV\x00")
    first, second = jobs.source_receipts(source, DecodeOptions())
    other = jobs.Source('b "2".bin', source.data)
    for src, receipt, evidence in [(source, first, ["x"]), (source, second, ["x"]), (other, second, ["y", "z"])]:
        receipt.encoding_evidence = evidence
        assert jobs.receipt_json(src, receipt, None, to_json) == to_json(jobs.receipt_record(src, receipt))
    second.encoding_evidence.append("w")  # the same list, changed
    assert jobs.receipt_json(other, second, None, to_json) == to_json(jobs.receipt_record(other, second))
