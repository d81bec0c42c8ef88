"""Detection quality on the bundled corpus: every labelled receipt named right, every unprofiled one unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.profiles.quality import measure_detection

ROOT = Path(__file__).resolve().parents[3]
RECORDINGS = ROOT / "recordings"


@pytest.fixture(scope="module")
def profiles():
    return load_profiles().profiles


def test_corpus_top1_is_perfect_and_unprofiled_streams_are_unknown(profiles):
    quality = measure_detection(Detector(profiles), RECORDINGS)
    assert quality.to_dict()["failures"] == []
    assert (quality.top1_accuracy, quality.wrong_profile_rate, quality.unknown_rate) == (1.0, 0.0, 1.0)
    assert len(quality.labelled) >= 12 * 5
    # the generated unprofiled styles and the hand-made samples without a profile are both measured
    sources = {c.source.split("/")[0] for c in quality.unknown}
    assert sources == {"unknown", "samples"} and len(quality.unknown) >= 10


def test_a_low_threshold_names_unprofiled_streams_wrongly(profiles):
    # the unprofiled tea shop prints MeiWei's thank-you line: only the threshold keeps it unknown
    quality = measure_detection(Detector(profiles, threshold=0.2), RECORDINGS)
    wrong = {(c.source.split("/")[-1].rsplit("-", 1)[0], c.got) for c in quality.cases if c.got and not c.ok}
    assert ("tea-shop", "meiwei-pos") in wrong
    assert quality.wrong_profile_rate > 0 and quality.unknown_rate < 1


def test_a_missing_profile_lowers_top1(profiles):
    quality = measure_detection(Detector([p for p in profiles if p.id != "thistle-epos"]), RECORDINGS)
    missed = {c.source.split("/")[0] for c in quality.labelled if not c.ok}
    assert missed == {"thistle-epos"} and quality.top1_accuracy < 1


def test_a_broken_label_names_the_file(tmp_path, profiles):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "x-01.expected.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"x-01\.expected\.json"):
        measure_detection(Detector(profiles), tmp_path)
    (tmp_path / "x" / "x-01.expected.json").write_text('{"receipts": []}', encoding="utf-8")
    with pytest.raises(InputError, match="labels no receipts"):
        measure_detection(Detector(profiles), tmp_path)
    (tmp_path / "x" / "x-01.expected.json").unlink()
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "expected-profiles.json").write_text("[", encoding="utf-8")
    with pytest.raises(InputError, match=r"expected-profiles\.json"):
        measure_detection(Detector(profiles), tmp_path)


def test_every_labelled_receipt_adds_up(profiles):
    # the generator prints consistent receipts: every check klx makes must pass and nothing is left unread
    detector = Detector(profiles)
    checked, kinds = 0, set()
    for label in sorted(RECORDINGS.glob("*/*.expected.json")):
        source = jobs.load_source(label.with_name(label.name.removesuffix(".expected.json") + ".klr"))
        for receipt in jobs.source_receipts(source, DecodeOptions()):
            analysis = analyse(receipt, detector)
            assert analysis.transaction is not None, label.name
            failed = [c.detail for c in analysis.transaction.checks if not c.ok]
            assert failed == [] and analysis.transaction.problems == [], (label.name, receipt.index)
            checked += len(analysis.transaction.checks)
            kinds.add(analysis.kind)
    assert checked >= 150 and kinds == {"sale", "refund", "pre_bill", "kitchen", "shift_report"}
