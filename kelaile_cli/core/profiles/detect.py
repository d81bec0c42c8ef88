"""Which POS printed this receipt? Score every profile at once and rank them.

Literal signatures of all profiles live in one Aho-Corasick automaton (pyahocorasick), so a
receipt's text is scanned once however many profiles are loaded; a regular-expression signature
is tried only when its literal prefix (in the same automaton) occurs in the text. A profile's
score is the weighted share of its signatures found, nudged by habits (paper width, encoding,
cut, dialect). Confidence is that score less half the runner-up's; under the threshold the answer
is ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from kelaile_cli.core.profiles.profile import Profile
from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["DEFAULT_THRESHOLD", "Candidate", "Detector", "literal_prefix", "receipt_text"]

DEFAULT_THRESHOLD = 0.5
HABIT_WEIGHT = 0.15  # habits can move a score by at most this much
MIN_TRIGGER = 2  # a regex's literal prefix must be this long to act as its trigger


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
        self._by_id = {p.id: p for p in self.profiles}
        self.threshold = threshold
        self._automaton = ahocorasick.Automaton()
        # word -> [(profile, signature, regex or None)]: a literal signature is found when its word
        # is; a regex signature whose literal prefix is the word is *tried* only when the word is.
        words: dict[str, list[tuple[int, int, re.Pattern[str] | None]]] = {}
        self._always: list[tuple[int, int, re.Pattern[str]]] = []  # regexes with no usable prefix
        self._totals = []
        for p_i, profile in enumerate(self.profiles):
            self._totals.append(sum(s.weight for s in profile.detect.signatures))
            for s_i, sig in enumerate(profile.detect.signatures):
                if sig.text is not None:
                    words.setdefault(sig.text, []).append((p_i, s_i, None))
                elif sig.regex is not None:
                    rx = re.compile(sig.regex)
                    prefix = literal_prefix(sig.regex)
                    if len(prefix) >= MIN_TRIGGER:
                        words.setdefault(prefix, []).append((p_i, s_i, rx))
                    else:
                        self._always.append((p_i, s_i, rx))
        for word, owners in words.items():
            self._automaton.add_word(word, owners)
        if words:
            self._automaton.make_automaton()
        self._has_words = bool(words)

    def rank(self, receipt: Receipt) -> list[Candidate]:
        """Profiles that match at all, best first, with calibrated confidences."""
        text = receipt_text(receipt)
        found: dict[int, set[int]] = {}
        tried: set[tuple[int, int]] = set()
        if self._has_words:
            for _, owners in self._automaton.iter(text):
                for p_i, s_i, rx in owners:
                    if rx is None:
                        found.setdefault(p_i, set()).add(s_i)
                    elif (p_i, s_i) not in tried:
                        tried.add((p_i, s_i))
                        if rx.search(text):
                            found.setdefault(p_i, set()).add(s_i)
        for p_i, s_i, rx in self._always:
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

    def pick(self, ranked: list[Candidate]) -> Candidate | None:
        """The winner of a ranking, or None ('unknown') under the threshold."""
        return ranked[0] if ranked and ranked[0].confidence >= self.threshold else None

    def best(self, receipt: Receipt) -> Candidate | None:
        """The winning profile, or None ('unknown') under the threshold."""
        return self.pick(self.rank(receipt))

    def profile(self, profile_id: str) -> Profile:
        """The loaded profile with this id."""
        return self._by_id[profile_id]


def literal_prefix(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with ('' if none is certain)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not nxt or nxt.isalnum():  # \d, \s, \b …: a class, not a literal
                break
            ch, step = nxt, 2
        elif ch in ".^$*+?{}[]|()":
            if ch == "^" and not out:
                i += 1
                continue
            break
        else:
            step = 1
        following = pattern[i + step : i + step + 1]
        if following and following in "*?{":  # this character is optional or repeated: stop before it
            break
        if following == "|":
            return ""  # an alternation at the top level: no common prefix
        out.append(ch)
        i += step
    if "|" in pattern:  # alternation somewhere: only trust a prefix when the whole pattern is one branch
        return ""
    return "".join(out)


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
