"""Draft a profile from a few receipts of an unknown POS: ``klx profile new``.

Pure: receipts in, a profile document out. What it infers:

* **signatures** — lines every (or nearly every) receipt prints the same way, ranked by how
  distinctive they look (long, mostly letters, no figures), and label-plus-value lines whose value
  keeps one shape (``单号: 20261125-0003`` → ``单号: \\d{8}-\\d{4}``). Candidates found in any
  *negative* text (receipts of other POS programs) are dropped, so the draft does not claim them;
* **habits** — paper width, encoding, cut and dialect when all samples agree;
* **language** — the label table (``kelaile_cli/data/labels/*.yaml`` or ``--labels FILE``) whose words
  the receipts print most; tables of other languages the receipts also print come after it;
* **kinds** — the title lines (``[환불영수증]``, ``返品``) that carry a kind word of the table, so a
  footer that mentions refunds does not make every receipt a refund;
* **fields** — label rules (order no, table, covers, cashier, amounts, payments, date-time), kept
  only when they read a value on most samples, and an item-line layout chosen by which template
  makes the items add up to the subtotal or total most often; the currency (a mark on the receipts,
  else the language's) and the decimal places the receipts print (none for won, yen).

Signatures should identify the program, not the shop: a shaped ``label: value`` line (an order
number format) is a mark of the program; when every signature is a head or foot line with no field
label (the shop's name, address, thank-you line), the draft says so and marks ``detect.shop_bound``.

Every inferred rule is then run over the samples with the real extractor; the notes say what was
found where, so the integrator checks a draft instead of writing one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from kelaile_cli.core.profiles.detect import receipt_text
from kelaile_cli.core.profiles.extract import extract
from kelaile_cli.core.profiles.labels import LabelTable, bundled_labels, merge_labels, rank_languages
from kelaile_cli.core.profiles.money import currency_from_text
from kelaile_cli.core.profiles.profile import Profile, parse_profile
from kelaile_cli.core.profiles.schema import validate_field_rules
from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["Draft", "scaffold_profile"]

MAX_SIGNATURES = 6
COVERAGE = 0.8  # a rule or signature must hold on this share of the samples
_AMT = r"-?\d{1,3}(?:[,.']?\d{3})*[.,]\d{1,2}"  # 1,234.50  12,50  -3.00  36.8
_AMT_WHOLE = r"-?\d{1,3}(?:,?\d{3})*"  # currencies printed without cents (TWD, JPY, KRW)
_CURRENCY = r"[$¥￥€£]"
_ITEM_LIKE = re.compile(r"(\s{2,}|[xX×*]\s?)[$¥￥€£]?-?\d[\d,.]*\s*\S{0,2}$")
_DATE_OR_TIME = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d:\d\d")
_SEPARATOR = re.compile(r"^[\s\-=_*~.#+·—–]+$")

_AMOUNT_FIELDS = ("subtotal", "discount", "service_charge", "tax", "total", "change")
# the same patterns under public names, for rules made elsewhere (core/profiles/pointing.py)
AMOUNT_FIELDS, AMOUNT_PATTERN, WHOLE_AMOUNT_PATTERN, CURRENCY_MARK = _AMOUNT_FIELDS, _AMT, _AMT_WHOLE, _CURRENCY

DATE_FORMATS: list[tuple[str, str]] = [
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M"),
    (r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", "%Y/%m/%d %H:%M:%S"),
    (r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", "%Y/%m/%d %H:%M"),
    (r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", "%d.%m.%Y %H:%M:%S"),
    (r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", "%d.%m.%Y %H:%M"),
    (r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", "%d/%m/%Y %H:%M:%S"),
    (r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", "%d/%m/%Y %H:%M"),
    (r"\d{2}/\d{2}/\d{2} \d{2}:\d{2}", "%d/%m/%y %H:%M"),
    (r"\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}", "%d.%m.%Y %H:%M"),
    (r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}", "%d %b %Y %H:%M"),
    (r"\d{4}年\d{1,2}月\d{1,2}日 ?\d{2}:\d{2}", "%Y年%m月%d日 %H:%M"),
]
ITEM_TEMPLATES: list[str] = [  # most specific first; AMT stands for the amount pattern
    r"^(?P<name>.+?)\s+(?P<qty>\d+)\s*[xX×*]\s*(?P<price>AMT)\s+(?P<amount>AMT)$",
    r"^(?P<name>.+?)\s+(?P<qty>\d+(?:[.,]\d+)?)\s+(?P<price>AMT)\s+(?P<amount>AMT)$",
    r"^(?P<name>.+?)\s+(?P<price>AMT)\s+(?P<qty>\d+)\s+(?P<amount>AMT)$",
    r"^(?P<name>.+?)\s+(?P<price>AMT)\s+[xX×*]\s?(?P<qty>\d+)\s+(?P<amount>AMT)$",
    r"^(?P<qty>\d+)\s+(?P<name>.+?)\s+@\s+(?P<price>AMT)\s+(?P<amount>AMT)$",
    r"^(?P<qty>\d+)\s+(?P<name>\D.*?)\s+(?P<price>AMT)\s+(?P<amount>AMT)$",
    r"^(?P<qty>\d+)\s*[xX×*]\s+(?P<name>.+?)\s+(?P<amount>AMT)(?:\s+[A-Z])?$",
    r"^(?P<name>.+?)\s+[xX×*]\s?(?P<qty>\d+)\s+(?P<amount>AMT)$",
    r"^(?P<name>.+?)\s+(?P<qty>\d+)\s+(?P<amount>AMT)$",
    r"^(?P<name>.+?)\s{2,}(?P<amount>AMT)$",
]


@dataclass(slots=True)
class Draft:
    """A drafted profile: the YAML document, the validated model, and notes for the integrator."""

    document: dict[str, Any]
    profile: Profile
    notes: list[str] = field(default_factory=list)

    def yaml_text(self) -> str:
        head = (
            "# Editor completion: `klx profile schema > profile.schema.json`, then add\n"
            "# `# yaml-language-server: $schema=profile.schema.json` as the first line.\n"
            "# Drafted by `klx profile new`: check every rule and the expected outputs before committing.\n"
        )
        return head + yaml.safe_dump(self.document, allow_unicode=True, sort_keys=False, width=120)


def scaffold_profile(
    receipts: Sequence[Receipt],
    profile_id: str,
    *,
    name: str | None = None,
    vendor: str | None = None,
    negatives: Sequence[str] = (),
    labels: Sequence[LabelTable] | None = None,
) -> Draft:
    """Draft a profile for the POS that printed ``receipts`` (a few of them, ideally of several kinds).

    ``negatives`` are texts of other POS programs' receipts; no signature of the draft occurs in them.
    ``labels`` are the label tables to choose the language from (default: the bundled ones).
    Raises ``ValueError`` when nothing distinctive is found (the samples are empty or share no line).
    """
    if not receipts:
        raise ValueError("no receipts in the samples")
    texts = [receipt_text(r) for r in receipts]
    lines = [[ln.text.strip() for ln in r.lines] for r in receipts]
    notes: list[str] = []
    tables = list(labels) if labels is not None else list(bundled_labels())
    words = merge_labels(tables).words() if tables else set()
    table = _language(tables, texts, notes)
    signatures, shop_bound = _signatures(lines, negatives, notes, words)
    if not signatures:
        raise ValueError("the samples share no distinctive line to recognise this POS by")
    document: dict[str, Any] = {
        "id": profile_id,
        "name": name or profile_id,
        "vendor": vendor or "unknown (drafted)",
        "versions": [],
        "printer": _printer(receipts),
        "detect": {"signatures": signatures, "habits": _habits(receipts)},
    }
    if shop_bound:
        document["detect"]["shop_bound"] = True
    if not document["detect"]["habits"]:
        del document["detect"]["habits"]
    kinds = _kinds(lines, table)
    if kinds:
        document["kinds"] = kinds
    document["fields"] = _fields(lines, texts, notes, table)
    profile = parse_profile(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), f"<draft {profile_id}>")
    _report_fields(profile, receipts, notes)
    return Draft(document, profile, notes)


# -- signatures --------------------------------------------------------------------------------------------------


def _distinctiveness(line: str) -> float:
    letters = sum(ch.isalpha() for ch in line)
    wide = sum(ord(ch) > 0x2E80 for ch in line)  # CJK counts double: more information per character
    digits = sum(ch.isdigit() for ch in line)
    return letters + wide - 2 * digits


def _needed(n: int) -> int:
    return max(1, math.ceil(COVERAGE * n))


def _units(receipt: list[str]) -> dict[str, int]:
    """What a signature can be: whole lines, and the word groups of a line (a shop name that shares
    its line with the date on a kitchen ticket is still the shop name). Item lines are left out — a
    popular dish is not the POS. Each unit gets its place: 0 in the receipt's head (first three
    lines), 1 in its foot (last three), 2 in between."""
    units: dict[str, int] = {}
    head, foot = set(receipt[:3]), set(receipt[-3:])
    for line in receipt:
        if not line or (_ITEM_LIKE.search(line) and not _DATE_OR_TIME.search(line)):
            continue
        place = 0 if line in head else 1 if line in foot else 2
        units[line] = min(units.get(line, 2), place)
        for piece in {*re.split(r"\s{2,}", line), *line.split()}:
            part = piece.strip()
            if part and part != line and not any(ch.isdigit() for ch in part) and _distinctiveness(part) >= 6:
                units[part] = min(units.get(part, 2), place)
    return units


def _language(tables: Sequence[LabelTable], texts: Sequence[str], notes: list[str]) -> LabelTable:
    """The label table of the receipts' language, followed by those of other languages they also print."""
    ranked = rank_languages(tables, texts)
    if not ranked:
        notes.append("language: no label word of any table found; using all tables (give --labels FILE)")
        return merge_labels(tables) if tables else LabelTable(language="und")
    best = ranked[0]
    also = [r for r in ranked[1:] if r.hits >= 2]
    notes.append(
        f"language: {best.table.language} ({best.hits} label words)"
        + (f"; also {', '.join(f'{r.table.language} ({r.hits})' for r in also)}" if also else "")
    )
    return merge_labels([best.table, *(r.table for r in also)])


