"""Field extraction: values as decimal strings and ISO dates; checks report, never correct."""

from __future__ import annotations

from kelaile_cli.core.extract import DateRule, FieldRule, FieldRules, ItemsRule, PaymentRule, extract

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
