"""``klx redact`` of a raw job streams it: the output is byte for byte the whole-file redaction's,
memory stays a few blocks, and the report lists a bounded number of places while counting all."""

from __future__ import annotations

import functools
import tracemalloc
from pathlib import Path

import pytest

from kelaile_cli.core.formats.redact import redact_stream
from kelaile_cli.services.capture import redact_files
from kelaile_cli.services.capture.redact_files import redact_file
from kelaile_cli.transports.files import read_blocks
from tests.helpers import PII, SAMPLES, pii_job


def _small_blocks(monkeypatch, size: int) -> None:
    monkeypatch.setattr(redact_files, "read_blocks", functools.partial(read_blocks, size=size), raising=False)


def _jobs() -> list[tuple[str, bytes]]:
    out = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.bin"))]
    out.append(("pii-gb18030", pii_job(PII) * 3))
    # a stream that says it is double-byte (FS &) only at its very end: whole-file evidence decides
    late = pii_job(["手机 13812345678"] * 40).replace(b"\x1c&", b"") + b"\x1c&" + "会员".encode("gb18030")
    out.append(("late-fs", late))
    return out


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_the_streamed_redaction_is_the_whole_files_byte_for_byte(tmp_path: Path, monkeypatch, block: int) -> None:
    _small_blocks(monkeypatch, block)
    for name, data in _jobs():
        if block == 1 and len(data) > 20_000:
            continue  # one byte at a time: the small jobs are enough
        src, dest = tmp_path / f"{name}.in", tmp_path / f"{name}.out"
        src.write_bytes(data)
        report = redact_file(src, dest)
        masked, found = redact_stream(data)
        assert dest.read_bytes() == masked, name
        assert report.bytes == len(data)
        assert report.masked == [{"kind": r.kind, "offset": r.offset, "length": r.length} for r in found], name


def _peak(tmp_path: Path, data: bytes) -> int:
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    tracemalloc.start()
    try:
        redact_file(src, tmp_path / "big.out")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert (tmp_path / "big.out").stat().st_size == len(data)


def test_memory_stays_a_few_blocks_whatever_the_size_of_the_job(tmp_path: Path, monkeypatch) -> None:
    _small_blocks(monkeypatch, 64 * 1024)
    one = b"".join(p.read_bytes() for p in sorted(SAMPLES.glob("*.bin")) if "garbage" not in p.name)
    _peak(tmp_path, one)  # code pages and tables load once, not per job
    small, large = one * (800_000 // len(one) + 1), one * (1_600_000 // len(one) + 1)
    peaks = _peak(tmp_path, small), _peak(tmp_path, large)
    assert peaks[1] < len(large) / 1.5, f"peak {peaks[1]} bytes for a {len(large)}-byte job"
    assert peaks[1] - peaks[0] < 128 * 1024, f"peaks {peaks}: memory grows with the job"


def test_the_report_lists_a_bounded_number_of_places_and_counts_them_all(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(redact_files, "LISTED", 5)
    data = pii_job(PII) * 4  # 4 receipts, 4 masked places each
    src = tmp_path / "j.bin"
    src.write_bytes(data)
    report = redact_file(src, tmp_path / "j.out")
    _, found = redact_stream(data)
    assert len(report.masked) == 5 and report.unlisted == len(found) - 5
    assert sum(report.counts().values()) == len(found)
    assert report.to_dict()["counts"] == report.counts()