def _head_units(lines: list[list[str]]) -> set[str]:
    """Units printed in the shop's header: before the first separator line (or in the first three
    lines when no separator comes in the receipt's first half) on every receipt that prints them."""
    where: dict[str, bool] = {}
    for receipt in lines:
        sep = next((i for i, ln in enumerate(receipt) if ln and _SEPARATOR.match(ln)), len(receipt))
        end = sep if sep <= len(receipt) // 2 else 3
        for i, line in enumerate(receipt):
            for unit in _units([line]):
                where[unit] = where.get(unit, True) and i < end
    return {u for u, head in where.items() if head}


def _layout_rank(unit: str, head: set[str]) -> int:
    """0: printed below the shop's header (a column header, a footer of the program); 1: a bare field
    label ('판매일시:', printed by many programs of a country); 2: the shop's header (name, address)."""
    if unit in head:
        return 2
    return 1 if unit.rstrip().endswith((":", "：")) else 0


def _signatures(
    lines: list[list[str]], negatives: Sequence[str], notes: list[str], label_words: set[str]
) -> tuple[list[dict[str, Any]], bool]:
    n = len(lines)
    per_receipt = [_units(receipt) for receipt in lines]
    seen = Counter(u for units in per_receipt for u in units)
    place: dict[str, int] = {}
    for units in per_receipt:
        for unit, where in units.items():
            place[unit] = min(place.get(unit, 2), where)
    head = _head_units(lines)
    candidates: list[tuple[int, int, float, str]] = []
    for unit, count in seen.items():
        if count < min(2, n) or _SEPARATOR.match(unit) or _distinctiveness(unit) < 4:
            continue
        if _label_value(unit):  # "收银员: 小王" repeats by chance: a value, not an identity
            continue
        if unit in label_words or any(w in unit for w in label_words if len(w) >= 2 and len(unit) <= len(w) + 2):
            continue  # a field label ("小计", "Subtotal") is every POS's, not this one's
        if any(unit in neg for neg in negatives):
            continue
        rank = _layout_rank(unit, head)
        candidates.append((count, rank, min(_distinctiveness(unit), 20), unit))
    # most samples first; then the program's layout (a column header, a line of field labels, a text printed
    # mid-receipt) before the foot and the head (the shop's name and address: marks of the shop, not the program)
    candidates.sort(key=lambda c: (-c[0], c[1], -c[2], c[3]))
    chosen: list[str] = []
    for count, _, _, unit in candidates:
        if len(chosen) >= MAX_SIGNATURES - 1:
            break
        if any(unit in c or c in unit for c in chosen):
            continue  # one of two overlapping texts is enough
        if chosen and count < _needed(n):
            # beyond the first, keep only texts most samples print, or ones that cover a sample nothing covers yet
            uncovered = [u for u in per_receipt if not any(c in u for c in chosen)]
            if not any(unit in u for u in uncovered):
                continue
        chosen.append(unit)
    signatures: list[dict[str, Any]] = [{"text": unit, "weight": 1} for unit in chosen]
    shaped = _shaped_signature(lines, negatives)
    if shaped:
        signatures.append({"regex": shaped, "weight": 1})
    if signatures:
        # the text most samples print carries as much weight as all the others together, so a
        # receipt that shows only it (a kitchen ticket with just the shop name) is still recognised
        signatures[0]["weight"] = max(2, len(signatures) - 1)
        if shaped:  # the order-number format is the program's: it alone is enough to recognise a receipt
            signatures[-1]["weight"] = signatures[0]["weight"]
    found = [c.get("text") or c.get("regex") for c in signatures]
    notes.append(f"signatures: {len(found)} ({'; '.join(str(f) for f in found)})")
    # a mark of the program: a shaped 'label: value' line, or a text printed mid-receipt or holding a field label
    program = shaped is not None or any(
        place[u] == 2 or any(w in u for w in label_words if len(w) >= 2) for u in chosen
    )
    if signatures and not program:
        notes.append(
            "signatures are all shop lines (name, address, greeting): the profile recognises this shop, not the "
            "program; marked shop_bound — add a layout line of the program if other shops use it"
        )
    return signatures, bool(signatures) and not program


