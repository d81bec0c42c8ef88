"""Turn a receipt into a transaction with a profile's field rules, and check that it adds up.

Rules are regular expressions over the receipt's lines (multiline mode: ``^``/``$`` are line
bounds); the first group is the value. Amounts become decimal strings (never floats), dates ISO 8601.
Checks — items against subtotal, subtotal plus charges against total, payments against total — are
reported on the transaction, never used to "fix" a value.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kelaile_cli.core.profiles.money import format_amount

__all__ = ["Check", "FieldRules", "Item", "Payment", "Report", "ReportRules", "Transaction", "extract"]

AMOUNT_FIELDS = ("subtotal", "discount", "service_charge", "tax", "total", "change")
TEXT_FIELDS = ("store", "terminal", "cashier", "order_no", "table", "member_id")


# rules are checked by ``core.profiles.schema`` when a profile file is read; here they are plain data


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRule:
    pattern: str  # regex over the receipt text (multiline); group 1 is the value


@dataclass(frozen=True, slots=True, kw_only=True)
class DateRule:
    pattern: str  # group 1 is the date-time text
    format: str  # strptime format of the captured text
    year_offset: int = 0  # added to the leading year before parsing (Minguo years: 1911)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemsRule:
    line: str  # one item line, named groups: name, qty, price, amount, sku
    start: str | None = None  # items begin after the first line matching this
    end: str | None = None  # … and end at the first line after the start matching this
    sku_line: str | None = None  # a line holding the next item's SKU (group 1)
    name_line: str | None = None  # a line holding the next item's name when its figures follow


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRule:
    pattern: str  # every match is one payment, group 1 its amount
    method: str  # cash, card, mobile, wechat, alipay, unionpay, other


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRules:
    """Shift/Z report facts; per-method takings go in ``payments``, the net takings in ``total``."""

    number: FieldRule | None = None
    opened: DateRule | None = None
    closed: DateRule | None = None
    receipts: FieldRule | None = None
    refunds: FieldRule | None = None
    refund_total: FieldRule | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRules:
    """The ``fields:`` section of a profile (what each key means: ``core.profiles.schema``)."""

    currency: str | None = None
    decimals: int | None = None
    decimal_comma: bool = False
    tax_included: bool = False
    refunds_negative: bool = False
    report: ReportRules | None = None
    datetime: DateRule | None = None
    items: ItemsRule | None = None
    payments: list[PaymentRule] = field(default_factory=list)
    store: FieldRule | None = None
    terminal: FieldRule | None = None
    cashier: FieldRule | None = None
    order_no: FieldRule | None = None
    table: FieldRule | None = None
    covers: FieldRule | None = None
    member_id: FieldRule | None = None
    subtotal: FieldRule | None = None
    discount: FieldRule | None = None
    service_charge: FieldRule | None = None
    tax: FieldRule | None = None
    total: FieldRule | None = None
    change: FieldRule | None = None


@dataclass(slots=True)
class Item:
    name: str
    quantity: str = "1"
    unit_price: str | None = None
    amount: str | None = None
    sku: str | None = None


@dataclass(slots=True)
class Payment:
    method: str
    amount: str


@dataclass(slots=True)
class Report:
    """What a shift/Z report states besides its takings."""

    number: str | None = None
    opened: str | None = None
    closed: str | None = None
    receipts: int | None = None
    refunds: int | None = None
    refund_total: str | None = None


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class Transaction:
    kind: str
    currency: str | None = None
    store: str | None = None
    terminal: str | None = None
    cashier: str | None = None
    order_no: str | None = None
    datetime: str | None = None
    table: str | None = None
    covers: int | None = None
    member_id: str | None = None
    items: list[Item] = field(default_factory=list)
    subtotal: str | None = None
    discount: str | None = None
    service_charge: str | None = None
    tax: str | None = None
    total: str | None = None
    payments: list[Payment] = field(default_factory=list)
    change: str | None = None
    report: Report | None = None
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # values found but not understood

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_AMOUNT = re.compile(r"(-?)\s?[$¥￥€£₩]?\s?(\d[\d,.' ]*)(-?)")


def _amount(text: str, decimal_comma: bool) -> Decimal | None:
    """The first amount in ``text``; a leading or trailing minus (``-3.50``, ``3,50-``) makes it negative."""
    m = _AMOUNT.search(text.replace("\u00a0", " "))
    if not m:
        return None
    raw = m.group(2).strip().replace(" ", "").replace("'", "")
    raw = raw.replace(".", "").replace(",", ".") if decimal_comma else raw.replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return -value if m.group(1) or m.group(3) else value


def _fmt(value: Decimal, places: int | None = None) -> str:
    return format_amount(value, places)


def _first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, re.M)
    if not m:
        return None
    return (m.group(1) if m.groups() else m.group()).strip()


def _items(rule: ItemsRule, lines: list[str], decimal_comma: bool, places: int | None = None) -> list[Item]:
    start = 0
    if rule.start:
        start = next((i + 1 for i, ln in enumerate(lines) if re.search(rule.start, ln)), len(lines))
    end = len(lines)
    if rule.end:
        end = next((i for i in range(start, len(lines)) if re.search(rule.end, lines[i])), len(lines))
    items: list[Item] = []
    sku: str | None = None
    name: str | None = None
    line_rx = re.compile(rule.line)
    for ln in lines[start:end]:
        m = line_rx.search(ln)
        if not m:  # not an item line: maybe the SKU or the name of the next one
            if rule.sku_line and (found := re.search(rule.sku_line, ln)):
                sku = found.group(1)
            elif rule.name_line and (found := re.search(rule.name_line, ln)):
                named = found.groupdict()
                name = (named.get("name") or found.group(1)).strip()
                sku = named.get("sku") or sku
            continue
        g = m.groupdict()
        qty = _amount(g.get("qty") or "1", decimal_comma) or Decimal(1)
        price = _amount(g["price"], decimal_comma) if g.get("price") else None
        amount = _amount(g["amount"], decimal_comma) if g.get("amount") else None
        if amount is None and price is not None:
            amount = price * qty
        items.append(
            Item(
                name=(g.get("name") or name or "").strip(),
                quantity=_fmt(qty) if qty != qty.to_integral() else str(int(qty)),
                unit_price=_fmt(price, places) if price is not None else None,
                amount=_fmt(amount, places) if amount is not None else None,
                sku=g.get("sku") or sku,
            )
        )
        sku = name = None
    return items


def _check(name: str, got: Decimal, want: Decimal, what: str, places: int | None = None) -> Check:
    ok = got == want
    return Check(name, ok, f"{what}: {_fmt(got, places)} {'=' if ok else '≠'} {_fmt(want, places)}")


def _date(rule: DateRule, text: str, field: str, problems: list[str]) -> str | None:
    """The ISO form of the first date ``rule`` finds, or None (a problem is noted when it does not parse)."""
    when = _first(rule.pattern, text)
    if not when:
        return None
    raw = when
    if rule.year_offset and (m := re.match(r"\d+", raw)):
        raw = str(int(m.group()) + rule.year_offset) + raw[m.end() :]
    try:
        return datetime.strptime(raw, rule.format).isoformat()
    except ValueError:
        problems.append(f"{field}: '{when}' does not match {rule.format}")
        return None


def _report(rules: ReportRules, text: str, comma: bool, problems: list[str], places: int | None) -> Report:
    report = Report()
    if rules.number is not None:
        report.number = _first(rules.number.pattern, text)
    for name in ("opened", "closed"):
        rule = getattr(rules, name)
        if rule is not None:
            setattr(report, name, _date(rule, text, f"report.{name}", problems))
    for name in ("receipts", "refunds"):
        rule = getattr(rules, name)
        if rule is not None and (count := _first(rule.pattern, text)) is not None:
            if count.isdigit():
                setattr(report, name, int(count))
            else:
                problems.append(f"report.{name}: '{count}' is not a count")
    if rules.refund_total is not None and (found := _first(rules.refund_total.pattern, text)) is not None:
        value = _amount(found, comma)
        if value is None:
            problems.append(f"report.refund_total: '{found}' is not an amount")
        else:
            report.refund_total = _fmt(value, places)
    return report


def _negate(tx: Transaction, amounts: dict[str, Decimal], places: int | None) -> None:
    """Refunds printed without a sign: every amount becomes negative (quantities and unit prices stay)."""
    for name, value in amounts.items():
        amounts[name] = -abs(value)
        setattr(tx, name, _fmt(amounts[name], places))
    for item in tx.items:
        if item.amount is not None:
            item.amount = _fmt(-abs(Decimal(item.amount)), places)
    for pay in tx.payments:
        pay.amount = _fmt(-abs(Decimal(pay.amount)), places)


def extract(rules: FieldRules, receipt_lines: list[str], kind: str) -> Transaction:
    """Apply a profile's field rules to the lines of one receipt."""
    text = "\n".join(receipt_lines)
    comma, places = rules.decimal_comma, rules.decimals
    tx = Transaction(kind=kind, currency=rules.currency)
    for name in TEXT_FIELDS:
        rule = getattr(rules, name)
        if rule is not None:
            setattr(tx, name, _first(rule.pattern, text))
    if rules.covers is not None and (covers := _first(rules.covers.pattern, text)):
        tx.covers = int(covers) if covers.isdigit() else None
    amounts: dict[str, Decimal] = {}
    for name in AMOUNT_FIELDS:
        rule = getattr(rules, name)
        if rule is None or (found := _first(rule.pattern, text)) is None:
            continue
        value = _amount(found, comma)
        if value is None:
            tx.problems.append(f"{name}: '{found}' is not an amount")
            continue
        amounts[name] = abs(value) if name == "discount" else value  # a discount is what is taken off
        setattr(tx, name, _fmt(amounts[name], places))
    if rules.datetime is not None:
        tx.datetime = _date(rules.datetime, text, "datetime", tx.problems)
    if rules.items is not None:
        tx.items = _items(rules.items, receipt_lines, comma, places)
    paid: list[tuple[int, Payment]] = []
    for pay in rules.payments:
        for m in re.finditer(pay.pattern, text, re.M):
            value = _amount(m.group(1) if m.groups() else m.group(), comma)
            if value is not None:
                paid.append((m.start(), Payment(pay.method, _fmt(value, places))))
    tx.payments = [p for _, p in sorted(paid, key=lambda found: found[0])]  # in the order the receipt prints them
    if rules.report is not None and kind == "shift_report":
        tx.report = _report(rules.report, text, comma, tx.problems, places)
    if rules.refunds_negative and kind == "refund":
        _negate(tx, amounts, places)
    _add_checks(tx, amounts, rules.tax_included, places)
    return tx


