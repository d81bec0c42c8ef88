"""``klx redact`` of a raw job streams it: the output is byte for byte the whole-file redaction's,
memory stays a few blocks, and the report lists a bounded number of places while counting all."""

from __future__ import annotations

import functools
import tracemalloc
from pathlib import Path

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, Header
from kelaile_cli.core.formats.redact import redact_stream
from kelaile_cli.services.capture import redact_files
from kelaile_cli.services.capture.recorder import RecordingWriter, read_recording
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


# -- recordings ------------------------------------------------------------------------------------
def _reference(src: Path) -> list[Chunk]:
    """The chunks a whole-recording redaction gives (each connection's stream masked at once, sliced
    back into the original reads): what ``klx redact`` wrote before it streamed."""
    rec = read_recording(src)
    masked = {conn: redact_stream(b"".join(c.data for c in chunks))[0]
              for conn, chunks in rec.by_connection(TO_PRINTER).items()}  # fmt: skip
    pos: dict[int, int] = {}
    out = []
    for c in rec.chunks:
        data = c.data
        if c.direction == TO_PRINTER:
            at = pos.get(c.conn, 0)
            data, pos[c.conn] = masked[c.conn][at : at + len(data)], at + len(data)
        out.append(Chunk(c.t, c.direction, c.conn, data))
    return out


def _interleaved(path: Path, jobs: list[bytes], piece: int, gz: bool = False) -> Path:
    """A recording of ``jobs`` on as many connections, read ``piece`` bytes at a time, interleaved, with
    status replies from the printer between them."""
    target = path.with_suffix(".klr.gz" if gz else ".klr")
    with RecordingWriter(target, Header("listen://127.0.0.1:9100", 1_795_609_800.0, "test")) as writer:
        t, offsets = 1_795_609_800.0, [0] * len(jobs)
        while any(at < len(job) for at, job in zip(offsets, jobs, strict=True)):
            for conn, job in enumerate(jobs):
                if offsets[conn] < len(job):
                    t += 0.001
                    writer.write(Chunk(t, TO_PRINTER, conn, job[offsets[conn] : offsets[conn] + piece]))
                    offsets[conn] += piece
                    if offsets[conn] % (piece * 5) == 0:
                        writer.write(Chunk(t, "in", conn, b"\x12"))
    return target


@pytest.mark.parametrize("piece", [3, 100, 4096])
def test_a_streamed_recording_is_the_whole_recordings_redaction(tmp_path: Path, piece: int) -> None:
    jobs = [pii_job(PII), (SAMPLES / "zh-tw-cafe-58mm.bin").read_bytes(), pii_job(PII[:2], enc="gb18030") * 2]
    sources = [_interleaved(tmp_path / "multi", jobs, piece, gz=piece == 100), SAMPLES / "zh-cn-restaurant-80mm.klr"]
    for src in sources:
        out = tmp_path / f"red-{src.name}"
        report = redact_file(src, out)
        got = read_recording(out)
        assert got.chunks == _reference(src), src
        assert got.complete and not got.warnings
        assert report.bytes == sum(len(c.data) for c in got.chunks)
        found = [(conn, r) for conn, chunks in read_recording(src).by_connection(TO_PRINTER).items()
                 for r in redact_stream(b"".join(c.data for c in chunks))[1]]  # fmt: skip
        assert report.masked == [{"kind": r.kind, "offset": r.offset, "length": r.length, "connection": conn}
                                 for conn, r in found]  # fmt: skip


def test_an_altered_recording_is_refused_as_when_read_whole(tmp_path: Path) -> None:
    src = _interleaved(tmp_path / "one", [pii_job(PII)], 50)
    lines = src.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"s":"', b'"s":"X', 1)  # same chunk count, checksum no longer matches
    src.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match="checksum"):
        redact_file(src, tmp_path / "red.klr")


def test_a_recordings_memory_does_not_grow_with_it(tmp_path: Path) -> None:
    one = b"".join(p.read_bytes() for p in sorted(SAMPLES.glob("*.bin")) if "garbage" not in p.name)
    peaks = []
    for n, size in enumerate((10_000, 500_000, 1_000_000)):
        src = _interleaved(tmp_path / f"r{n}", [one * (size // len(one) + 1)] * 2, 4096)
        tracemalloc.start()
        try:
            redact_file(src, tmp_path / f"r{n}-red.klr")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[2] - peaks[1] < 256 * 1024, f"peaks {peaks}: memory grows with the recording"
    assert peaks[2] < 8 * 1024 * 1024, f"peak {peaks[2]} bytes: more than a few blocks (1 MiB) of reading and writing"


def test_settled_codecs_are_the_trackers_over_the_whole_stream() -> None:
    """The file redactor's codec choice (setup settled from the whole stream) is ``CodecTracker``'s
    single call over all of it, on every sample and a few option sets."""
    from kelaile_cli.core.escpos.dialect import StreamDecoder
    from kelaile_cli.core.formats.redact import gather_evidence
    from kelaile_cli.core.stream.printstream import CodecTracker, DecodeOptions

    for name, data in _jobs():
        for options in (DecodeOptions(), DecodeOptions(encoding="cp437"), DecodeOptions(printer="TM-T88V")):
            decoder = StreamDecoder(options.dialect)
            events = decoder.feed(data) + decoder.close()
            settled = CodecTracker(options, settled=gather_evidence([data], options))
            half = len(events) // 2
            got = {**settled.codecs(events[:half]), **settled.codecs(events[half:])}
            assert got == CodecTracker(options).codecs(events), (name, options)
