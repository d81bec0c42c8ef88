"""Draft a profile from a few receipts of an unknown POS: ``klx profile new``.

Pure: receipts in, a profile document out. What it infers:

* **signatures** — lines every (or nearly every) receipt prints the same way, ranked by how
  distinctive they look (long, mostly letters, no figures), and label-plus-value lines whose value
  keeps one shape (``单号: 20261125-0003`` → ``单号: \\d{8}-\\d{4}``). Candidates found in any
  *negative* text (receipts of other POS programs) are dropped, so the draft does not claim them;
* **habits** — paper width, encoding, cut and dialect when all samples agree;
* **kinds** — receipt-title words of the common zh-CN, zh-TW, English and German layouts;
* **fields** — label rules (order no, table, covers, cashier, amounts, payments, date-time) from
  multilingual label tables, kept only when they read a value on most samples, and an item-line
  layout chosen by which template makes the items add up to the subtotal or total most often.

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
from kelaile_cli.core.profiles.extract import FieldRules, extract
from kelaile_cli.core.profiles.profile import Profile, parse_profile
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

# -- label tables: the words common POS layouts print before a value -------------------------------------------

TEXT_LABELS: dict[str, list[str]] = {
    "order_no": [
        "订单号", "发票号", "發票號碼", "单据号", "單據號", "Note n°", "流水号", "小票号", "账单号", "单号", "單號",
        "訂單編號", "訂單號", "序號", "Order No", "Order #", "Order", "Receipt No", "Receipt #", "Bill No",
        "Check No", "Check #", "Invoice No", "Ticket No", "Bon-Nr", "Beleg-Nr", "Belegnr", "Bon Nr", "Ticket N°",
        "N° ticket",
    ],
    "table": ["桌号", "台号", "桌號", "枱號", "Table", "Tisch"],
    "cashier": [
        "收银员", "收銀員", "操作员", "服务员", "服務員", "Cashier", "Served by", "Server", "Kassierer", "Bediener",
        "Caissier", "Serveur",
    ],
    "terminal": ["机号", "收银机", "機號", "Terminal", "Till", "Register", "Kasse"],
    "member_id": [
        "会员卡号", "会员号", "會員卡號", "會員編號", "會員", "Member No", "Member ID", "Member", "Kundennr",
        "Bonuskarte",
    ],
}  # fmt: skip
COVERS_LABELS = ["人数", "人數", "客人数", "Guests", "Covers", "Pax", "Personen"]
AMOUNT_LABELS: dict[str, list[str]] = {
    "subtotal": [
        "菜品合计", "商品小计", "小计", "小計", "Subtotal", "Sub-total", "Sub Total", "Zwischensumme", "Sous-total",
    ],
    "discount": ["折扣", "优惠", "折讓", "優惠", "Discount", "Rabatt", "Remise"],
    "service_charge": ["服务费", "服務費", "Service charge", "Service", "Bedienung"],
    "tax": ["税额", "稅額", "税", "稅", "Tax", "VAT", "GST", "MwSt", "TVA"],
    "total": [
        "应付金额", "应收金额", "應收金額", "應付金額", "合计金额", "实付", "實付", "合计", "总计", "应收", "应付",
        "合計", "總計", "應收", "應付", "Amount due", "Total", "TOTAL", "Summe", "SUMME", "Gesamt", "Total TTC",
    ],
    "change": ["找零", "找贖", "找續", "Change", "Rückgeld", "Wechselgeld", "Rendu"],
}  # fmt: skip
PAYMENT_LABELS: dict[str, list[str]] = {
    "wechat": ["微信支付", "微信", "WeChat Pay", "WeChat"],
    "alipay": ["支付宝", "支付寶", "Alipay"],
    "unionpay": ["银联", "銀聯", "云闪付", "UnionPay"],
    "card": ["银行卡", "刷卡", "信用卡", "Credit card", "Card", "Visa", "Mastercard", "EC-Karte", "Karte", "Carte"],
    "cash": ["现金", "現金", "Cash", "Bar", "BAR", "Espèces"],
}
KIND_WORDS: dict[str, list[str]] = {
    "refund": ["退款", "退货", "退貨", "退單", "REFUND", "Refund", "VOID", "Void", "Storno", "Retoure"],
    "pre_bill": ["预结单", "预结账单", "預結單", "PRE-BILL", "Pre-bill", "Pre-Bill", "Proforma", "Zwischenrechnung"],
    "kitchen": ["厨房单", "厨房", "廚房", "KITCHEN", "Kitchen", "Küche"],
    "shift_report": ["交班", "交接班", "日结", "Z报表", "班結", "Z-REPORT", "Z REPORT", "Z-Report", "Shift report",
                     "X-REPORT", "Tagesabschluss", "Kassenabschluss"],
    "sale": ["结账单", "收银小票", "結帳單", "銷售單", "RECEIPT", "Receipt", "Rechnung", "Kassenbon", "Beleg"],
}  # fmt: skip
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
) -> Draft:
    """Draft a profile for the POS that printed ``receipts`` (a few of them, ideally of several kinds).

    ``negatives`` are texts of other POS programs' receipts; no signature of the draft occurs in them.
    Raises ``ValueError`` when nothing distinctive is found (the samples are empty or share no line).
    """
    if not receipts:
        raise ValueError("no receipts in the samples")
    texts = [receipt_text(r) for r in receipts]
    lines = [[ln.text.strip() for ln in r.lines] for r in receipts]
    notes: list[str] = []
    signatures = _signatures(lines, negatives, notes)
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
    if not document["detect"]["habits"]:
        del document["detect"]["habits"]
    kinds = _kinds(texts)
    if kinds:
        document["kinds"] = kinds
    document["fields"] = _fields(lines, texts, notes)
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


_LABEL_WORDS = {w for table in (TEXT_LABELS, AMOUNT_LABELS, PAYMENT_LABELS) for ws in table.values() for w in ws}
_LABEL_WORDS |= set(COVERS_LABELS)


def _signatures(lines: list[list[str]], negatives: Sequence[str], notes: list[str]) -> list[dict[str, Any]]:
    n = len(lines)
    per_receipt = [_units(receipt) for receipt in lines]
    seen = Counter(u for units in per_receipt for u in units)
    place: dict[str, int] = {}
    for units in per_receipt:
        for unit, where in units.items():
            place[unit] = min(place.get(unit, 2), where)
    candidates: list[tuple[int, int, float, str]] = []
    for unit, count in seen.items():
        if count < min(2, n) or _SEPARATOR.match(unit) or _distinctiveness(unit) < 4:
            continue
        if _label_value(unit):  # "收银员: 小王" repeats by chance: a value, not an identity
            continue
        if unit in _LABEL_WORDS or any(w in unit for w in _LABEL_WORDS if len(w) >= 2 and len(unit) <= len(w) + 2):
            continue  # a field label ("小计", "Subtotal") is every POS's, not this one's
        if any(unit in neg for neg in negatives):
            continue
        candidates.append((count, place[unit], min(_distinctiveness(unit), 20), unit))
    # most samples first; then the head (the shop's name is on every kind of receipt), the foot, the rest
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
    found = [c.get("text") or c.get("regex") for c in signatures]
    notes.append(f"signatures: {len(found)} ({'; '.join(str(f) for f in found)})")
    return signatures


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


def _kinds(texts: Sequence[str]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for kind, words in KIND_WORDS.items():
        markers = [w for w in words if any(w in text for text in texts)]
        # a word that is part of a longer marker already taken (预结单 ⊃ 结账单? no; REFUND ⊃ Refund? no) is kept
        if markers:
            kinds[kind] = markers[:3]
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
        pattern = rf"^\s*{word}[^\n]*?[\s$¥￥€£=:：]({value}-?)\s*$" if anchored else rf"{word}\s*[.:：#]?\s*({value})"
        printed = sum(1 for t in texts if spelled in t)
        hits = _hits(pattern, texts)
        if hits >= max(min(2, len(texts)), _needed(printed)) and (best is None or hits > best[0]):
            best = (hits, pattern)
    return best[1] if best else None


def _fields(lines: list[list[str]], texts: Sequence[str], notes: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if _decimal_comma(texts):
        fields["decimal_comma"] = True
    amount = _AMT if re.search(r"\d[.,]\d{1,2}\b", "\n".join(texts)) else _AMT_WHOLE
    for attr, labels in TEXT_LABELS.items():
        if rule := _label_rule(labels, texts, r"[^\s:：]\S*", anchored=False):
            fields[attr] = {"pattern": rule}
    if "order_no" not in fields and (label := _numbered_label(lines)):
        fields["order_no"] = {"pattern": rf"{re.escape(label)}\s*[:：#]?\s*(\S+)"}
        notes.append(f"order_no: no known label; '{label}' carries a changing number on every sample")
    if rule := _label_rule(COVERS_LABELS, texts, r"\d+", anchored=False):
        fields["covers"] = {"pattern": rule}
    for rx, fmt in DATE_FORMATS:
        if _hits(f"({rx})", texts) >= max(min(2, len(texts)), len(texts) // 2):
            fields["datetime"] = {"pattern": f"({rx})", "format": fmt}
            break
    for attr, labels in AMOUNT_LABELS.items():
        if rule := _label_rule(labels, texts, amount, anchored=True):
            fields[attr] = {"pattern": rule}
    payments = []
    for method, labels in PAYMENT_LABELS.items():
        if rule := _label_rule(labels, texts, amount, anchored=True):
            payments.append({"pattern": rule, "method": method})
    if payments:
        fields["payments"] = payments
    items = _items_rule(lines, fields, amount)
    if items:
        fields["items"] = items
    return fields


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
    stops = [f["pattern"] for k, f in fields.items() if k in AMOUNT_LABELS]
    stops += [p["pattern"] for p in fields.get("payments", [])]
    stop_rx = [re.compile(p) for p in stops]
    best: tuple[tuple[int, int, bool, Decimal, int], dict[str, Any]] | None = None
    for t_i, template in enumerate(ITEM_TEMPLATES):
        line_rule = template.replace("(?P<amount>AMT)", f"{_CURRENCY}?(?P<amount>AMT)").replace("AMT", amount)
        rx = re.compile(line_rule)
        blocks = [
            [i for i, ln in enumerate(receipt) if rx.search(ln) and not any(s.search(ln) for s in stop_rx)]
            for receipt in lines
        ]
        if sum(1 for b in blocks if b) < max(min(2, len(lines)), len(lines) // 2):
            continue  # item lines on too few samples (kitchen tickets and reports have none)
        rule: dict[str, Any] = {"line": line_rule, **_bounds(lines, blocks, stops)}
        trial = FieldRules.model_validate({k: v for k, v in fields.items() if k != "items"} | {"items": rule})
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


def _bounds(lines: list[list[str]], blocks: list[list[int]], stops: Sequence[str]) -> dict[str, str]:
    """``start``/``end``: the lines just before the first and after the last item on every sample
    (the same text, a separator, or — for the end — the line an amount rule reads, such as the total)."""
    before = [receipt[b[0] - 1] for receipt, b in zip(lines, blocks, strict=True) if b and b[0] > 0]
    after = [receipt[b[-1] + 1] for receipt, b in zip(lines, blocks, strict=True) if b and b[-1] + 1 < len(receipt)]
    out: dict[str, str] = {}
    for key, found in (("start", before), ("end", after)):
        common = _common(found)
        if common and _SEPARATOR.match(common):
            ch = common.strip()[0]
            out[key] = f"^{re.escape(ch)}{{{max(3, len(common.strip()) - 2)},}}$"
        elif common:
            out[key] = f"^{re.escape(common)}$"
        elif key == "end" and found:
            for stop in stops:
                if all(re.search(stop, ln) for ln in found):
                    out[key] = stop
                    break
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
