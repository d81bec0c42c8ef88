"""Which POS printed this receipt? Score every profile at once and rank them.

Literal signatures of all profiles live in one word matcher (``WordFinder``: the words as tries
written as regular expressions, one per first character, or one for all with many profiles), so
a receipt's text is scanned once per first character however many profiles share it (and only
when the text holds the rarest characters of one of its words); a regular-expression signature is
tried only when its literal prefix (one more word of the same matcher) occurs in the text, and only
where it does. A profile's
score is the weighted share of its signatures found, nudged by habits (paper width, encoding,
cut, dialect). Confidence is that score less half the runner-up's; under the threshold the answer
is ``unknown``.

Detection reads only ``ProfileRules``: each profile's signatures and habits as plain tuples (no
pydantic model), which a profile library can cache and load in one read. A detector built from
rules asks its ``load`` callback for the full ``Profile`` of a winner only (``Detector.profile``).
Regular expressions are compiled when first tried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, Generic, NamedTuple, TypeVar

from kelaile_cli.core.stream.receipt import Receipt, joined_line_texts

if TYPE_CHECKING:  # detection needs no pydantic model: rules are plain data
    from kelaile_cli.core.profiles.profile import Profile

__all__ = ["DEFAULT_THRESHOLD", "Candidate", "Detector", "ProfileRules", "WordFinder", "literal_prefix", "receipt_text"]

DEFAULT_THRESHOLD = 0.5
HABIT_WEIGHT = 0.15  # habits can move a score by at most this much
MIN_TRIGGER = 2  # a regex's literal prefix must be this long to act as its trigger
GROUPED_MAX = 64  # WordFinder: one trie per first character up to this many first characters

T = TypeVar("T")

#: one signature: (literal text or None, regular expression or None, weight)
SignatureRule = tuple[str | None, str | None, float]


class ProfileRules(NamedTuple):
    """What detection reads of one profile, as plain data (``tuple(rules)`` is marshal-able)."""

    id: str
    signatures: tuple[SignatureRule, ...]
    width: int
    encoding: str | None
    cut: str | None
    dialect: str | None

    @classmethod
    def of(cls, profile: Profile) -> ProfileRules:
        """The rules of a validated profile."""
        habits = profile.detect.habits
        return cls(
            profile.id,
            tuple((s.text, s.regex, float(s.weight)) for s in profile.detect.signatures),
            profile.printer.width,
            profile.printer.encoding,
            habits.cut,
            habits.dialect,
        )


class Candidate:
    """A profile that matched a receipt: its id, calibrated confidence and the signatures found.

    Treated as immutable. A plain class, not a frozen dataclass: a dataclass costs every start of ``klx``
    the ``dataclasses`` module and the code its decorator writes. Equality, hash and repr as the
    dataclass had.
    """

    def __init__(self, id: str, confidence: float, matched: tuple[str, ...]) -> None:
        self.id = id
        self.confidence = confidence
        self.matched = matched  # the signatures found

    def _fields(self) -> tuple[str, float, tuple[str, ...]]:
        return (self.id, self.confidence, self.matched)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Candidate) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Candidate(id={self.id!r}, confidence={self.confidence!r}, matched={self.matched!r})"


def receipt_text(receipt: Receipt) -> str:
    """The text a detector reads: every line, joined by newlines."""
    return joined_line_texts(receipt)


#: where a word of the automaton leads: (profile index, signature index, regex or None)
_Owner = tuple[int, int, str | None]


class Detector:
    """Built once for a set of profiles; ``rank`` is cheap per receipt.

    Give either validated ``profiles`` or their ``rules`` with ``load`` (profile id -> its ``Profile``,
    called only for a winner's fields and kinds).
    """

    def __init__(
        self,
        profiles: Sequence[Profile] = (),
        threshold: float = DEFAULT_THRESHOLD,
        *,
        rules: Sequence[ProfileRules] | None = None,
        load: Callable[[str], Profile] | None = None,
    ) -> None:
        self.profiles = list(profiles)
        self._models: dict[str, Profile] = {p.id: p for p in self.profiles}
        self.rules = list(rules) if rules is not None else [ProfileRules.of(p) for p in self.profiles]
        self._load = load
        self.threshold = threshold
        self._compiled: dict[str, re.Pattern[str]] = {}
        # word -> [(profile, signature, regex or None)]: a literal signature is found when its word
        # is; a regex signature whose literal prefix is the word is *tried* only when the word is.
        words: dict[str, list[_Owner]] = {}
        #: regexes with no prefix long enough to be a word of the matcher, and their prefix ('' if none):
        #: a regex is searched only when its prefix is in the text (``in``: a ``memchr``)
        self._always: list[tuple[int, int, str, str]] = []
        self._totals: list[float] = []
        for p_i, rule in enumerate(self.rules):
            self._totals.append(sum(weight for _, _, weight in rule.signatures))
            for s_i, (text, regex, _) in enumerate(rule.signatures):
                if text is not None:
                    words.setdefault(text, []).append((p_i, s_i, None))
                elif regex is not None:
                    prefix = literal_prefix(regex)
                    if len(prefix) >= MIN_TRIGGER:
                        words.setdefault(prefix, []).append((p_i, s_i, regex))
                    else:
                        self._always.append((p_i, s_i, regex, prefix))
        self._finder = WordFinder(words)

    def _regex(self, regex: str) -> re.Pattern[str]:
        compiled = self._compiled.get(regex)
        if compiled is None:
            compiled = self._compiled[regex] = re.compile(regex)
        return compiled

    def _search(self, regex: str, text: str) -> bool:
        return self._regex(regex).search(text) is not None

    def _match_at(self, regex: str, text: str, starts: list[int]) -> bool:
        """Whether ``regex`` matches where its literal prefix starts: every match of it starts there, so
        this is its ``search`` without walking the rest of the text."""
        match = self._regex(regex).match
        return any(match(text, start) is not None for start in starts)

    def rank(self, receipt: Receipt, text: str | None = None) -> list[Candidate]:
        """Profiles that match at all, best first, with calibrated confidences. ``text``: the
        receipt's ``receipt_text`` when the caller has it already."""
        if text is None:
            text = receipt_text(receipt)
        found: dict[int, set[int]] = {}
        tried: set[tuple[int, int]] = set()
        for owners, starts in self._finder.found_at(text):
            for p_i, s_i, rx in owners:
                if rx is None:
                    found.setdefault(p_i, set()).add(s_i)
                elif (p_i, s_i) not in tried:
                    tried.add((p_i, s_i))
                    if self._match_at(rx, text, starts):
                        found.setdefault(p_i, set()).add(s_i)
        for p_i, s_i, rx, prefix in self._always:
            if prefix in text and self._search(rx, text):
                found.setdefault(p_i, set()).add(s_i)
        scored = []
        for p_i, sigs in found.items():
            rule = self.rules[p_i]
            coverage = sum(rule.signatures[s][2] for s in sigs) / self._totals[p_i]
            score = (1 - HABIT_WEIGHT) * coverage + HABIT_WEIGHT * _habits(rule, receipt)
            names = tuple(rule.signatures[s][0] or rule.signatures[s][1] or "" for s in sorted(sigs))
            scored.append((score, rule.id, names))
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
        """The full profile with this id (from ``load`` the first time, for a detector built from rules)."""
        found = self._models.get(profile_id)
        if found is None:
            if self._load is None or all(r.id != profile_id for r in self.rules):
                raise KeyError(profile_id)
            found = self._models[profile_id] = self._load(profile_id)
        return found


class WordFinder(Generic[T]):
    """Which of a fixed set of words occur in a text (anywhere, overlapping ones included).

    The words are regular expressions of their trie, written as nested alternatives, each word's
    continuations optional and tried first (``永福超市(?:感謝您)?``), so a match is the longest word
    starting at its position; the words found at a position are the longest one and those of the
    words that are its prefixes. A search resumes one character after each match's start, so words
    starting inside another are found too. Empty words are never found.

    With few distinct first characters (``grouped_max``; a few dozen profiles) there is one trie per
    first character, searched only when ``str``'s ``in`` (a ``memchr``) sees that character in the
    text, and the two rarest characters of one of its words too (``rarest_chars``: a group whose first
    character is a common letter is not searched for a word whose other letters the text lacks),
    and compiled the first time it is: most receipts contain few of those characters, and a
    trie that starts with a literal is looked for with ``re``'s fast literal scan, instead of ``re``
    testing every character against the set of all first characters (a big-character-set lookup
    per character of a CJK text, and a stop at every common one such as a digit). With more first
    characters, one trie of all the words, whose first-character set ``re`` checks in C.
    """

    __slots__ = ("_ascii_groups", "_compiled", "_groups", "_pattern", "_prefixes", "_words")

    def __init__(self, words: dict[str, T], grouped_max: int = GROUPED_MAX) -> None:
        self._words = {w: v for w, v in words.items() if w}
        #: word -> it and every word that is a prefix of it
        self._prefixes: dict[str, tuple[str, ...]] = {
            w: tuple(w[:n] for n in range(len(w), 0, -1) if w[:n] in self._words) for w in self._words
        }
        by_first: dict[str, list[str]] = {}
        for word in sorted(self._words):
            by_first.setdefault(word[0], []).append(word)
        #: (first character, the rarest characters of each word of its group, the words starting with it),
        #: when there are few first characters
        self._groups: list[tuple[str, list[str], list[str]]] = []
        #: the groups of ASCII words: all an ASCII text (``str.isascii``: a flag) can have
        self._ascii_groups: list[tuple[str, list[str], list[str]]] = []
        self._compiled: dict[str, re.Pattern[str]] = {}  # first character -> its group's trie, once needed
        self._pattern: re.Pattern[str] | None = None
        if len(by_first) <= grouped_max:
            for first, group in by_first.items():
                probes = list(dict.fromkeys(_probe(w) for w in group))
                self._groups.append((first, probes, group))
                ascii_words = [w for w in group if w.isascii()]
                if ascii_words:
                    ascii_probes = list(dict.fromkeys(_probe(w) for w in ascii_words))
                    self._ascii_groups.append((first, ascii_probes, group))
        else:
            self._pattern = re.compile(_trie_pattern(sorted(self._words)))

    def found(self, text: str) -> list[T]:
        """The values of the words that occur in ``text``, each once, in the order they first occur."""
        return [value for value, _ in self.found_at(text)]

    def found_at(self, text: str) -> list[tuple[T, list[int]]]:
        """``found``, each value with the positions where its word starts in ``text``."""
        if self._pattern is not None:
            return self._seen(_matches(self._pattern, text))
        matches: list[tuple[int, str]] = []
        for first, probes, group in self._ascii_groups if text.isascii() else self._groups:
            # a word occurs only where its first character and its two rarest ones do: each a memchr
            if first in text and _any_all_in(probes, text):
                pattern = self._compiled.get(first)
                if pattern is None:
                    pattern = self._compiled[first] = re.compile(_trie_pattern(group))
                matches.extend(_matches(pattern, text))
        if not matches:
            return []
        if len(matches) > 1:  # in text order, as one trie of all the words finds them
            matches.sort()  # (start, word): one match per position
        return self._seen(matches)

    def _seen(self, matches: list[tuple[int, str]]) -> list[tuple[T, list[int]]]:
        seen: dict[str, list[int]] = {}
        prefixes = self._prefixes
        for start, longest in matches:
            for word in prefixes[longest]:  # the words found at a position: the longest and its prefixes
                starts = seen.get(word)
                if starts is None:
                    seen[word] = [start]
                else:
                    starts.append(start)
        words = self._words
        return [(words[w], starts) for w, starts in seen.items()]


#: characters common in receipts' text, most common first: blanks, digits and the signs of amounts,
#: then letters by their frequency in English text (upper case as lower case). Any other character
#: (other signs, letters of other scripts) is rarer than all of them.
_COMMON_CHARS: Final = " 0123456789.,:-/*=xX" + "".join(c + c.upper() for c in "etaoinshrdlcumwfgypbvkjqz")
_RARITY: Final = {ch: i for i, ch in enumerate(_COMMON_CHARS)}


def rarest_char(word: str) -> str:
    """The character of ``word`` (non-empty) least likely to be in a receipt's text (the first of equals)."""
    best = word[0]
    best_rank = _RARITY.get(best, len(_RARITY))
    for ch in word:
        rank = _RARITY.get(ch, len(_RARITY))
        if rank > best_rank:
            best, best_rank = ch, rank
    return best


def rarest_chars(word: str, n: int = 2) -> str:
    """The ``n`` distinct characters of ``word`` least likely to be in a receipt's text, rarest first
    (fewer when it has fewer)."""
    out = ""
    rest = word
    while rest and len(out) < n:
        ch = rarest_char(rest)
        out += ch
        rest = rest.replace(ch, "")
    return out


def _probe(word: str) -> str:
    """What to look for besides a word's first character (looked for anyway): its two rarest others."""
    return rarest_chars(word[1:].replace(word[0], ""))


def _any_all_in(probes: list[str], text: str) -> bool:
    """Whether every character of one of ``probes`` is in ``text`` (each ``in`` a ``memchr``)."""
    return any(all(ch in text for ch in chars) for chars in probes)  # mypyc: loops


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, str]]:
    """(start, the longest word there) at each position where a word starts (the search resumes after
    each start)."""
    out: list[tuple[int, str]] = []
    search = pattern.search
    m = search(text)
    while m is not None:
        start = m.start()
        out.append((start, m.group()))
        m = search(text, start + 1)
    return out


def _trie_pattern(words: list[str]) -> str:
    """A regular expression matching exactly ``words`` (non-empty), the longest word at a position first."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def alternatives(node: dict[str, dict]) -> list[str]:
        return [re.escape(ch) + below(child) for ch, child in node.items() if ch]

    def below(node: dict[str, dict]) -> str:
        alts = alternatives(node)
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(alts) > 1 or len(alts[0]) > 1 else body + "?"

    # the top level unwrapped: ``re`` then takes the first characters of its alternatives as the
    # set of positions worth trying
    return "|".join(alternatives(trie))


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


def _habits(rule: ProfileRules, receipt: Receipt) -> float:
    """Share of the profile's stated habits that this receipt shows (1.0 when it states none)."""
    checks = []
    checks.append(rule.width == receipt.width)
    if rule.encoding:
        checks.append(rule.encoding.replace("-", "_") == receipt.encoding)
    if rule.cut:
        checks.append((receipt.cut or "none") == rule.cut)
    if rule.dialect:
        checks.append(receipt.dialect == rule.dialect)
    return sum(checks) / len(checks)
