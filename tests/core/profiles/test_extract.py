"""Field extraction: values as decimal strings and ISO dates; checks report, never correct."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.profiles.extract import (
    DateRule,
    FieldRule,
    FieldRules,
    ItemsRule,
    PaymentRule,
    ReportRules,
    _amount,
    extract,
)

RULES = FieldRules(
    currency="EUR",
    decimal_comma=True,
    datetime=DateRule(pattern=r"^(\d{2}\.\d{2}\.\d{4} \d{2}:\d{2})$", format="%d.%m.%Y %H:%M"),
    order_no=FieldRule(pattern=r"^Bon (\d+)$"),
    items=ItemsRule(start="^-+$", end="^-+$", line=r"^(?P<qty>\d+) x (?P<name>.+?)\s+(?P<price>\d+,\d{2})$"),
    subtotal=FieldRule(pattern=r"^Zwischensumme\s+(\S+)$"),
    discount=FieldRule(pattern=r"^Rabatt\s+(\S+)$"),
    total=FieldRule(pattern=r"^Summe\s+(\S+)$"),
    payments=[PaymentRule(pattern=r"^Bar\s+(\S+)$", method="cash")],
    change=FieldRule(pattern=r"^Rückgeld\s+(\S+)$"),
)

LINES = [
    "Bon 4711",
    "25.11.2026 08:05",
    "--------",
    "2 x Brötchen        0,45",
    "1 x Käsekuchen      3,90",
    "--------",
    "Zwischensumme       4,80",
    "Rabatt              0,30",
    "Summe               4,50",
    "Bar                10,00",
    "Rückgeld            5,50",
]


def test_values_are_decimal_strings_and_dates_iso():
    tx = extract(RULES, LINES, "sale")
    assert (tx.order_no, tx.datetime, tx.currency) == ("4711", "2026-11-25T08:05:00", "EUR")
    assert [(i.name, i.quantity, i.unit_price, i.amount) for i in tx.items] == [
        ("Brötchen", "2", "0.45", "0.90"),
        ("Käsekuchen", "1", "3.90", "3.90"),
    ]
    assert (tx.subtotal, tx.discount, tx.total, tx.change) == ("4.80", "0.30", "4.50", "5.50")
    assert [(p.method, p.amount) for p in tx.payments] == [("cash", "10.00")]
    assert all(c.ok for c in tx.checks) and {c.name for c in tx.checks} == {"items_sum", "total", "payments"}


def test_a_wrong_total_is_reported_not_fixed():
    lines = [ln.replace("Summe               4,50", "Summe               5,50") for ln in LINES]
    tx = extract(RULES, lines, "sale")
    assert tx.total == "5.50"  # what the receipt says stays
    failed = {c.name: c.detail for c in tx.checks if not c.ok}
    assert failed == {"total": "subtotal - discount + service + tax vs total: 4.50 ≠ 5.50",
                      "payments": "payments - change vs total: 4.50 ≠ 5.50"}  # fmt: skip


def test_unreadable_values_become_problems():
    lines = [*LINES[:1], "31.02.2026 08:05", *LINES[2:]]
    tx = extract(RULES, lines, "sale")
    assert tx.datetime is None
    assert tx.problems == ["datetime: '31.02.2026 08:05' does not match %d.%m.%Y %H:%M"]


def test_missing_fields_stay_empty():
    tx = extract(FieldRules(total=FieldRule(pattern=r"^TOTAL (\S+)$")), ["nothing here"], "other")
    assert tx.total is None and tx.items == [] and tx.checks == []


# -- rule options the corpus needs ----------------------------------------------------------------


@given(
    cents=st.integers(min_value=-(10**9), max_value=10**9),
    comma=st.booleans(),
    grouped=st.booleans(),
    trailing=st.booleans(),
    suffix=st.sampled_from(["", " €", " EUR", "TX", " A"]),
)
def test_amounts_read_back_whatever_the_notation(cents, comma, grouped, trailing, suffix):
    value = Decimal(cents) / 100
    text = f"{abs(value):,.2f}" if grouped else f"{abs(value):.2f}"
    if comma:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    sign = "-" if value < 0 else ""
    printed = (text + sign if trailing else sign + text) + suffix
    assert _amount(printed, comma) == value


TWO_LINE = FieldRules(
    refunds_negative=True,
    tax_included=True,
    datetime=DateRule(pattern=r"^日期:(.+)$", format="%Y/%m/%d %H:%M", year_offset=1911),
    items=ItemsRule(
        start="^-+$",
        end="^-+$",
        sku_line=r"^(\d{13})$",
        name_line=r"^\[(?P<sku>[A-Z]\d+)\] (?P<name>.+)$",
        line=r"^ +(?P<qty>\d+) x (?P<price>\d+\.\d{2})\s+(?P<amount>\d+\.\d{2})$",
    ),
    total=FieldRule(pattern=r"^總計\s+(\S+)$"),
    tax=FieldRule(pattern=r"^稅\s+(\S+)$"),
    payments=[PaymentRule(pattern=r"^現金\s+(\S+)$", method="cash")],
)
TWO_LINE_TEXT = [
    "日期:115/11/25 14:03",
    "----",
    "[Y001] 阿莫西林",
    "  2 x 12.50       25.00",
    "4710088412345",
    "[Y002] 口罩",
    "  1 x 9.90         9.90",
    "----",
    "總計     34.90",
    "稅        1.66",
    "現金     34.90",
]


def test_two_line_items_minguo_dates_and_included_tax():
    tx = extract(TWO_LINE, TWO_LINE_TEXT, "sale")
    assert tx.datetime == "2026-11-25T14:03:00"
    assert [(i.sku, i.name, i.quantity, i.unit_price, i.amount) for i in tx.items] == [
        ("Y001", "阿莫西林", "2", "12.50", "25.00"),
        ("Y002", "口罩", "1", "9.90", "9.90"),  # the name line's SKU wins over the barcode line before it
    ]
    # tax included: items are checked against the total, and the tax is not added to it
    assert {c.name: c.ok for c in tx.checks} == {"items_sum": True, "payments": True}


def test_refunds_printed_unsigned_become_negative_only_on_refund_receipts():
    refund = extract(TWO_LINE, TWO_LINE_TEXT, "refund")
    assert (refund.total, refund.tax) == ("-34.90", "-1.66")
    assert [i.amount for i in refund.items] == ["-25.00", "-9.90"] and refund.items[0].unit_price == "12.50"
    assert [p.amount for p in refund.payments] == ["-34.90"]
    assert all(c.ok for c in refund.checks)
    assert extract(TWO_LINE, TWO_LINE_TEXT, "sale").total == "34.90"


def test_a_discount_is_what_is_taken_off_however_it_is_printed():
    lines = [ln.replace("Rabatt              0,30", "Rabatt             -0,30") for ln in LINES]
    tx = extract(RULES, lines, "sale")
    assert tx.discount == "0.30" and all(c.ok for c in tx.checks)


def test_shift_report_fields_only_on_shift_reports():
    rules = FieldRules(
        total=FieldRule(pattern=r"^NET SALES\s+(\S+)$"),
        payments=[PaymentRule(pattern=r"^CASH\s+(\S+)$", method="cash"),
                  PaymentRule(pattern=r"^CARD\s+(\S+)$", method="card")],
        report=ReportRules(
            number=FieldRule(pattern=r"^Z No\. (\d+)$"),
            opened=DateRule(pattern=r"^From (.+)$", format="%d/%m/%Y %H:%M"),
            closed=DateRule(pattern=r"^To (.+)$", format="%d/%m/%Y %H:%M"),
            receipts=FieldRule(pattern=r"^Transactions\s+(\S+)$"),
            refunds=FieldRule(pattern=r"^Voids\s+(\S+)$"),
            refund_total=FieldRule(pattern=r"^Void value\s+(\S+)$"),
        ),
    )  # fmt: skip
    lines = ["Z No. 0412", "From 25/11/2026 10:58", "To 25/11/2026 23:41", "Transactions  119", "Voids  x",
             "Void value  -6.64", "CASH  4,601.13", "CARD  2,757.10", "NET SALES  7,358.23"]  # fmt: skip
    tx = extract(rules, lines, "shift_report")
    assert tx.report is not None
    assert (tx.report.number, tx.report.opened, tx.report.closed) == ("0412", "2026-11-25T10:58:00",
                                                                      "2026-11-25T23:41:00")  # fmt: skip
    assert (tx.report.receipts, tx.report.refunds, tx.report.refund_total) == (119, None, "-6.64")
    assert tx.problems == ["report.refunds: 'x' is not a count"]
    assert tx.total == "7358.23" and [c.ok for c in tx.checks] == [True]
    assert extract(rules, lines, "sale").report is None