def _label_value(line: str) -> re.Match[str] | None:
    return re.match(r"^([^\d:：]{1,16}?)\s*[:：#]\s*(\S.*)$", line)


def _shape(value: str) -> str:
    return re.sub(r"\d+", lambda m: rf"\d{{{len(m.group())}}}", re.escape(value))


_NUMBERED = re.compile(r"([^\s\d:：][^\d:：\n]{0,15}?)\s*([:：])\s*(\S*\d\S*)")


def _numbered_values(line: str) -> Iterator[tuple[str, str, str]]:
    """(label, colon, value) of each ``label: value`` on the line whose value has a digit, dates and times left out."""
    for m in _NUMBERED.finditer(line):
        if not _DATE_OR_TIME.search(m.group(3)):
            yield m.group(1), m.group(2), m.group(3)


def _shaped_signature(lines: list[list[str]], negatives: Sequence[str]) -> str | None:
    """A label whose value keeps one shape on every sample (an order-number format, a till id)."""
    n = len(lines)
    shapes: dict[str, Counter[str]] = {}
    for receipt in lines:
        for line in receipt:
            for label, colon, value in _numbered_values(line):
                if sum(ch.isdigit() for ch in value) < 4:
                    continue  # too short to be an identity
                pattern = re.escape(label) + re.escape(colon) + r"\s*" + _shape(value)
                shapes.setdefault(label, Counter())[pattern] += 1
    best: tuple[int, str] | None = None
    for counter in shapes.values():
        pattern, count = counter.most_common(1)[0]
        if count < _needed(n) or any(re.search(pattern, neg) for neg in negatives):
            continue
        if best is None or len(pattern) > len(best[1]):
            best = (count, pattern)
    return best[1] if best else None


