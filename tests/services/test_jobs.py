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
