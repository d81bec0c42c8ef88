"""What a replay sends: recordings (files or directories) decoded, detected and extracted once, up front.

Each receipt a known profile recognises becomes an ``Item`` holding the exact upload body a box would
send, its receipt digest (for the idempotency key) and its recorded time. Anything that cannot be
replayed — an unreadable or corrupt file, a receipt of an unknown POS, a broken ``*.expected.json`` —
becomes a ``Problem`` (one line for the report) and the rest goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kelaile_cli.core.cloud.protocol import receipt_digest
from kelaile_cli.core.errors import InputError, KlxError
from kelaile_cli.core.formats.recording import TO_PRINTER
from kelaile_cli.core.profiles.analysis import analyse, upload_body
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs

__all__ = ["RECORDING_SUFFIXES", "Item", "Problem", "Workload", "expected_path", "find_recordings", "load_workload"]

RECORDING_SUFFIXES = (".klr", ".klr.gz", ".bin", ".prn", ".pcap", ".pcapng")
UNTIMED_GAP_S = 1.0  # receipts of a raw print file carry no time: as recorded, they are this far apart


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the replay could not do, as one line: ``source: message``."""

    source: str
    kind: str  # unreadable | corrupt | unknown_pos | no_receipts | expected | cloud | credentials | …
    message: str

    def line(self) -> str:
        return f"{self.source}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class Item:
    """One replayable receipt."""

    recording: str
    index: int  # the receipt's index within its recording
    at: float  # seconds after the recording's first receipt (as recorded)
    digest: str  # SHA-256 of the receipt's raw print bytes
    copy: int  # how many earlier items have the same digest (byte-identical re-prints)
    body: bytes  # the upload body (JSON), encoded once
    identity: dict[str, Any]  # profile, kind, transaction: what a comparison looks at
    expected: dict[str, Any] | None  # this receipt's entry of the *.expected.json beside the recording

    @property
    def name(self) -> str:
        return f"{self.recording}#{self.index}"


@dataclass(slots=True)
class Workload:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    recordings: int = 0

    @property
    def copies(self) -> int:
        """The largest number of byte-identical receipts: occurrences per pass."""
        return max((i.copy for i in self.items), default=0) + 1

    @property
    def span_s(self) -> float:
        """Length of one pass as recorded (last receipt's time, plus one gap so passes do not overlap)."""
        return max((i.at for i in self.items), default=0.0) + UNTIMED_GAP_S


def expected_path(recording: Path) -> Path:
    """``x.klr`` → ``x.expected.json`` (also for ``x.klr.gz``)."""
    name = recording.name
    for suffix in sorted(RECORDING_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return recording.with_name(name[: -len(suffix)] + ".expected.json")
    return recording.with_name(recording.stem + ".expected.json")


def find_recordings(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Files named directly, and recordings found (recursively, sorted) in directories."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(RECORDING_SUFFIXES))
            if not found:
                kinds = ", ".join(RECORDING_SUFFIXES)
                problems.append(Problem(str(path), "no_receipts", f"no recordings ({kinds}) in this directory"))
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), "unreadable", "no such file or directory"))
    return files, problems


def _expected(recording: Path) -> tuple[list[dict[str, Any]] | None, Problem | None]:
    label = expected_path(recording)
    if not label.is_file():
        return None, None
    try:
        receipts = json.loads(label.read_text(encoding="utf-8"))["receipts"]
        if not isinstance(receipts, list):
            raise TypeError("'receipts' is not a list")
        return receipts, None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, Problem(str(label), "expected", f"not a valid expected-output file ({exc}); not compared")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def load_workload(paths: list[Path], detector: Detector, options: DecodeOptions | None = None) -> Workload:
    """Decode, detect and extract every recording; never raises for one bad file."""
    options = options or DecodeOptions()
    files, problems = find_recordings(paths)
    work = Workload(problems=problems)
    seen: Counter[str] = Counter()
    for path in files:
        try:
            source = jobs.load_source(path)
            receipts = jobs.source_receipts(source, options)
        except KlxError as exc:
            kind = "corrupt" if isinstance(exc, InputError) else "unreadable"
            message = str(exc).removeprefix(f"{path}:").strip()
            line, sep, rest = message.partition(": ")
            if sep and line.isdigit():
                message = f"line {line}: {rest}"
            work.problems.append(Problem(str(path), kind, f"{message}; skipped, the rest goes on"))
            continue
        work.recordings += 1
        if not receipts:
            work.problems.append(Problem(str(path), "no_receipts", "no print jobs found; nothing to replay"))
            continue
        expected, bad_label = _expected(path)
        if bad_label:
            work.problems.append(bad_label)
        streams: dict[int | None, bytes] = {}
        first = next((r.timestamp for r in receipts if r.timestamp is not None), None)
        unknown: list[int] = []
        for receipt in receipts:
            conn = receipt.connection
            if conn not in streams:
                rec = source.recording
                streams[conn] = rec.stream(TO_PRINTER, conn) if rec is not None and conn is not None else source.data
            raw = streams[conn][receipt.start : receipt.end]
            analysis = analyse(receipt, detector)
            if analysis.profile is None:
                unknown.append(receipt.index)
                continue
            digest = receipt_digest(raw)
            stamp = receipt.timestamp
            at = stamp - first if stamp is not None and first is not None else receipt.index * UNTIMED_GAP_S
            body = upload_body(analysis, digest, _iso(stamp) if stamp is not None else None)
            identity = analysis.identity()
            want = expected[receipt.index] if expected is not None and receipt.index < len(expected) else None
            item = Item(str(path), receipt.index, max(0.0, at), digest, seen[digest], _encode(body),
                        {k: identity[k] for k in ("profile", "kind", "transaction")}, want)  # fmt: skip
            seen[digest] += 1
            work.items.append(item)
        if unknown:
            which = ", ".join(str(i) for i in unknown)
            work.problems.append(Problem(str(path), "unknown_pos",
                                         f"receipt{'s' if len(unknown) > 1 else ''} {which}: unknown POS (no profile "
                                         "matched), not uploaded; add a profile (--profiles DIR)"))  # fmt: skip
        if expected is not None and len(expected) != len(receipts):
            count = f"expects {len(expected)} receipts, the recording has {len(receipts)}"
            work.problems.append(Problem(str(expected_path(path)), "expected", count))
    return work
