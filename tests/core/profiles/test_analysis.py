"""Detection + extraction of one receipt, and the upload document built from it."""

from __future__ import annotations

from pathlib import Path

from kelaile_cli.core.profiles.analysis import analyse, upload_body
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.profiles.profile import parse_profile
from kelaile_cli.core.formats.recording import parse_recording

ROOT = Path(__file__).resolve().parents[3]


def _detector() -> Detector:
    return Detector([parse_profile(p.read_text(), str(p)) for p in sorted((ROOT / "profiles").glob("*.yaml"))])


def test_a_labelled_recording_is_recognised_and_its_upload_body_holds_the_transaction() -> None:
    path = sorted((ROOT / "recordings" / "meiwei-pos").glob("*.klr"))[0]
    recording = parse_recording(path.read_bytes(), str(path))
    data = recording.stream()
    receipt = read_receipts(data)[0]
    analysis = analyse(receipt, _detector())
    assert analysis.profile == "meiwei-pos"
    assert analysis.transaction is not None and analysis.transaction.total is not None
    body = upload_body(analysis, "ab" * 32, None)
    assert body["profile"] == "meiwei-pos" and body["transaction"]["total"] == analysis.transaction.total
    assert body["kind"] == analysis.kind


def test_unknown_pos_gives_no_profile_and_kind_other_in_the_body() -> None:
    receipt = read_receipts(b"\x1b@Nothing anyone knows\nTOTAL 1.00\n\x1dV\x00")[0]
    analysis = analyse(receipt, _detector())
    assert analysis.profile is None and analysis.transaction is None
    assert upload_body(analysis, "00" * 32, None)["kind"] == "other"
