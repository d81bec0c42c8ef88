"""``klx profile test``: run profiles over their labelled recordings and compare field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import ProfileSet

__all__ = ["FieldResult", "run_profile_tests"]


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


def run_profile_tests(loaded: ProfileSet, recordings: Path, profile_id: str | None = None) -> list[FieldResult]:
    """Field results for every labelled recording (``<recordings>/<profile>/*.klr`` + ``*.expected.json``)."""
    targets = [loaded.get(profile_id)] if profile_id else loaded.profiles
    detector = Detector(loaded.profiles)
    results: list[FieldResult] = []
    for profile in targets:
        labelled = sorted((recordings / profile.id).glob("*.expected.json"))
        if profile_id and not labelled:
            raise InputError(f"{recordings / profile.id}: no labelled recordings (*.klr + *.expected.json)")
        for label in labelled:
            rec_path = label.with_name(label.name.removesuffix(".expected.json") + ".klr")
            try:
                expected = json.loads(label.read_text(encoding="utf-8"))["receipts"]
            except (OSError, ValueError, KeyError) as exc:
                raise InputError(f"{label}: not a valid expected-output file ({exc})") from None
            source = jobs.load_source(rec_path)
            receipts = jobs.source_receipts(source, DecodeOptions())
            records = [jobs.receipt_record(source, r, detector) for r in receipts]
            name = rec_path.name
            results.append(FieldResult(profile.id, name, -1, "receipts (count)", len(expected), len(records)))
            for i, want in enumerate(expected):
                got = records[i] if i < len(records) else {}
                results += _compare(profile.id, name, i, "", want, got)
    return results
