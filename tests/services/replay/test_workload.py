"""Loading recordings for a replay: bad files become one problem line each and the rest goes on."""

from __future__ import annotations

import json
import shutil

from kelaile_cli.core.cloud.protocol import receipt_digest
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.replay import load_workload
from tests.services.replay.conftest import RECORDINGS


def _detector() -> Detector:
    return Detector(load_profiles().profiles)


def test_items_carry_the_upload_body_digest_and_label(tree):
    work = load_workload([tree], _detector())
    assert work.recordings == 2 and not work.problems
    assert [(i.recording.rsplit("/", 1)[1], i.index) for i in work.items] == [
        ("chenguang-cafe-01.klr", 0), ("meiwei-pos-01.klr", 0), ("meiwei-pos-01.klr", 1)
    ]  # fmt: skip
    pre_bill = work.items[1]
    body = json.loads(pre_bill.body)
    assert body["kind"] == "pre_bill" and body["profile"] == "meiwei-pos"
    assert body["receipt_sha256"] == pre_bill.digest and len(pre_bill.digest) == 64
    assert pre_bill.expected is not None and pre_bill.expected["transaction"]["total"] == "312.40"
    assert body["transaction"]["total"] == "312.40"
    assert work.items[2].at > 0.0  # recorded after the pre-bill


def test_corrupt_recording_in_a_directory_is_one_line_and_the_rest_continues(tree):
    (tree / "broken.klr").write_bytes((RECORDINGS / "meiwei-pos" / "meiwei-pos-02.klr").read_bytes()[:40] + b"\n{nope")
    work = load_workload([tree], _detector())
    assert len(work.items) == 3  # the two good recordings
    [problem] = work.problems
    assert problem.kind == "corrupt" and problem.source.endswith("broken.klr")
    assert "\n" not in problem.line() and "rest goes on" in problem.line()


def test_unknown_pos_and_missing_paths_are_reported(tree, tmp_path):
    shutil.copy(RECORDINGS / "samples" / "eu-de-bakery-80mm.bin", tree / "bakery.bin")
    work = load_workload([tree, tmp_path / "missing.klr"], _detector())
    kinds = {p.kind: p for p in work.problems}
    assert set(kinds) == {"unknown_pos", "unreadable"}
    assert "unknown POS" in kinds["unknown_pos"].line() and "--profiles" in kinds["unknown_pos"].line()
    assert len(work.items) == 3


def test_byte_identical_receipts_get_distinct_copies(tmp_path):
    for name in ("a", "b"):
        shutil.copy(RECORDINGS / "samples" / "zh-tw-cafe-58mm.bin", tmp_path / f"{name}.bin")
    work = load_workload([tmp_path], _detector())
    assert [i.copy for i in work.items] == [0, 1] and work.copies == 2
    assert work.items[0].digest == receipt_digest((tmp_path / "a.bin").read_bytes()[:358])
