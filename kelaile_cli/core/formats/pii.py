"""Find personal data in one run of receipt text (pure): where it is, what it is, how much to keep.

Each finder returns ``Span``s over the text it was given. Numbers are checked the way their issuers
define them wherever a check exists, because receipts are full of numbers that are *not* personal —
amounts, dates, times, order and invoice numbers, barcodes — and a mask over those breaks the data a
shop uploads:

- phone numbers: a candidate run of digits and separators is kept only if ``phonenumbers`` (Google's
  libphonenumber metadata) calls it a valid number of one of the receipt regions (CN, TW, HK, US,
  GB, DE, FR), or an international number; an unseparated run that starts with neither ``0``, ``+``
  nor a Chinese mobile prefix also needs a phone label before it (order numbers look like that);
- payment cards: 13–19 digits with a card-scheme prefix and a valid Luhn digit (last four kept);
- IBANs: country code, check digits that pass ISO 7064 mod 97;
- Chinese resident ID numbers (18 characters, ISO 7064 MOD 11-2 check, ``X`` allowed) and Taiwanese
  national IDs (letter + 9 digits, checksum); a label (身份证/身分證) makes the check optional;
- e-mail addresses;
- member / loyalty / customer numbers after a label (会员号, Member ID, Loyalty #, Kundennr., N° client…).

Full-width forms (``１３８``) are folded to ASCII before matching — one character for one, so span
positions stay positions in the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

__all__ = ["MEMBER_LABELS", "REGIONS", "Span", "find_pii", "fold_width"]

REGIONS = ("CN", "TW", "HK", "US", "GB", "DE", "FR")

MEMBER_LABELS = (
    "会员",
    "會員",
    "会员号",
    "会员卡",
    "会员卡号",
    "會員編號",
    "會員卡號",
    "会员编号",
    "卡号",
    "卡號",
    "积分卡",
    "積分卡",
    "Member",
    "Member No",
    "Member ID",
    "Membership",
    "Membership No",
    "Card No",
    "Loyalty",
    "Loyalty No",
    "Loyalty Card",
    "Rewards",
    "Clubcard",
    "Nectar",
    "VIP",
    "Customer No",
    "Customer ID",
    "Account",
    "Mitglied",
    "Mitgliedsnr",
    "Mitgliedsnummer",
    "Kundennr",
    "Kundennummer",
    "Kunden-Nr",
    "Kundenkarte",
    "Payback",
    "Payback-Karte",
    "Carte fidélité",
    "Carte de fidélité",
    "N° adhérent",
    "No adhérent",
    "N° client",
    "Numéro client",
    "N° carte",
)

_PHONE_LABEL = re.compile(
    r"(?<![A-Za-z])(?:电话|電話|手机|手機|联系|聯絡|Tel|Phone|Mobile|Mob|Cell|Fax|Handy|Telefon|Tél|Portable)\.?\s*[:：#]?\s*$",
    re.I,
)
_ID_LABEL = re.compile(
    r"(?:身份证|身分證|身份證|证件|證件|ID\s*No|Identity)\s*(?:号|號|号码|號碼)?\s*[:：#]?\s*$", re.I
)
# numbers these labels introduce belong to the shop, the sale or the terminal, not to a person
_NOT_PERSONAL = re.compile(
    r"(?<![A-Za-z])(?:SIRET|SIREN|TVA|VAT|USt|UID|St\.?-?Nr|Steuer\w*|Tax\s*ID|ABN|GST|税号|稅號|统一编号|統一編號|发票|發票|"
    r"Order|Bestell\w*|Commande|Beleg\w*|Bon|Ticket|Trans\w*|TSE\w*|Serial|Serien\w*|S/N|Terminal|TID|MID|"
    r"Auth\w*|Ref\w*|Invoice|Rechnung\w*|Facture|单号|單號|订单|訂單|流水|交易|批次|凭证|憑證|Batch|Receipt|Kasse)"
    r"\s*(?:No\.?|Nr\.?|N°|#|号|號|编号|編號)?\s*[:：#]?\s*[A-Z]{0,3}[-\s]?$",
    re.I,
)
# digits with single separators, an optional +CC and a parenthesised area code
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w.,/#*-])(?:\+\d{1,3}[ .-]?(?:\(0\)[ ]?)?)?(?:\(\d{2,5}\)[ .-]?)?\d(?:[ ./-]?\d){5,14}(?![\w,/:-]|\.\d)"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w]|\.\d)")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_CN_ID = re.compile(r"(?<![\w])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\w])")
_TW_ID = re.compile(r"(?<![\w])[A-Z][12]\d{8}(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``start:end`` of the text are personal data of ``kind``; keep its last ``keep`` digits."""

    start: int
    end: int
    kind: str  # phone | card | iban | national_id | email | member
    keep: int = 0


