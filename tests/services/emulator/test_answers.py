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
    return _run_box(tmp_path, uploader, jobs, wait_s)[0]


def _run_box(tmp_path: Path, uploader: _Answers, jobs: list[bytes], wait_s: float = 1.5) -> tuple[bytes, BoxSim]:
    printed = tmp_path / "paper.bin"
    with network_printer(printed) as printer:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
        box.options.uploader = uploader
        box.state.update_config({"cut_wait_ms": round(wait_s * 1000)})
        box.start()
        try:
            deadline = time.monotonic() + 10
            while not box.pos_address and time.monotonic() < deadline:
                time.sleep(0.01)
            for job in jobs:
                send_job(box.pos_address, job)
            while len(uploader.items) < len(jobs) and time.monotonic() < deadline:
                time.sleep(0.01)
            stats = box.answers.stats
            while stats.printed + stats.missed + stats.unanswered < len(jobs) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            box.stop()
    return printed.read_bytes(), box


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


def test_answers_after_the_cut_are_counted_late_with_their_lateness(tmp_path: Path) -> None:
    """Support's complaint reproduced: the cloud answers, but after the box let the cut go."""

    class _Slow(_Answers):
        def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
            time.sleep(0.6)
            return super().upload(item)

    answer = {"kind": "loyalty", "qr": "https://k.example/c/XYZ", "text": ["Thank you!"]}
    printed = tmp_path / "paper.bin"
    events: list[tuple[str, dict[str, Any]]] = []
    uploader = _Slow(answer)
    with network_printer(printed) as printer:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
        box.options.uploader = uploader
        box.state.update_config({"cut_wait_ms": 200})
        box.start()
        board = box.answers
        board.on_event = lambda kind, info: events.append((kind, info))
        try:
            deadline = time.monotonic() + 10
            while not box.pos_address and time.monotonic() < deadline:
                time.sleep(0.01)
            send_job(box.pos_address, JOB)
            send_job(box.pos_address, JOB)
            while board.stats.late < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            box.stop()
    assert printed.read_bytes() == JOB + JOB  # no QR made it onto the paper
    assert board.wait_s == 0.2
    assert (board.stats.missed, board.stats.late, board.stats.printed, board.stats.unanswered) == (2, 2, 0, 0)
    assert [kind for kind, _ in events] == ["answer_late", "answer_late"]
    assert all(0.2 < info["late_s"] < 5 for _, info in events)


def test_a_cloud_that_gives_no_answer_is_counted_unanswered(tmp_path: Path) -> None:
    printed, box = _run_box(tmp_path, _Answers(None), [JOB, JOB], wait_s=1.0)
    assert printed == JOB + JOB
    stats = box.answers.stats
    assert (stats.unanswered, stats.printed, stats.late) == (2, 0, 0)
    assert box.device.status()["answers"]["unanswered"] == 2


def test_printed_answers_are_counted(tmp_path: Path) -> None:
    answer = {"kind": "loyalty", "qr": "https://k.example/c/XYZ", "text": ["Thank you!"]}
    _, box = _run_box(tmp_path, _Answers(answer), [JOB, JOB])
    assert (box.answers.stats.printed, box.answers.stats.missed, box.answers.stats.unanswered) == (2, 0, 0)
