"""``klx profile test`` and ``klx profile accept``: run profiles over their labelled recordings.

``test`` compares field by field with the expected files, and also judges what a receipt of a kind
must have whatever the label says (a sale needs a total, items and a payment), so a profile that
reads nothing is never green. ``accept`` rewrites the expected files from what the profile reads now,
with the differences shown first, so a corrected profile is kept true in one step.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kelaile_cli import __version__
from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import ProfileSet

__all__ = ["REQUIRED", "FieldResult", "Renewal", "accept_expected", "run_profile_tests", "untested_profiles"]

# What a receipt of each kind must have, whatever its label states.
REQUIRED: dict[str, tuple[str, ...]] = {
    "sale": ("total", "items", "payments"),
    "refund": ("total",),
    "pre_bill": ("total", "items"),
    "kitchen": ("items",),
    "shift_report": ("total",),
}
READS = ("total", "items", "payments")  # a profile that reads none of these on any receipt reads nothing


@dataclass(frozen=True, slots=True)
class FieldResult:
    profile: str
    recording: str
    receipt: int
    field: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.actual)


def _compare(profile: str, rec: str, index: int, prefix: str, expected: Any, actual: Any) -> list[FieldResult]:
    """Every key the label states is compared; keys it leaves out are not judged."""
    if isinstance(expected, dict):
        actual = actual if isinstance(actual, dict) else {}
        out: list[FieldResult] = []
        for key, value in expected.items():
            out += _compare(profile, rec, index, f"{prefix}.{key}" if prefix else key, value, actual.get(key))
        return out
    if isinstance(expected, list) and expected and isinstance(expected[0], dict):
        actual = actual if isinstance(actual, list) else []
        out = [FieldResult(profile, rec, index, f"{prefix} (count)", len(expected), len(actual))]
        for i, item in enumerate(expected):
            out += _compare(profile, rec, index, f"{prefix}[{i}]", item, actual[i] if i < len(actual) else None)
        return out
    return [FieldResult(profile, rec, index, prefix, expected, actual)]


def _required(profile: str, rec: str, index: int, record: dict[str, Any]) -> list[FieldResult]:
    """One result per field the receipt's kind must have (``required: total``: expected 'a value')."""
    kind = record.get("kind")
    tx = record.get("transaction") or {}
    return [
        FieldResult(profile, rec, index, f"required for {kind}: {name}", "a value", tx.get(name) or None)
        for name in REQUIRED.get(str(kind), ())
        if not tx.get(name)
    ]


def _labelled(recordings: Path, profile_id: str) -> Iterator[tuple[Path, Path]]:
    """(expected file, recording) pairs of one profile."""
    for label in sorted((recordings / profile_id).glob("*.expected.json")):
        yield label, label.with_name(label.name.removesuffix(".expected.json") + ".klr")


def _read_label(label: Path) -> dict[str, Any]:
    try:
        data = json.loads(label.read_text(encoding="utf-8"))
        if not isinstance(data.get("receipts"), list):
            raise KeyError("receipts")
        return dict(data)
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise InputError(f"{label}: not a valid expected-output file ({exc})") from None


def untested_profiles(loaded: ProfileSet, recordings: Path, profile_id: str | None = None) -> list[str]:
    """Profiles that have no labelled recordings under ``recordings``: what ``profile test`` could not check."""
    targets = [loaded.get(profile_id)] if profile_id else loaded.profiles
    return [p.id for p in targets if not any(_labelled(recordings, p.id))]


def run_profile_tests(loaded: ProfileSet, recordings: Path, profile_id: str | None = None) -> list[FieldResult]:
    """Field results for every labelled recording (``<recordings>/<profile>/*.klr`` + ``*.expected.json``),
    plus a failure for every field a receipt's kind must have and lacks, and one for a profile that
    reads no total, item or payment on any of its receipts."""
    targets = [loaded.get(profile_id)] if profile_id else loaded.profiles
    detector = Detector(loaded.profiles)
    results: list[FieldResult] = []
    for profile in targets:
        labelled = list(_labelled(recordings, profile.id))
        if profile_id and not labelled:
            raise InputError(f"{recordings / profile.id}: no labelled recordings (*.klr + *.expected.json)")
        reads = 0
        for label, rec_path in labelled:
            expected = _read_label(label)["receipts"]
            source = jobs.load_source(rec_path)
            receipts = jobs.source_receipts(source, DecodeOptions())
            records = [jobs.receipt_record(source, r, detector) for r in receipts]
            name = rec_path.name
            results.append(FieldResult(profile.id, name, -1, "receipts (count)", len(expected), len(records)))
            for i, want in enumerate(expected):
                got = records[i] if i < len(records) else {}
                results += _compare(profile.id, name, i, "", want, got)
                if got.get("profile") == profile.id:
                    results += _required(profile.id, name, i, got)
                    reads += any((got.get("transaction") or {}).get(k) for k in READS)
        if labelled and not reads:
            results.append(
                FieldResult(profile.id, "*", -1, "reads total, items or payments on some receipt", True, False)
            )
    return results


@dataclass(frozen=True, slots=True)
class Renewal:
    """One expected file as it is and as ``accept`` would write it."""

    label: Path
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def diff(self) -> list[str]:
        """Unified diff lines (without line ends) from the old expected file to the new one."""
        return list(
            difflib.unified_diff(
                self.old.splitlines(), self.new.splitlines(), f"{self.label} (expected)", f"{self.label} (now read)",
                lineterm="", n=2,
            )
        )  # fmt: skip

    def write(self) -> None:
        self.label.write_text(self.new, encoding="utf-8")


def accept_expected(loaded: ProfileSet, recordings: Path, profile_id: str) -> list[Renewal]:
    """What the expected files of ``profile_id`` become when they state what the profile reads now.

    Nothing is written here (``Renewal.write`` does it). Refused (``JobError``) when a receipt is no
    longer recognised as the profile's: accepting would label it 'unknown' and hide the regression."""
    profile = loaded.get(profile_id)
    labelled = list(_labelled(recordings, profile.id))
    if not labelled:
        raise InputError(
            f"{recordings / profile.id}: no labelled recordings (*.klr + *.expected.json)",
            remedy="klx profile new --from … writes them; or pass --recordings DIR",
        )
    detector = Detector(loaded.profiles)
    renewals = []
    for label, rec_path in labelled:
        old = label.read_text(encoding="utf-8")
        data = _read_label(label)
        source = jobs.load_source(rec_path)
        receipts = []
        for receipt in jobs.source_receipts(source, DecodeOptions()):
            record = jobs.receipt_record(source, receipt, detector)
            if record.get("profile") != profile.id:
                raise JobError(
                    f"{rec_path}: receipt {receipt.index + 1} is recognised as {record.get('profile') or 'unknown'}, "
                    f"not {profile.id}",
                    remedy="fix the profile's signatures first (klx detect FILE shows the ranking)",
                )
            receipts.append({key: record.get(key) for key in ("profile", "kind", "transaction")})
        data.pop("drafted_by", None)
        data.pop("accepted_by", None)
        data = {"accepted_by": f"klx {__version__} profile accept: check every difference before committing"} | data
        data["receipts"] = receipts
        new = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        renewals.append(Renewal(label, old, new))
    return renewals