def fold_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space as ASCII, one character for one."""
    return text.translate(_FULLWIDTH)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_scheme(digits: str) -> bool:
    """A prefix a card scheme issues (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Diners, Maestro)."""
    if digits[0] in "3456":
        return True
    return 2221 <= int(digits[:4]) <= 2720


def _iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _cn_id_ok(s: str) -> bool:
    total = sum(int(d) * w for d, w in zip(s[:17], _CN_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == s[17].upper()


_TW_LETTERS = "ABCDEFGHJKLMNPQRSTUVXYWZIO"  # A=10 … in the order the ministry assigns them


def _tw_id_ok(s: str) -> bool:
    n = _TW_LETTERS.index(s[0]) + 10
    digits = [n // 10, n % 10] + [int(c) for c in s[1:]]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def _valid_in(candidate: str, regions: tuple[str | None, ...]) -> bool:
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _is_phone(cand: str, digits: str, labelled: bool) -> bool:
    """Whether a candidate is a phone number, by how it starts (see the module docstring)."""
    if labelled:
        return 8 <= len(digits) <= 13 or _valid_in(cand, (None,) if cand.startswith("+") else REGIONS)
    if cand.startswith("+"):
        return _valid_in(cand, (None,))
    if cand.startswith(("0", "(0")):  # a trunk prefix: CN, TW, GB, DE, FR national format
        return _valid_in(cand, ("CN", "TW", "GB", "DE", "FR"))
    groups = [len(g) for g in re.split(r"[ ./-]", re.sub(r"[()]", "", cand)) if g]
    if _CN_MOBILE.fullmatch(digits) and groups in ([11], [3, 4, 4], [3, 8]):
        return True
    if groups == [1, 3, 3, 4] and cand.startswith("1"):  # 1-800-555-0199
        return _valid_in(cand, ("US",))
    # otherwise only a North American number written 3-3-4 (bare ten digits are order numbers)
    return groups == [3, 3, 4] and _valid_in(cand, ("US",))


def _phones(text: str) -> list[Span]:
    spans = []
    for m in _PHONE_CANDIDATE.finditer(text):
        cand = m.group()
        digits = re.sub(r"\D", "", cand)
        if not 7 <= len(digits) <= 15 or _DATE.fullmatch(cand) or _NOT_PERSONAL.search(text[: m.start()]):
            continue
        if re.fullmatch(r"[\d ]*\d+\.\d{2}", cand):  # an amount, perhaps after a quantity
            continue
        if _is_phone(cand, digits, bool(_PHONE_LABEL.search(text[: m.start()]))):
            spans.append(Span(m.start(), m.end(), "phone"))
    return spans


def _card_grouping(number: str) -> bool:
    """Written as issuers print them: 4-4-4-4(-3), Amex/Diners 4-6-5 and 4-6-4, or ungrouped."""
    groups = [len(g) for g in re.split(r"[ -]", number)]
    if len(groups) == 1:
        return 15 <= groups[0] <= 19
    return groups in ([4, 4, 4, 4], [4, 4, 4, 4, 3], [4, 6, 5], [4, 6, 4])


def _member_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(label).replace(r"\ ", r"\s*") for label in sorted(labels, key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Za-z])(?:{alts})\.?\s*(?:ID|No\.?|Nr\.?|Number|#|号|號|编号|編號|号码|號碼)?\s*[:：#]?\s*"
        r"([0-9A-Za-z](?:[0-9A-Za-z*]|[ -](?=[0-9A-Za-z])){3,})",
        re.I,
    )


_MEMBER_DEFAULT = _member_pattern(MEMBER_LABELS)


def _members(text: str, pattern: re.Pattern[str]) -> list[Span]:
    out = []
    for m in pattern.finditer(text):
        value = m.group(1)
        first = value.split()[0]
        if sum(ch.isdigit() for ch in value) >= 3 and any(ch.isdigit() for ch in first):
            out.append(Span(m.start(1), m.end(1), "member"))
    return out


def find_pii(text: str, labels: tuple[str, ...] = MEMBER_LABELS) -> list[Span]:
    """Every span of personal data in ``text``, overlaps resolved (the earlier finder in the list wins)."""
    folded = fold_width(text)
    found: list[Span] = []
    for m in _EMAIL.finditer(folded):
        found.append(Span(m.start(), m.end(), "email"))
    for m in _IBAN.finditer(folded):
        if _iban_ok(m.group()):
            found.append(Span(m.start() + 2, m.end(), "iban"))
    for m in _CN_ID.finditer(folded):
        if _cn_id_ok(m.group()) or _ID_LABEL.search(folded[: m.start()]):
            found.append(Span(m.start(), m.end(), "national_id"))
    for m in _TW_ID.finditer(folded):
        if _tw_id_ok(m.group()) or _ID_LABEL.search(folded[: m.start()]):
            found.append(Span(m.start(), m.end(), "national_id"))
    for m in _CARD.finditer(folded):
        digits = re.sub(r"\D", "", m.group())
        if _NOT_PERSONAL.search(folded[: m.start()]):
            continue
        if 13 <= len(digits) <= 19 and _card_grouping(m.group()) and _card_scheme(digits) and _luhn(digits):
            found.append(Span(m.start(), m.end(), "card", keep=4))
    found += _members(folded, _MEMBER_DEFAULT if labels == MEMBER_LABELS else _member_pattern(labels))
    found += _phones(folded)
    kept: list[Span] = []
    for span in found:
        if not any(span.start < k.end and k.start < span.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)
