"""Issue 15's acceptance: a customer's recording played into the box with a slow cloud — the QR is missing on
paper and the box counts every missed answer; with a fast cloud every answer is printed and none is missed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kelaile_cli.core.formats.recording import TO_PRINTER
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services import jobs
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.faults import Faults
from kelaile_cli.services.cloud.uploader import CloudUploader
from kelaile_cli.services.demo import network_printer
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.replay.play import PlayOptions, play

ROOT = Path(__file__).resolve().parents[3]
RECORDING = ROOT / "recordings" / "meiwei-pos" / "meiwei-pos-01.klr"  # a pre-bill and a sale, both cut


def _day(tmp_path: Path, latency_ms: float) -> tuple[bytes, dict]:
    paper = tmp_path / "paper.bin"
    with running_cloud(tmp_path / "c.sqlite", faults=Faults(latency_ms=latency_ms)) as cloud, \
            network_printer(paper) as printer:  # fmt: skip
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
        box.options.uploader = CloudUploader(cloud.url, tmp_path / "box", box.state.serial, store="S-1")
        box.start()
        try:
            deadline = time.monotonic() + 20
            while not box.pos_address and time.monotonic() < deadline:
                time.sleep(0.01)
            play(RECORDING, box.pos_address.replace("listen://", "tcp://"), PlayOptions(reply_wait_s=0.2))
            stats = box.answers.stats
            while stats.printed + stats.late + stats.unanswered < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            state = box.device.status()
        finally:
            box.stop()
    return paper.read_bytes(), state


@pytest.mark.parametrize("latency_ms,missed", [(2500, 2), (0, 0)])
def test_missed_answers_are_counted_and_match_the_paper(tmp_path, latency_ms, missed):
    printed, state = _day(tmp_path, latency_ms)
    pos_bytes = jobs.load_source(RECORDING).data
    rec = jobs.load_source(RECORDING).recording
    assert rec is not None and pos_bytes == rec.stream(TO_PRINTER)
    answers = state["answers"]
    assert answers["missed"] == missed and answers["late"] == missed
    assert answers["printed"] == 2 - missed and answers["cut_wait_ms"] == 1500
    codes = [c.data for r in read_receipts(printed) for c in r.codes]
    pos_codes = [c.data for r in read_receipts(pos_bytes) for c in r.codes]
    if missed:
        assert printed == pos_bytes  # not a byte more: no QR made it above the cuts
        assert answers["last_missed"]["order_no"] and answers["last_missed"]["late_s"] > 0
    else:
        assert len(codes) == len(pos_codes) + 2  # one answer QR above each of the two cuts
