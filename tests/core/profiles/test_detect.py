"""The detector's word matcher: exactly the words that occur in a text, overlapping ones included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.profiles.detect import GROUPED_MAX, Candidate, WordFinder, rarest_char, rarest_chars

# few letters, so words overlap, nest and share prefixes; regex metacharacters and CJK among them
ALPHABET = st.sampled_from(list("ab.c\\(|*永福超市感謝您 \n"))
WORD = st.text(ALPHABET, max_size=5)


@given(st.lists(WORD, max_size=8), st.text(ALPHABET, max_size=40), st.sampled_from([GROUPED_MAX, 0]))
@settings(max_examples=400, deadline=None)
def test_finds_exactly_the_words_in_the_text(words: list[str], text: str, grouped_max: int) -> None:
    """Either way of matching (one trie per first character, or one trie of all the words when there are
    more first characters than ``grouped_max``): the same words, in the order they first occur."""
    values = {w: i for i, w in enumerate(dict.fromkeys(words))}
    found = WordFinder(values, grouped_max).found(text)
    assert len(found) == len(set(found))  # each word once, however often it occurs
    assert set(found) == {v for w, v in values.items() if w and w in text}
    assert found == _in_text_order(values, text)


def _in_text_order(values: dict[str, int], text: str) -> list[int]:
    """The words of ``text`` as a left-to-right scan meets them: by position, a longer word first."""
    hits = sorted((i, -len(w)) for w in values if w for i in range(len(text)) if text.startswith(w, i))
    order: dict[int, None] = {}
    for i, negative_length in hits:
        order[values[text[i : i - negative_length]]] = None
    return list(order)


def test_nested_and_prefix_words() -> None:
    words = {"永福超市": 1, "永福超市感謝您": 2, "祥云酒家": 3, "多谢光临 祥云酒家": 4, "VISA ": 5, "Kasse ": 6}
    finder = WordFinder(words)
    assert sorted(finder.found("谢谢 永福超市感謝您!")) == [1, 2]  # a word and its prefix at one position
    assert sorted(finder.found("多谢光临 祥云酒家")) == [3, 4]  # a word inside another
    assert sorted(finder.found("VISA VISA Kasse 1")) == [5, 6]
    assert finder.found("nothing here") == []
    assert finder.found("祥云酒家 永福超市") == [3, 1]  # in the order they occur
    assert finder.found("Kasse VISA ") == [6, 5]  # an ASCII text: the words starting with ASCII only


def test_a_group_is_searched_only_when_the_rarest_characters_of_a_word_are_in_the_text() -> None:
    assert rarest_char("THE CROOKED THISTLE") == "K"
    assert rarest_char("Check #") == "#"  # a sign outside the common ones
    assert rarest_char("12 place du Marché") == "é"  # a letter of no common kind
    assert rarest_char("永福超市") == "永"  # equals: the first
    assert rarest_chars("THE CROOKED THISTLE") == "KC"
    assert rarest_chars("Backstube Sonnenkorn") == "kB"
    assert rarest_chars("ackstube Sonnenkorn") == "kb"  # what is looked for besides the first character
    assert rarest_chars("VV") == "V"  # distinct characters
    assert rarest_chars("") == ""
    finder = WordFinder({"THE CROOKED THISTLE": 1, "Check #": 2, "Backstube Sonnenkorn": 3})
    # B and k are in the text ("milk"), b is not: Backstube's group is not searched
    assert finder.found("Whole milk x2\nBananas x1\nBread x3") == []
    # T and C are in the text, K and # are not: neither group's trie is searched (nor compiled)
    assert finder.found("TOTAL 12.00\nCASH 12.00\nCHANGE 0.00") == []
    assert finder._compiled == {}
    assert finder.found("Check #12 THE CROOKED THISTLE, Backstube Sonnenkorn") == [2, 1, 3]


def test_many_first_characters_make_one_trie() -> None:
    words = {chr(0x4E00 + i) + "号": i for i in range(GROUPED_MAX + 1)}  # more first characters than grouped
    text = "".join(sorted(words, reverse=True)[:3]) + " 一"
    assert WordFinder(words).found(text) == [GROUPED_MAX, GROUPED_MAX - 1, GROUPED_MAX - 2]


def test_no_words() -> None:
    assert WordFinder({}).found("anything") == []
    assert WordFinder({"": 1}).found("anything") == []  # an empty word is never found


def test_candidate_compares_hashes_and_reads_as_the_dataclass_did() -> None:
    a, b = Candidate("p", 0.5, ("x",)), Candidate("p", 0.5, ("x",))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Candidate("p", 0.5, ("y",)) and a != ("p", 0.5, ("x",))
    assert repr(a) == "Candidate(id='p', confidence=0.5, matched=('x',))"


def test_a_regex_signature_is_tried_at_every_start_of_its_prefix() -> None:
    """A regex signature is matched where its literal prefix starts (every match of it starts there): the
    first ``VISA `` is not followed by the masked card number, the second is."""
    from kelaile_cli.core.profiles.detect import Detector, ProfileRules
    from kelaile_cli.core.stream.receipt import Receipt

    rules = ProfileRules("p", ((None, r"VISA \*{4}\d{4}", 1.0),), 42, None, None, None)
    detector = Detector(rules=[rules], load=lambda _: None)  # type: ignore[arg-type,return-value]
    receipt = Receipt(0, [], 0, 0, "cp437", 42)
    assert [c.id for c in detector.rank(receipt, "VISA ok\nVISA ****1234\n")] == ["p"]
    assert detector.rank(receipt, "VISA ok\nVISA 1234\n") == []
    assert detector.rank(receipt, "PAID VISA **** 1234") == []
