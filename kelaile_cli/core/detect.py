"""Which POS printed this receipt? Score every profile at once and rank them.

Literal signatures of all profiles live in one Aho-Corasick automaton (pyahocorasick), so a
receipt's text is scanned once however many profiles are loaded; regular-expression signatures
(rarer) are tried only for profiles that have them. A profile's score is the weighted share of its
signatures found, nudged by habits (paper width, encoding, cut, dialect). Confidence is that score
with a penalty when a second profile scores almost as well; under the threshold the answer is
``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from kelaile_cli.core.profile import Profile
from kelaile_cli.core.receipt import Receipt

__all__ = ["DEFAULT_THRESHOLD", "Candidate", "Detector", "receipt_text"]

DEFAULT_THRESHOLD = 0.5
HABIT_WEIGHT = 0.15  # habits can move a score by at most this much


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    confidence: float
    matched: tuple[str, ...]  # the signatures found


def receipt_text(receipt: Receipt) -> str:
    """The text a detector reads: every line, joined by newlines."""
    return "\n".join(line.text for line in receipt.lines)


class Detector:
    """Built once for a set of profiles; ``rank`` is cheap per receipt."""

    def __init__(self, profiles: Sequence[Profile], threshold: float = DEFAULT_THRESHOLD) -> None:
        self.profiles = list(profiles)
        self.threshold = threshold
        self._automaton = ahocorasick.Automaton()
        literal: dict[str, list[tuple[int, int]]] = {}  # text -> [(profile index, signature index)]
        self._regexes: list[tuple[int, int, re.Pattern[str]]] = []
        self._totals = []
        for p_i, profile in enumerate(self.profiles):
            self._totals.append(sum(s.weight for s in profile.detect.signatures))
            for s_i, sig in enumerate(profile.detect.signatures):
                if sig.text is not None:
                    literal.setdefault(sig.text, []).append((p_i, s_i))
                elif sig.regex is not None:
                    self._regexes.append((p_i, s_i, re.compile(sig.regex)))
        for text, owners in literal.items():
            self._automaton.add_word(text, owners)
        if literal:
            self._automaton.make_automaton()
        self._has_literals = bool(literal)

    def rank(self, receipt: Receipt) -> list[Candidate]:
        """Profiles that match at all, best first, with calibrated confidences."""
        text = receipt_text(receipt)
        found: dict[int, set[int]] = {}
        if self._has_literals:
            for _, owners in self._automaton.iter(text):
                for p_i, s_i in owners:
                    found.setdefault(p_i, set()).add(s_i)
        for p_i, s_i, rx in self._regexes:
            if rx.search(text):
                found.setdefault(p_i, set()).add(s_i)
        scored = []
        for p_i, sigs in found.items():
            profile = self.profiles[p_i]
            coverage = sum(profile.detect.signatures[s].weight for s in sigs) / self._totals[p_i]
            score = (1 - HABIT_WEIGHT) * coverage + HABIT_WEIGHT * _habits(profile, receipt)
            names = tuple(
                profile.detect.signatures[s].text or profile.detect.signatures[s].regex or "" for s in sorted(sigs)
            )
            scored.append((score, profile.id, names))
        scored.sort(key=lambda item: (-item[0], item[1]))
        out = []
        for rank, (score, pid, names) in enumerate(scored):
            # the winner loses half of what the runner-up scored: a close second means less certainty
            runner_up = scored[1][0] if rank == 0 and len(scored) > 1 else 0.0
            out.append(Candidate(pid, round(max(0.0, min(1.0, score - 0.5 * runner_up)), 3), names))
        return out

    def best(self, receipt: Receipt) -> Candidate | None:
        """The winning profile, or None ('unknown') under the threshold."""
        ranked = self.rank(receipt)
        return ranked[0] if ranked and ranked[0].confidence >= self.threshold else None


def _habits(profile: Profile, receipt: Receipt) -> float:
    """Share of the profile's stated habits that this receipt shows (1.0 when it states none)."""
    checks = []
    checks.append(profile.printer.width == receipt.width)
    if profile.printer.encoding:
        checks.append(profile.printer.encoding.replace("-", "_") == receipt.encoding)
    habits = profile.detect.habits
    if habits.cut:
        checks.append((receipt.cut or "none") == habits.cut)
    if habits.dialect:
        checks.append(receipt.dialect == habits.dialect)
    return sum(checks) / len(checks)
