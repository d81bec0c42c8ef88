"""Label tables (data files per language), the language pick, currencies and decimal places."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.extract import extract
from kelaile_cli.core.profiles.labels import bundled_labels, merge_labels, parse_labels, rank_languages
from kelaile_cli.core.profiles.money import currency_from_text, format_amount
from kelaile_cli.core.profiles.schema import validate_field_rules

LANGUAGES = {"zh-CN", "zh-TW", "ja", "ko", "en", "de", "fr", "es", "it", "nl", "pt", "vi", "th", "ru"}


def test_every_bundled_language_has_the_words_the_issue_lists() -> None:
    tables = {t.language: t for t in bundled_labels()}
    assert LANGUAGES <= set(tables)
    for table in tables.values():
        for field in ("total", "subtotal", "discount", "tax", "service_charge", "change"):
            assert table.amounts.get(field), (table.language, field)
        assert table.payments.get("cash") and table.payments.get("card"), table.language
        assert table.text.get("member_id"), table.language
        for kind in ("refund", "pre_bill", "kitchen", "shift_report", "sale"):
            assert table.kinds.get(kind), (table.language, kind)
    for language in ("ja", "ko", "zh-TW", "vi", "th", "es", "pt", "nl", "ru"):
        assert tables[language].payments.get("mobile"), language  # the region's wallets


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("소계  7,000\n부가세  636\n합계금액  7,000\n현금  10,000\n거스름돈  3,000", "ko"),
        ("小計 ￥1,480\n消費税 ￥148\n合計 ￥1,628\nお釣り ￥372", "ja"),
        ("Subtotaal 12,50\nBTW 1,03\nTotaal 12,50\nPinbetaling 12,50", "nl"),
        ("Tạm tính 45.000\nTổng cộng 45.000\nTiền mặt 50.000\nTiền thối 5.000", "vi"),
    ],
)
def test_the_language_is_the_one_whose_words_the_receipt_prints(text: str, language: str) -> None:
    assert rank_languages(bundled_labels(), [text])[0].table.language == language


def test_a_broken_table_names_the_file_and_key() -> None:
    with pytest.raises(InputError, match=r"my\.yaml: amounts: unknown key 'totl'"):
        parse_labels("language: xx\namounts: {totl: [T]}\n", "my.yaml")
    with pytest.raises(InputError, match=r"my\.yaml:1: language"):
        parse_labels("language: Not a tag\n", "my.yaml")


def test_merge_keeps_the_first_tables_words_first() -> None:
    tables = {t.language: t for t in bundled_labels()}
    merged = merge_labels([tables["ko"], tables["en"]])
    assert merged.amounts["total"][0] == "합계금액" and "Total" in merged.amounts["total"]
    assert merged.currency == "KRW"


def test_currency_from_marks_then_language() -> None:
    assert currency_from_text(["合計 ￥1,628"], "JPY") == "JPY"
    assert currency_from_text(["合计 ¥16.00"], "CNY") == "CNY"
    assert currency_from_text(["Summe 12,50 €"], None) == "EUR"
    assert currency_from_text(["합계 7,000"], "KRW") == "KRW"
    assert currency_from_text(["TOTAL 12.50"], None) is None


def test_amounts_keep_the_receipts_precision() -> None:
    assert format_amount(Decimal("15700"), 0) == "15700"
    assert format_amount(Decimal("15700"), None) == "15700.00"
    assert format_amount(Decimal("12.5"), 0) == "12.5"  # never rounds a value away


@pytest.mark.parametrize(
    ("rules", "line", "total"),
    [
        ({"decimals": 0, "currency": "KRW"}, "합계금액      15,700", "15700"),
        ({"decimals": 0, "currency": "JPY"}, "合計         -￥1,375", "-1375"),
        ({"decimal_comma": True}, "Summe      1.234,50", "1234.50"),
        ({}, "Total    1'234.50", "1234.50"),
    ],
)
def test_extract_reads_each_notation(rules: dict, line: str, total: str) -> None:
    label = line.split()[0]
    fields = validate_field_rules(rules | {"total": {"pattern": rf"^{label}\s+(\S+)$"}})
    tx = extract(fields, [line], "sale")
    assert tx.total == total and tx.currency == rules.get("currency")


def test_a_unit_word_counts_only_after_a_figure() -> None:
    assert currency_from_text(["회원번호: 1234", "계산원: 이수진"], "USD") == "USD"
    assert currency_from_text(["합계 7,000원"], None) == "KRW"
