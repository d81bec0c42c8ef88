"""Detection quality on a corpus: top-1 accuracy, wrong-profile rate and unknown rate.

The corpus is a recordings directory laid out as ``klx profile test`` expects it:

* ``<id>/*.klr`` + ``*.expected.json`` — labelled receipts; each label names the profile that printed it;
* ``unknown/*.klr`` — streams of POS programs that have no profile: every receipt must come out unknown;
* ``samples/`` with ``expected-profiles.json`` (file name -> profile id or null) — the hand-made samples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs

__all__ = ["SAMPLE_LABELS", "DetectionCase", "DetectionQuality", "corpus_cases", "measure_detection"]

SAMPLE_LABELS = "expected-profiles.json"


@dataclass(frozen=True, slots=True)
class DetectionCase:
    source: str  # recording path relative to the corpus
    receipt: int
    expected: str | None  # profile id, None for 'must be unknown'
    got: str | None
    confidence: float

    @property
    def ok(self) -> bool:
        return self.expected == self.got


@dataclass(slots=True)
class DetectionQuality:
    cases: list[DetectionCase] = field(default_factory=list)

    @property
    def labelled(self) -> list[DetectionCase]:
        return [c for c in self.cases if c.expected is not None]

    @property
    def unknown(self) -> list[DetectionCase]:
        return [c for c in self.cases if c.expected is None]

    @property
    def top1_accuracy(self) -> float:
        """Share of labelled receipts whose best profile is the labelled one."""
        return _share(sum(c.ok for c in self.labelled), len(self.labelled))

    @property
    def wrong_profile_rate(self) -> float:
        """Share of all receipts given a profile that did not print them (worse than 'unknown')."""
        wrong = sum(c.got is not None and c.got != c.expected for c in self.cases)
        return _share(wrong, len(self.cases))

    @property
    def unknown_rate(self) -> float:
        """Share of receipts from unprofiled POS programs that come out 'unknown' (target 1.0)."""
        return _share(sum(c.got is None for c in self.unknown), len(self.unknown))

    def to_dict(self) -> dict[str, object]:
        return {
            "labelled_receipts": len(self.labelled),
            "unknown_receipts": len(self.unknown),
            "top1_accuracy": round(self.top1_accuracy, 4),
            "wrong_profile_rate": round(self.wrong_profile_rate, 4),
            "unknown_rate": round(self.unknown_rate, 4),
            "failures": [
                {"source": c.source, "receipt": c.receipt, "expected": c.expected, "got": c.got}
                for c in self.cases
                if not c.ok
            ],
        }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def corpus_cases(recordings: Path) -> Iterator[tuple[Path, list[str | None] | None]]:
    """(stream, expected profile per receipt) for the corpus; ``None`` list: every receipt is unknown."""
    for label in sorted(recordings.glob("*/*.expected.json")):
        try:
            receipts = json.loads(label.read_text(encoding="utf-8"))["receipts"]
            expected = [r["profile"] for r in receipts]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{label}: not a valid expected-output file ({exc})") from None
        if not expected:
            raise InputError(f"{label}: labels no receipts; list each receipt of the recording under 'receipts'")
        yield label.with_name(label.name.removesuffix(".expected.json") + ".klr"), expected
    for stream in sorted((recordings / "unknown").glob("*.klr")):
        yield stream, None
    labels = recordings / "samples" / SAMPLE_LABELS
    if labels.is_file():
        try:
            by_name: dict[str, str | None] = json.loads(labels.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{labels}: not valid JSON ({exc})") from None
        for name, profile_id in sorted(by_name.items()):
            yield recordings / "samples" / name, (None if profile_id is None else [profile_id])


def measure_detection(detector: Detector, recordings: Path) -> DetectionQuality:
    """Rank every receipt of the corpus and compare the best profile with its label."""
    quality = DetectionQuality()
    for stream, expected in corpus_cases(recordings):
        source = jobs.load_source(stream)
        for i, receipt in enumerate(jobs.source_receipts(source, DecodeOptions())):
            # a stream with more receipts than labels: the extra ones count as the last label's POS
            want = None if expected is None else expected[min(i, len(expected) - 1)]
            ranked = detector.rank(receipt)
            best = detector.pick(ranked)
            confidence = ranked[0].confidence if ranked else 0.0
            quality.cases.append(
                DetectionCase(str(stream.relative_to(recordings)), i, want, best.id if best else None, confidence)
            )
    return quality
