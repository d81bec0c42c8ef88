"""``klx profile new``: draft a profile from recordings of an unknown POS, check it, write it out.

The draft (core/profiles/draft.py) is checked against everything klx already knows before a file is
written: it must win on its own samples, and it must not win on any receipt labelled as another
profile's (``recordings/<other-id>/*.klr``). The output folder gets ``<id>.yaml`` and, under
``<id>/``, each sample as a ``.klr`` recording with an ``.expected.json`` that holds what the draft
reads from it — for the integrator to correct, after which ``klx profile test`` keeps it true.

A draft that reads no total, item or payment on any sample is not "ok"; outside a klx checkout (no
labelled recordings of other profiles) the report says that check could not be made.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli import __version__
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import Chunk, Header
from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector, receipt_text
from kelaile_cli.core.profiles.draft import Draft, scaffold_profile
from kelaile_cli.core.profiles.labels import LabelTable
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services import jobs
from kelaile_cli.services.capture.recorder import RecordingWriter, is_recording
from kelaile_cli.services.profiles.library import ProfileSet, bundled_dir
from kelaile_cli.services.profiles.testing import READS
from kelaile_cli.transports.files import create_private, read_blocks

__all__ = ["DraftReport", "default_recordings_dir", "draft_profile"]


@dataclass(slots=True)
class DraftReport:
    draft: Draft
    profile_file: Path
    written: list[Path] = field(default_factory=list)
    samples: int = 0  # receipts the draft was made from
    samples_detected: int = 0  # of those, how many the draft wins among all loaded profiles
    others_checked: int = 0  # receipts of other profiles' labelled recordings
    others_claimed: list[str] = field(default_factory=list)  # "file #n" the draft wrongly wins
    reading: int = 0  # samples on which the draft reads a total, items or a payment
    receipts: list[Receipt] = field(default_factory=list)  # the samples, for the interactive loop

    @property
    def others_unchecked(self) -> bool:
        """No labelled recording of another profile was found: claiming them could not be checked."""
        return self.others_checked == 0

    @property
    def ok(self) -> bool:
        return self.samples_detected == self.samples and not self.others_claimed and self.reading > 0


def default_recordings_dir() -> Path | None:
    """``recordings/`` of the source checkout klx runs from, or of the current folder."""
    for candidate in (Path("recordings"), bundled_dir().parent / "recordings"):
        if candidate.is_dir():
            return candidate
    return None


def _receipts(path: Path, options: DecodeOptions) -> list[Receipt]:
    source = jobs.load_source(path)
    return jobs.source_receipts(source, options)


def _labelled(recordings: Path | None, skip: str) -> list[tuple[str, Receipt]]:
    """Receipts of every other profile's labelled recordings: what the draft must leave alone."""
    if recordings is None:
        return []
    found = []
    for rec in sorted(recordings.glob("*/*.klr")):
        if rec.parent.name == skip or not rec.with_name(rec.stem + ".expected.json").exists():
            continue
        for receipt in _receipts(rec, DecodeOptions()):
            found.append((f"{rec.parent.name}/{rec.name} #{receipt.index + 1}", receipt))
    return found


def draft_profile(
    sources: Sequence[Path],
    profile_id: str,
    out_dir: Path,
    loaded: ProfileSet,
    *,
    name: str | None = None,
    vendor: str | None = None,
    recordings: Path | None = None,
    force: bool = False,
    labels: Sequence[LabelTable] | None = None,
) -> DraftReport:
    """Draft, check and write a profile for the POS that printed ``sources``."""
    if not sources:
        raise InputError("no recordings given", remedy="klx profile new --from a.bin b.bin … --id ID")
    profile_file = out_dir / f"{profile_id}.yaml"
    if profile_file.exists() and not force:
        raise InputError(f"{profile_file}: already exists", remedy="choose another --id or --out, or pass --force")
    samples: list[tuple[Path, list[Receipt]]] = [(p, _receipts(p, DecodeOptions())) for p in sources]
    receipts = [r for _, rs in samples for r in rs]
    if not receipts:
        raise InputError(f"{', '.join(map(str, sources))}: no receipt found in the recordings")
    others = _labelled(recordings, profile_id)
    try:
        draft = scaffold_profile(
            receipts, profile_id, name=name, vendor=vendor, negatives=[receipt_text(r) for _, r in others],
            labels=labels,
        )  # fmt: skip
    except ValueError as exc:
        raise InputError(f"cannot draft '{profile_id}': {exc}", remedy="give receipts of one POS program") from None

    report = DraftReport(draft, profile_file, samples=len(receipts), others_checked=len(others), receipts=receipts)
    competitors = [p for p in loaded.profiles if p.id != profile_id]
    detector = Detector([*competitors, draft.profile])
    report.samples_detected = sum(1 for r in receipts if (b := detector.best(r)) and b.id == profile_id)
    report.others_claimed = [label for label, r in others if (b := detector.best(r)) and b.id == profile_id]

    out_dir.mkdir(parents=True, exist_ok=True)
    profile_file.write_text(draft.yaml_text(), encoding="utf-8")
    report.written.append(profile_file)
    labelled_dir = out_dir / profile_id
    labelled_dir.mkdir(exist_ok=True)
    for path, rs in samples:
        target = labelled_dir / (path.name.split(".")[0] + ".klr")
        if is_recording(path):
            _copy_private(path, target)
        else:
            _write_as_recording(path, target)
        found = [_expected(analyse(r, detector).identity()) for r in rs]
        report.reading += sum(1 for f in found if any((f["transaction"] or {}).get(k) for k in READS))
        expected = {
            "drafted_by": f"klx {__version__} profile new: check every value before relying on it",
            "receipts": found,
        }
        label = labelled_dir / (target.stem + ".expected.json")
        with os.fdopen(create_private(label, append=False), "w", encoding="utf-8") as f:  # it holds the same data
            f.write(json.dumps(expected, ensure_ascii=False, indent=2) + "\n")
        report.written += [target, label]
    return report


def _expected(identity: dict) -> dict:
    return {key: identity[key] for key in ("profile", "kind", "transaction")}


def _write_as_recording(path: Path, target: Path) -> None:
    """A raw print job kept as a one-connection recording (capture time: the file's mtime)."""
    data = path.read_bytes()
    started = path.stat().st_mtime if path.exists() else time.time()
    with RecordingWriter(target, Header(f"file:{path.name}", started, __version__, {"drafted_from": path.name})) as w:
        for i in range(0, len(data), 4096):
            w.write(Chunk(started, "out", 0, data[i : i + 4096]))
        w.close(ended=started)


def _copy_private(src: Path, dest: Path) -> None:
    """Copy a recording (card and phone numbers) into a file only its owner can read (0600, no symlink followed)."""
    with os.fdopen(create_private(dest, append=False), "wb") as out:
        for block in read_blocks(src):
            out.write(block)