# -- printer facts, habits, kinds ------------------------------------------------------------------------------


def _common(values: Sequence[Any]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else None


def _printer(receipts: Sequence[Receipt]) -> dict[str, Any]:
    width = Counter(r.width for r in receipts).most_common(1)[0][0]
    width = min((32, 42, 48), key=lambda w: abs(w - width))
    out: dict[str, Any] = {"width": width}
    encoding = _common([r.encoding for r in receipts])
    if encoding and encoding not in ("ascii", "cp437"):
        out["encoding"] = encoding
    return out


def _habits(receipts: Sequence[Receipt]) -> dict[str, str]:
    habits: dict[str, str] = {}
    cut = _common([r.cut or "none" for r in receipts])
    if cut:
        habits["cut"] = cut
    dialect = _common([r.dialect for r in receipts])
    if dialect == "star":
        habits["dialect"] = dialect
    return habits


def _kinds(lines: list[list[str]], table: LabelTable) -> dict[str, list[str]]:
    """Kind markers: the title lines that carry a kind word (``[환불영수증]``, ``返品``, ``*** REFUND ***``).

    A line is a title when it is short (the word and a few marks); each title line goes to the first
    kind (refund, pre-bill, kitchen, shift report, sale) whose word it holds. A kind word found in no
    title line is used as it is only when it is not printed on every sample (then it is a footer)."""
    n = len(lines)
    kinds: dict[str, list[str]] = {}
    taken: set[str] = set()
    for kind, words in table.kinds.items():
        titles: Counter[str] = Counter()
        for receipt in lines:
            for line in dict.fromkeys(receipt):
                if line in taken or not line:
                    continue
                word = next((w for w in words if w in line and len(line) <= len(w) + 8), None)
                if word is not None and not re.search(r"\d", line.replace(word, "")):
                    titles[line] += 1
        markers = [line for line, _ in titles.most_common(3)]
        if not markers:
            markers = [w for w in words if 0 < sum(w in "\n".join(r) for r in lines) < max(2, n)][:3]
        if markers:
            kinds[kind] = markers
            taken.update(markers)
    return kinds


# -- fields ------------------------------------------------------------------------------------------------------


def _hits(pattern: str, texts: Sequence[str]) -> int:
    rx = re.compile(pattern, re.M)
    return sum(1 for t in texts if rx.search(t))


def _spelled(label: str, texts: Sequence[str]) -> str | None:
    """How the samples spell ``label`` (Latin labels in any letter case), or None when absent."""
    if label[0].isascii() and label[0].isalpha():  # a whole word: 'Total' is not the end of 'Subtotal'
        rx = re.compile(rf"(?<![A-Za-z]){re.escape(label)}(?![a-z])", re.I)
    else:
        rx = re.compile(re.escape(label), re.I)
    for text in texts:
        if m := rx.search(text):
            return m.group()
    return None


def _label_rule(labels: Sequence[str], texts: Sequence[str], value: str, anchored: bool) -> str | None:
    """The label that reads a value on the most samples (ties: table order), as the receipts spell it.

    A label need not be on every sample (kitchen tickets have no total), but where it is printed it
    must read a value on most of them, and it must do so on at least two samples."""
    best: tuple[int, str] | None = None
    for label in labels:
        spelled = _spelled(label, texts)
        if spelled is None:
            continue
        word = re.escape(spelled) + (r"\b" if spelled[-1].isascii() and spelled[-1].isalnum() else "")
        # amounts and payments: the label starts the line and the value is the last figure on it
        amount = rf"^\s*{word}[^\n]*?[\s$¥￥€£=:：](-?{_CURRENCY}?{value}-?)\s*$"
        pattern = amount if anchored else rf"{word}\s*[.:：#]?\s*({value})"
        printed = sum(1 for t in texts if spelled in t)
        hits = _hits(pattern, texts)
        if hits >= max(min(2, len(texts)), _needed(printed)) and (best is None or hits > best[0]):
            best = (hits, pattern)
    return best[1] if best else None


def _fields(lines: list[list[str]], texts: Sequence[str], notes: list[str], table: LabelTable) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    currency = currency_from_text(texts, table.currency)
    if currency:
        fields["currency"] = currency
    if _decimal_comma(texts):
        fields["decimal_comma"] = True
    whole = not re.search(r"\d[.,]\d{1,2}\b", "\n".join(texts))
    amount = _AMT_WHOLE if whole else _AMT
    if whole:
        fields["decimals"] = 0
    notes.append(f"currency: {currency or 'not found'}, amounts with {'no' if whole else 'two'} decimals")
    for attr, labels in table.text.items():
        if rule := _label_rule(labels, texts, r"[^\s:：]\S*", anchored=False):
            fields[attr] = {"pattern": rule}
    if "order_no" not in fields and (label := _numbered_label(lines)):
        fields["order_no"] = {"pattern": rf"{re.escape(label)}\s*[:：#]?\s*(\S+)"}
        notes.append(f"order_no: no known label; '{label}' carries a changing number on every sample")
    if rule := _label_rule(table.covers, texts, r"\d+", anchored=False):
        fields["covers"] = {"pattern": rule}
    for rx, fmt in DATE_FORMATS:
        if _hits(f"({rx})", texts) >= max(min(2, len(texts)), len(texts) // 2):
            fields["datetime"] = {"pattern": f"({rx})", "format": fmt}
            break
    for attr, labels in table.amounts.items():
        if rule := _label_rule(labels, texts, amount, anchored=True):
            fields[attr] = {"pattern": rule}
    payments = []
    for method, labels in table.payments.items():
        if rule := _label_rule(labels, texts, amount, anchored=True):
            payments.append({"pattern": rule, "method": method})
    if payments:
        fields["payments"] = payments
    items = _items_rule(lines, fields, amount)
    if items:
        fields["items"] = items
    if "tax" in fields and _tax_included(lines, fields):
        fields["tax_included"] = True
        notes.append("tax: included in the prices (subtotal - discount + service = total on most samples)")
    return fields


def _tax_included(lines: list[list[str]], fields: dict[str, Any]) -> bool:
    """Whether the total adds up without the tax (VAT included) on more samples than with it."""
    agree = {True: 0, False: 0}
    for included in agree:
        rules = validate_field_rules(fields | {"tax_included": included})
        for receipt in lines:
            tx = extract(rules, receipt, "sale")
            agree[included] += sum(1 for c in tx.checks if c.name == "total" and c.ok)
    return agree[True] > agree[False]


def _numbered_label(lines: list[list[str]]) -> str | None:
    """A ``label: value`` label present on every sample whose value has digits and differs between samples."""
    values: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for receipt in lines:
        labels_here = set()
        for line in receipt:
            for raw_label, _, value in _numbered_values(line):
                label = raw_label.strip()
                values.setdefault(label, set()).add(value)
                labels_here.add(label)
        counts.update(labels_here)
    ranked = [lb for lb, c in counts.most_common() if c == len(lines) and len(values[lb]) == len(lines)]
    return ranked[0] if ranked else None


def _decimal_comma(texts: Sequence[str]) -> bool:
    dots = sum(len(re.findall(r"\d[.]\d{2}\b", t)) for t in texts)
    commas = sum(len(re.findall(r"\d,\d{2}\b(?!\d)", t)) for t in texts)
    return commas > dots


def _items_rule(lines: list[list[str]], fields: dict[str, Any], amount: str) -> dict[str, Any] | None:
    """The item-line template (and item block bounds) that makes items add up most often."""
    stops = [f["pattern"] for k, f in fields.items() if k in _AMOUNT_FIELDS]
    stops += [p["pattern"] for p in fields.get("payments", [])]
    stop_rx = [re.compile(p) for p in stops]
    best: tuple[tuple[int, int, bool, Decimal, int], dict[str, Any]] | None = None
    for t_i, template in enumerate(ITEM_TEMPLATES):
        line_rule = template.replace("(?P<amount>AMT)", f"(?P<amount>-?{_CURRENCY}?AMT)").replace("AMT", amount)
        rx = re.compile(line_rule)
        blocks = [
            [i for i, ln in enumerate(receipt) if rx.search(ln) and not any(s.search(ln) for s in stop_rx)]
            for receipt in lines
        ]
        if sum(1 for b in blocks if b) < max(min(2, len(lines)), len(lines) // 2):
            continue  # item lines on too few samples (kitchen tickets and reports have none)
        rule: dict[str, Any] = {"line": line_rule, **_bounds(lines, blocks, stops)}
        trial = validate_field_rules({k: v for k, v in fields.items() if k != "items"} | {"items": rule})
        adds_up, priced, quantity = 0, 0, Decimal(0)
        for receipt in lines:
            tx = extract(trial, receipt, "sale")
            target = tx.subtotal or tx.total
            if tx.items and target and _sum(tx) == Decimal(target):
                adds_up += 1
            quantity += sum((Decimal(i.quantity) for i in tx.items if i.quantity), Decimal(0))
            priced += sum(1 for i in tx.items if i.unit_price and i.amount and _priced(i))
        # most receipts adding up wins; then the most items whose quantity × price is their amount
        # (a template that reads every column); then a quantity marked as one ("x2"), not a bare
        # number that may belong to the name ("Eggs 12"); then the reading with fewer pieces ("360
        # x1" is one dish at 360, not 360 dishes at 1); then the more specific template
        score = (adds_up, priced, "[xX×*]" in template, -quantity, -t_i)
        if best is None or score > best[0]:
            best = (score, rule)
    return best[1] if best and best[0][0] > 0 else None


def _priced(item: Any) -> bool:
    return bool(Decimal(item.quantity) * Decimal(item.unit_price) == Decimal(item.amount))


def _sum(tx: Any) -> Decimal:
    return sum((Decimal(i.amount) for i in tx.items if i.amount is not None), Decimal(0))


def _line_rule(common: str) -> str:
    if _SEPARATOR.match(common):
        ch = common.strip()[0]
        return f"^{re.escape(ch)}{{{max(3, len(common.strip()) - 2)},}}$"
    return f"^{re.escape(common)}$"


def _bounds(lines: list[list[str]], blocks: list[list[int]], stops: Sequence[str]) -> dict[str, str]:
    """``start``/``end``: the lines just before the first and after the last item on every sample
    (the same text, a separator, or — for the end — a line an amount rule reads, such as the subtotal).

    Each candidate is tried the way the extractor uses it: the start must come before the first item
    and the end after the last (a column header between two separators makes the second separator a
    wrong end); of the ends that work, the one nearest the items wins."""
    with_items = [(receipt, b) for receipt, b in zip(lines, blocks, strict=True) if b]
    before = [receipt[b[0] - 1] for receipt, b in with_items if b[0] > 0]
    after = [receipt[b[-1] + 1] for receipt, b in with_items if b[-1] + 1 < len(receipt)]
    out: dict[str, str] = {}
    starts = {receipt_id: 0 for receipt_id in range(len(with_items))}
    common = _common(before)
    if common:
        rule = _line_rule(common)
        rx = re.compile(rule)
        found = [next((i + 1 for i, ln in enumerate(r) if rx.search(ln)), len(r)) for r, _ in with_items]
        if all(s <= b[0] for s, (_, b) in zip(found, with_items, strict=True)):
            out["start"] = rule
            starts = dict(enumerate(found))
    candidates = [_line_rule(c) for c in (_common(after),) if c] + list(stops)
    best: tuple[int, str] | None = None
    for rule in candidates:
        rx = re.compile(rule)
        distance = 0
        for k, (receipt, b) in enumerate(with_items):
            end = next((i for i in range(starts[k], len(receipt)) if rx.search(receipt[i])), len(receipt))
            if end <= b[-1]:
                break
            distance += end - b[-1]
        else:
            if best is None or distance < best[0]:
                best = (distance, rule)
    if best is not None:
        out["end"] = best[1]
    return out


def _report_fields(profile: Profile, receipts: Sequence[Receipt], notes: list[str]) -> None:
    found: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for receipt in receipts:
        tx = extract(profile.fields, [ln.text for ln in receipt.lines], profile.kind_of(receipt_text(receipt)))
        for key, value in tx.to_dict().items():
            if key not in ("kind", "currency", "checks", "problems") and value not in (None, []):
                found[key] += 1
        for check in tx.checks:
            if not check.ok:
                failed[check.name] += 1
    n = len(receipts)
    notes.append("fields: " + (", ".join(f"{k} {v}/{n}" for k, v in sorted(found.items())) or "none found"))
    if failed:
        notes.append("checks failing on samples: " + ", ".join(f"{k} {v}/{n}" for k, v in sorted(failed.items())))
