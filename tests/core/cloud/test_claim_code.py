"""Claim codes: typeable, self-checking, forgiving about how they are typed."""

from __future__ import annotations

import itertools
import random

from kelaile_cli.core.cloud.claim_code import (
    ALPHABET,
    check_symbol,
    format_code,
    make_code,
    normalise_code,
    parse_ttl,
)


def _code(seed: int) -> str:
    rng = random.Random(seed)
    return make_code("".join(rng.choice(ALPHABET) for _ in range(8)))


def test_alphabet_leaves_out_confusable_symbols() -> None:
    assert not set("0O1ILUV") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 29


def test_a_code_typed_in_lower_case_with_spaces_is_accepted() -> None:
    code = _code(1)
    typed = format_code(code).lower().replace("-", " ")
    assert normalise_code(typed) == (code, None)


def test_every_single_wrong_symbol_is_caught() -> None:
    for seed in range(20):
        code = _code(seed)
        for i, other in itertools.product(range(9), ALPHABET):
            if other == code[i]:
                continue
            typo = code[:i] + other + code[i + 1 :]
            assert normalise_code(typo)[0] is None, typo


def test_every_swap_of_neighbours_is_caught() -> None:
    for seed in range(50):
        code = _code(seed)
        for i in range(8):
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            if swapped != code:
                assert normalise_code(swapped)[0] is None, swapped


def test_wrong_length_and_foreign_symbols_are_named() -> None:
    assert "9 symbols" in (normalise_code("ABC")[1] or "")
    assert "'0'" in (normalise_code("0BCD-2345-K")[1] or "")


def test_check_symbol_depends_on_position() -> None:
    assert check_symbol("AB234567") != check_symbol("BA234567")


def test_ttl_units() -> None:
    assert parse_ttl("2h") == 7200
    assert parse_ttl("30m") == 1800
    assert parse_ttl("90") == 90
    assert parse_ttl("1d") == 86400
    assert parse_ttl("0s") is None
    assert parse_ttl("soon") is None
