"""The guided loop of ``klx profile new --interactive``: each sample beside what the draft reads, and a
fix by pointing at a line (the fix becomes a rule), every sample re-checked after each change.

The session holds the draft document and the samples; the CLI shows ``rows()`` and calls ``fix``;
``save`` writes the profile and renews the expected files (as ``klx profile accept`` does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import receipt_text
from kelaile_cli.core.profiles.draft import Draft
from kelaile_cli.core.profiles.extract import Transaction, extract
from kelaile_cli.core.profiles.pointing import rule_from_line
from kelaile_cli.core.profiles.profile import Profile, ProfileError, parse_profile
from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["SHOWN", "Session"]

SHOWN = ("kind", "order_no", "datetime", "items", "subtotal", "discount", "tax", "total", "payments", "change")


@dataclass(slots=True)
class Session:
    draft: Draft
    receipts: Sequence[Receipt]
    changes: list[str] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        return self.draft.profile

    def lines(self, sample: int) -> list[str]:
        """The text lines of sample ``sample`` (0-based), as the rules see them."""
        return [ln.text for ln in self._receipt(sample).lines]

    def read(self, sample: int) -> Transaction:
        receipt = self._receipt(sample)
        return extract(self.profile.fields, self.lines(sample), self.profile.kind_of(receipt_text(receipt)))

    def rows(self, sample: int) -> list[tuple[str, str]]:
        """(field, value as read) for the fields the integrator checks; '—' where nothing is read."""
        tx = self.read(sample)
        out = []
        for name in SHOWN:
            value: Any = getattr(tx, name)
            if name == "items":
                value = "; ".join(f"{i.name} ×{i.quantity} {i.amount}" for i in tx.items)
            elif name == "payments":
                value = "; ".join(f"{p.method} {p.amount}" for p in tx.payments)
            out.append((name, str(value) if value not in (None, "") else "—"))
        return out

    def reading(self, name: str) -> int:
        """On how many samples the field reads a value."""
        key = "payments" if name.startswith("payment:") else name
        return sum(1 for i in range(len(self.receipts)) if getattr(self.read(i), key) not in (None, [], ""))

    def fix(self, name: str, sample: int, line_no: int) -> str:
        """Make ``name`` read from line ``line_no`` (1-based) of sample ``sample``; returns a summary."""
        lines = self.lines(sample)
        if not 1 <= line_no <= len(lines):
            raise InputError(f"sample {sample + 1} has lines 1–{len(lines)}, not {line_no}")
        try:
            key, rule = rule_from_line(name, lines[line_no - 1])
        except ValueError as exc:
            raise InputError(f"sample {sample + 1} line {line_no}: {exc}") from None
        document = json.loads(json.dumps(self.draft.document))  # a deep copy to try the change on
        fields = document.setdefault("fields", {})
        if key == "payments":
            fields["payments"] = [p for p in fields.get("payments", []) if p["method"] != rule["method"]] + [rule]
        else:
            fields[key] = rule
        try:
            profile = parse_profile(yaml.safe_dump(document, allow_unicode=True), f"<draft {document['id']}>")
        except ProfileError as exc:
            raise InputError(f"the rule does not fit the profile: {exc}") from None
        self.draft = Draft(document, profile, self.draft.notes)
        summary = f"{name}: now read on {self.reading(name)}/{len(self.receipts)} samples"
        self.changes.append(summary)
        return summary

    def save(self, profile_file: Path) -> None:
        profile_file.write_text(self.draft.yaml_text(), encoding="utf-8")

    def _receipt(self, sample: int) -> Receipt:
        if not 0 <= sample < len(self.receipts):
            raise InputError(f"there are samples 1–{len(self.receipts)}, not {sample + 1}")
        return self.receipts[sample]