def _add_checks(tx: Transaction, amounts: dict[str, Decimal], tax_included: bool, places: int | None) -> None:
    """Items against subtotal (or total), subtotal and charges against total, payments against total."""
    zero = Decimal(0)
    added = {"discount", "service_charge"} | (set() if tax_included else {"tax"})
    item_amounts = [Decimal(i.amount) for i in tx.items if i.amount is not None]
    if item_amounts and "subtotal" in amounts:
        tx.checks.append(_check("items_sum", sum(item_amounts, zero), amounts["subtotal"], "items vs subtotal", places))
    elif item_amounts and "total" in amounts and not (added & amounts.keys()):
        tx.checks.append(_check("items_sum", sum(item_amounts, zero), amounts["total"], "items vs total", places))
    if "subtotal" in amounts and "total" in amounts:
        tax = zero if tax_included else amounts.get("tax", zero)
        computed = amounts["subtotal"] - amounts.get("discount", zero) + amounts.get("service_charge", zero) + tax
        what = "subtotal - discount + service" + ("" if tax_included else " + tax") + " vs total"
        tx.checks.append(_check("total", computed, amounts["total"], what, places))
    if tx.payments and "total" in amounts:
        paid = sum((Decimal(p.amount) for p in tx.payments), zero) - amounts.get("change", zero)
        tx.checks.append(_check("payments", paid, amounts["total"], "payments - change vs total", places))
