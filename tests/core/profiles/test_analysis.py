"""Detection + extraction of one receipt, and the upload document built from it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from kelaile_cli.core.profiles.analysis import Analysis, analyse, upload_body
from kelaile_cli.core.profiles.extract import Check, Item, Payment, Report, Transaction
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


def _asdict_identity(analysis: Analysis) -> dict[str, object]:
    """``identity()`` as it was written with ``dataclasses.asdict`` (the reference)."""
    tx = analysis.transaction
    return {
        "profile": analysis.profile,
        "confidence": analysis.confidence,
        "kind": analysis.kind,
        "transaction": {k: v for k, v in asdict(tx).items() if k != "checks"} if tx else None,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in tx.checks] if tx else [],
    }


def test_identity_is_the_transaction_as_asdict_gives_it() -> None:
    detector = _detector()
    known = 0
    for path in sorted((ROOT / "recordings").glob("*/*.klr")) + sorted((ROOT / "recordings").glob("*/*.bin")):
        data = parse_recording(path.read_bytes(), str(path)).stream() if path.suffix == ".klr" else path.read_bytes()
        for receipt in read_receipts(data):
            analysis = analyse(receipt, detector)
            known += analysis.transaction is not None
            assert analysis.identity() == _asdict_identity(analysis), path
    assert known > 10  # the comparison covered real transactions
    full = Transaction(
        kind="sale", currency="CNY", store="s", covers=2, items=[Item(name="面", quantity="2", sku="1")],
        payments=[Payment(method="cash", amount="1.00")], report=Report(number="7", receipts=3),
        checks=[Check(name="sum", ok=False, detail="x")], problems=["odd"],
    )  # fmt: skip
    analysis = Analysis("p", 0.9, "sale", full)
    got = analysis.identity()
    assert got == _asdict_identity(analysis) and got["transaction"]["report"]["receipts"] == 3
    assert got["transaction"]["items"] is not full.items and "checks" not in got["transaction"]  # copies, as asdict


def test_an_analysis_compares_hashes_and_reads_as_the_dataclass_did() -> None:
    a, b = Analysis(None, 0.25, None, None), Analysis(None, 0.25, None, None)
    assert a == b and hash(a) == hash(b) and a != Analysis("p", 0.25, None, None) and a != (None, 0.25, None, None)
    assert repr(a) == "Analysis(profile=None, confidence=0.25, kind=None, transaction=None)"
    assert (a.profile, a.confidence, a.kind, a.transaction) == (None, 0.25, None, None)
