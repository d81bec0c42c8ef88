"""Label tables: the words receipts of one language print before a value, kept as data files.

One YAML file per language (``kelaile_cli/data/labels/<lang>.yaml``; a user adds one with
``klx profile new --labels FILE`` or a ``labels/`` folder beside their profiles). Each table lists,
per field, the labels POS programs print (``合計``, ``Subtotal``, ``부가세``), the words of payment
methods (including the region's mobile wallets), the title words of receipt kinds, and the
language's usual currency. ``klx profile new`` picks the language whose words the receipts print most.

Parsing is pure (text in, ``LabelTable`` out); the bundled tables are read from the package like
the encoding module's code-page data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.schema import read_checked

__all__ = ["LabelTable", "LanguageHits", "bundled_labels", "merge_labels", "parse_labels", "rank_languages"]

TextField = str  # order_no, table, cashier, terminal, member_id
KIND_ORDER = ("refund", "pre_bill", "kitchen", "shift_report", "sale")


class LabelTable(BaseModel):
    """The label words of one language (every list is in order of preference: ties go to the first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", description="BCP 47 tag, e.g. 'ko', 'zh-TW'.")
    name: str = Field(default="", description="The language's English name.")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code the language's receipts usually use."
    )
    text: dict[str, list[str]] = Field(
        default_factory=dict, description="order_no, table, cashier, terminal, member_id -> labels."
    )
    covers: list[str] = Field(default_factory=list, description="Labels of the number of guests.")
    amounts: dict[str, list[str]] = Field(
        default_factory=dict, description="subtotal, discount, service_charge, tax, total, change -> labels."
    )
    payments: dict[str, list[str]] = Field(
        default_factory=dict, description="Payment method (cash, card, mobile, wechat, …) -> the words printed."
    )
    kinds: dict[str, list[str]] = Field(default_factory=dict, description="Receipt kind -> title words.")

    def words(self) -> set[str]:
        """Every label word of the table (field labels, payment words; not kind titles)."""
        groups = [*self.text.values(), self.covers, *self.amounts.values(), *self.payments.values()]
        return {w for group in groups for w in group}


_TEXT = {"order_no", "table", "cashier", "terminal", "member_id"}
_AMOUNTS = {"subtotal", "discount", "service_charge", "tax", "total", "change"}
_METHODS = {"cash", "card", "mobile", "wechat", "alipay", "unionpay", "other"}


def parse_labels(text: str, name: str = "<labels>") -> LabelTable:
    """Parse one label table; ``InputError`` names the file and the key."""
    shape = "a label table is a mapping (language, text, amounts, payments, kinds)"
    table = read_checked(text, name, LabelTable, shape)
    for section, allowed in (("text", _TEXT), ("amounts", _AMOUNTS), ("payments", _METHODS), ("kinds", KIND_ORDER)):
        unknown = set(getattr(table, section)) - set(allowed)
        if unknown:
            raise InputError(
                f"{name}: {section}: unknown key '{sorted(unknown)[0]}'", remedy=f"known: {', '.join(sorted(allowed))}"
            )
    return table


@cache
def bundled_labels() -> tuple[LabelTable, ...]:
    """The label tables shipped with klx, in language-tag order."""
    folder = resources.files("kelaile_cli") / "data" / "labels"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return tuple(parse_labels(f.read_text(encoding="utf-8"), f"labels/{f.name}") for f in files)


def _present(word: str, text: str) -> bool:
    if word[0].isascii() and word[0].isalpha():  # a whole word, any letter case: 'Bar' is not in 'Barbara'
        return re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", text, re.I) is not None
    return word in text


@dataclass(frozen=True, slots=True)
class LanguageHits:
    table: LabelTable
    hits: int  # distinct label words of the table the receipts print


def rank_languages(tables: Iterable[LabelTable], texts: Sequence[str]) -> list[LanguageHits]:
    """Tables whose words the receipts print, most distinct words first (ties: the given order)."""
    joined = "\n".join(texts)
    ranked = [LanguageHits(t, sum(1 for w in t.words() if _present(w, joined))) for t in tables]
    return sorted((r for r in ranked if r.hits), key=lambda r: -r.hits)


def merge_labels(tables: Sequence[LabelTable]) -> LabelTable:
    """One table with every list of ``tables`` joined in their order (duplicates dropped)."""

    def join(groups: Iterable[list[str]]) -> list[str]:
        return list(dict.fromkeys(w for g in groups for w in g))

    def join_map(attr: str) -> dict[str, list[str]]:
        keys = list(dict.fromkeys(k for t in tables for k in getattr(t, attr)))
        return {k: join(getattr(t, attr).get(k, []) for t in tables) for k in keys}

    first = tables[0] if tables else None
    return LabelTable(
        language=first.language if first else "und",
        name="+".join(t.language for t in tables),
        currency=first.currency if first else None,
        text=join_map("text"),
        covers=join(t.covers for t in tables),
        amounts=join_map("amounts"),
        payments=join_map("payments"),
        kinds={k: v for k, v in ((k, join(t.kinds.get(k, []) for t in tables)) for k in KIND_ORDER) if v},
    )
