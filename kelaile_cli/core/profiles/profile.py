"""POS profiles as detection and extraction use them: plain, frozen data, no validation library.

One profile describes one POS program: who makes it, what its printer is set up for, how to
recognise its receipts (signatures and habits) and which kinds of receipt it prints. Field
extraction rules come with the extractor. A profile file is read and checked by ``parse_profile``
(``core.profiles.schema``: YAML, pydantic, errors naming ``file:line: key``), which alone imports
those libraries; profiles loaded from the cache are these dataclasses and cost nothing to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.extract import FieldRules

__all__ = [
    "RECEIPT_KINDS",
    "Detection",
    "Habits",
    "PrinterFacts",
    "Profile",
    "ProfileError",
    "Signature",
    "parse_profile",
    "profile_schema",
]

RECEIPT_KINDS = ("sale", "refund", "pre_bill", "kitchen", "shift_report", "other")


class ProfileError(InputError):
    """A profile that cannot be used; the message names file:line and the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterFacts:
    width: int  # normal-size columns: 32, 42 or 48
    encoding: str | None = None  # Python codec of the printer's text


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """Something this POS prints and others do not: a literal text or a regular expression."""

    text: str | None = None
    regex: str | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Habits:
    """Command habits of the program: weak evidence that breaks ties."""

    cut: str | None = None  # full, partial, none
    dialect: str | None = None  # escpos, star


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    signatures: list[Signature]
    habits: Habits = field(default_factory=Habits)
    shop_bound: bool = False  # the signatures are one shop's lines, not marks of the program


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """One POS program."""

    id: str
    name: str
    vendor: str
    versions: list[str] = field(default_factory=list)
    printer: PrinterFacts
    detect: Detection
    kinds: dict[str, list[str]] = field(default_factory=dict)  # receipt kind -> marker texts, in file order
    fields: FieldRules = field(default_factory=FieldRules)

    def kind_of(self, text: str) -> str:
        """The receipt kind whose marker appears first in the profile's order, else 'other'."""
        for kind, markers in self.kinds.items():
            if any(marker in text for marker in markers):
                return kind
        return "other"

    def to_dict(self) -> dict[str, Any]:
        """The profile as a profile file would say it, defaults filled in, unset (None) keys left out."""
        plain: dict[str, Any] = _plain(self)
        return plain


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(v) for f in fields(value) if (v := getattr(value, f.name)) is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def parse_profile(text: str, name: str = "<profile>") -> Profile:
    """Parse and validate one profile; ``ProfileError`` names ``name:line: key: problem``."""
    from kelaile_cli.core.profiles.schema import parse_profile as parse

    return parse(text, name)


def profile_schema() -> dict[str, Any]:
    """The JSON Schema of a profile file, for editors (yaml-language-server) and linters."""
    from kelaile_cli.core.profiles.schema import profile_schema as schema

    return schema()
