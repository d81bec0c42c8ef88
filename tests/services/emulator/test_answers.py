"""The box prints the cloud's answer above each receipt's cut — and without an answer, passes the
POS's bytes through unchanged (the cut waits at most the board's deadline)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services.demo import network_printer, send_job, without_answers
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from tests.helpers import TEA_JOB as JOB


class _Answers:
    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.items: list[dict[str, Any]] = []

    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
        self.items.append(item)
        return self.answer


def _run(tmp_path: Path, uploader: _Answers, jobs: list[bytes], wait_s: float = 1.5) -> bytes:
    printed = tmp_path / "paper.bin"
    with network_printer(printed) as printer:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
        box.options.uploader = uploader
        box.answers.wait_s = wait_s
        box.start()
        try:
            deadline = time.monotonic() + 10
            while not box.pos_address and time.monotonic() < deadline:
                time.sleep(0.01)
            for job in jobs:
                send_job(box.pos_address, job)
            while len(uploader.items) < len(jobs) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            box.stop()
    return printed.read_bytes()


def test_each_receipt_gets_its_answer_above_its_cut(tmp_path: Path) -> None:
    answer = {"kind": "loyalty", "qr": "https://k.example/c/XYZ", "text": ["Thank you!", "Coupon XYZ"]}
    jobs = [JOB, JOB.replace(b"Green", b"Black")]
    printed = _run(tmp_path, _Answers(answer), jobs)
    payload = compose_answer(answer, width=48)
    assert printed.count(payload + b"\x1dVA\x00") == 2
    assert without_answers(printed, [payload, payload]) == b"".join(jobs)
    receipts = read_receipts(printed)
    assert [c.data for r in receipts for c in r.codes] == ["https://k.example/c/XYZ"] * 2


def test_without_an_answer_the_printer_gets_exactly_the_pos_bytes(tmp_path: Path) -> None:
    printed = _run(tmp_path, _Answers(None), [JOB, JOB], wait_s=0.2)
    assert printed == JOB + JOB
