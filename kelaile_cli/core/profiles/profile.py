"""POS profiles: the model of ``profiles/*.yaml``, its JSON Schema, and parsing with line numbers.

One profile describes one POS program: who makes it, what its printer is set up for, how to
recognise its receipts (signatures and habits) and which kinds of receipt it prints. Field
extraction rules come with the extractor. Parsing is sans-IO (text in, ``Profile`` out); errors name
the file, the line and the key, e.g. ``meiwei.yaml:12: detect.signatures[1].weight: …``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.extract import FieldRules

if TYPE_CHECKING:  # yaml is imported by the parser only: profiles from the cache need none
    import yaml

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
ReceiptKind = Literal["sale", "refund", "pre_bill", "kitchen", "shift_report", "other"]


class ProfileError(InputError):
    """A profile that cannot be used; the message names file:line and the key."""


class _Strict(BaseModel):
    # the schema is built on first validation: profiles read from the cache never pay for it
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PrinterFacts(_Strict):
    width: Literal[32, 42, 48] = Field(description="Paper width in normal-size columns (58 mm = 32, 80 mm = 42/48).")
    encoding: str | None = Field(
        default=None, description="Python codec of the printer's text (gb18030, cp950, cp858, …)."
    )


class Signature(_Strict):
    """Something this POS prints and others do not: a literal text or a regular expression."""

    text: str | None = Field(
        default=None, description="Literal text found in the receipt (fast: one automaton for all)."
    )
    regex: str | None = Field(default=None, description="Regular expression searched in the receipt text.")
    weight: float = Field(default=1.0, gt=0, le=10, description="How strongly a match points at this POS.")

    @model_validator(mode="after")
    def _one_of(self) -> Signature:
        if (self.text is None) == (self.regex is None):
            raise ValueError("give exactly one of 'text' or 'regex'")
        if self.text is not None and not self.text.strip():
            raise ValueError("'text' must not be blank")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return self


class Habits(_Strict):
    """Command habits of the program: weak evidence that breaks ties."""

    cut: Literal["full", "partial", "none"] | None = Field(default=None, description="How its receipts end.")
    dialect: Literal["escpos", "star"] | None = Field(
        default=None, description="Command set of its printer: 'escpos' (Epson and clones) or 'star' (Star Line)."
    )


class Detection(_Strict):
    signatures: list[Signature] = Field(min_length=1, description="At least one; the more distinctive the better.")
    habits: Habits = Field(
        default_factory=Habits,
        json_schema_extra={"default": {"cut": None, "dialect": None}},
        description="Command habits: weak evidence that breaks ties.",
    )
    shop_bound: bool = Field(
        default=False,
        description="The signatures are one shop's lines (name, address), not marks of the program: the profile "
        "recognises that shop only.",
    )


class Profile(_Strict):
    """One POS program."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Lower-case id, e.g. 'meiwei-pos'.")
    name: str = Field(description="The POS program's name as its users know it.")
    vendor: str = Field(description="Who makes the program.")
    versions: list[str] = Field(default_factory=list, description="Program versions the profile was built from.")
    printer: PrinterFacts = Field(description="How the program's printer is set up.")
    detect: Detection = Field(description="How to recognise the program's receipts.")
    kinds: dict[ReceiptKind, list[str]] = Field(
        default_factory=dict, description="Receipt kind -> texts that mark it (first match wins, in file order)."
    )
    fields: FieldRules = Field(default_factory=FieldRules, description="How to read a transaction off a receipt.")

    def kind_of(self, text: str) -> str:
        """The receipt kind whose marker appears first in the profile's order, else 'other'."""
        for kind, markers in self.kinds.items():
            if any(marker in text for marker in markers):
                return kind
        return "other"

    @field_validator("kinds")
    @classmethod
    def _kinds_not_empty(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, markers in value.items():
            if not markers:
                raise ValueError(f"kind '{kind}' needs at least one marker text")
        return value


def profile_schema() -> dict[str, Any]:
    """The JSON Schema of a profile file, for editors (yaml-language-server) and linters."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "klx POS profile"
    return schema


# -- parsing with line numbers --------------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """1-based line of the YAML node at ``loc`` (or of the deepest ancestor that exists)."""
    import yaml

    best = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        best = node.start_mark.line + 1
    return best


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for key in loc:
        if key == "[key]":  # pydantic's marker for "the key itself is wrong"
            out += " (the key)"
        else:
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def parse_profile(text: str, name: str = "<profile>") -> Profile:
    """Parse and validate one profile; ``ProfileError`` names ``name:line: key: problem``."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(f"{name}:{line}: YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{name}:1: a profile is a mapping of keys (id, name, vendor, printer, detect, …)")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ProfileError(f"{name}:{_line_of(node, loc)}: {_dotted(loc)}: {msg}{more}") from None
