"""The profile file's schema: the pydantic models that validate ``profiles/*.yaml``, its JSON Schema, and
parsing a file (YAML with line numbers) into the plain ``Profile`` that detection and extraction use.

Only reading a profile file imports this module (and pydantic): profiles loaded from the cache are plain
dataclasses (``core.profiles.profile``, ``core.profiles.extract``) and never pay for it. Each model here has a
dataclass of the same name and fields there; ``to_runtime`` turns a validated model into it, and a test keeps
the two in step.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kelaile_cli.core.profiles import extract, profile
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.profile import ProfileError

__all__ = [
    "MODELS",
    "FieldRules",
    "Profile",
    "parse_profile",
    "profile_schema",
    "read_checked",
    "to_runtime",
    "validate_field_rules",
]

PaymentMethod = Literal["cash", "card", "mobile", "wechat", "alipay", "unionpay", "other"]
M = TypeVar("M", bound=BaseModel)
ReceiptKind = Literal["sale", "refund", "pre_bill", "kitchen", "shift_report", "other"]


class _Strict(BaseModel):
    # the schema is built on first validation
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class FieldRule(_Strict):
    pattern: str = Field(description="Regex over the receipt text (multiline); group 1 is the value.")


class DateRule(_Strict):
    pattern: str = Field(description="Regex over the receipt text (multiline); group 1 is the date-time text.")
    format: str = Field(description="strptime format of the captured text, e.g. '%Y-%m-%d %H:%M:%S'.")
    year_offset: int = Field(
        default=0, description="Added to the leading year before parsing (Minguo/ROC years: 1911, so 115 -> 2026)."
    )


class ItemsRule(_Strict):
    line: str = Field(description="Regex for one item line with named groups: name, qty, price, amount, sku.")
    start: str | None = Field(default=None, description="Items begin after the first line matching this.")
    end: str | None = Field(default=None, description="Items end at the first line after the start matching this.")
    sku_line: str | None = Field(default=None, description="Regex for a line holding the next item's SKU (group 1).")
    name_line: str | None = Field(
        default=None,
        description="Regex for a line holding the next item's name (group 'name' or 1, optional 'sku') when its "
        "figures are on the following line.",
    )


class PaymentRule(_Strict):
    pattern: str = Field(
        description="Regex over the receipt text (multiline); every match is one payment, group 1 its amount."
    )
    method: PaymentMethod = Field(
        description="How it was paid: cash, card, mobile (wallets such as PayPay, Kakao Pay, Bizum), wechat, "
        "alipay, unionpay or other."
    )


class ReportRules(_Strict):
    """Shift/Z report facts; per-method takings go in ``payments``, the net takings in ``total``."""

    number: FieldRule | None = Field(default=None, description="Report (Z) number.")
    opened: DateRule | None = Field(default=None, description="Start of the reported period.")
    closed: DateRule | None = Field(default=None, description="End of the reported period.")
    receipts: FieldRule | None = Field(default=None, description="Number of sales receipts in the period.")
    refunds: FieldRule | None = Field(default=None, description="Number of refunds/voids in the period.")
    refund_total: FieldRule | None = Field(default=None, description="Amount refunded in the period.")


class FieldRules(_Strict):
    """The ``fields:`` section of a profile."""

    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code carried in every transaction, e.g. 'KRW'."
    )
    decimals: int | None = Field(
        default=None,
        ge=0,
        le=4,
        description="Decimal places amounts are reported with, as the receipt prints them (0 for KRW, JPY, TWD; "
        "default 2).",
    )
    decimal_comma: bool = Field(
        default=False, description="Amounts are written 1.234,50 rather than 1,234.50 ('1'234.50' reads either way)."
    )
    tax_included: bool = Field(
        default=False, description="Prices include the tax shown (VAT/MwSt/TVA): tax is not added to the total."
    )
    refunds_negative: bool = Field(
        default=False,
        description="The POS prints refund amounts without a sign: make them negative on 'refund' receipts.",
    )
    report: ReportRules | None = Field(default=None, description="Rules for shift/Z reports.")
    datetime: DateRule | None = Field(default=None, description="When the receipt was printed (ISO 8601 out).")
    items: ItemsRule | None = Field(default=None, description="How to read the item lines.")
    payments: list[PaymentRule] = Field(default_factory=list, description="One rule per payment method printed.")
    store: FieldRule | None = Field(default=None, description="Shop or branch name.")
    terminal: FieldRule | None = Field(default=None, description="Till, register or terminal number.")
    cashier: FieldRule | None = Field(default=None, description="Cashier, server or operator.")
    order_no: FieldRule | None = Field(default=None, description="Order, receipt or bill number.")
    table: FieldRule | None = Field(default=None, description="Table number (restaurants).")
    covers: FieldRule | None = Field(default=None, description="Number of guests (group 1 must be digits).")
    member_id: FieldRule | None = Field(default=None, description="Member or loyalty card number.")
    subtotal: FieldRule | None = Field(default=None, description="Sum of the items before discount, service, tax.")
    discount: FieldRule | None = Field(default=None, description="Amount taken off (reported positive).")
    service_charge: FieldRule | None = Field(default=None, description="Service charge, packing or delivery fee.")
    tax: FieldRule | None = Field(default=None, description="Tax/VAT amount (added unless 'tax_included').")
    total: FieldRule | None = Field(default=None, description="Amount due.")
    change: FieldRule | None = Field(default=None, description="Change given back.")


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

    @field_validator("kinds")
    @classmethod
    def _kinds_not_empty(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, markers in value.items():
            if not markers:
                raise ValueError(f"kind '{kind}' needs at least one marker text")
        return value


#: each model and the plain dataclass it becomes
MODELS: dict[type[BaseModel], type] = {
    FieldRule: extract.FieldRule,
    DateRule: extract.DateRule,
    ItemsRule: extract.ItemsRule,
    PaymentRule: extract.PaymentRule,
    ReportRules: extract.ReportRules,
    FieldRules: extract.FieldRules,
    PrinterFacts: profile.PrinterFacts,
    Signature: profile.Signature,
    Habits: profile.Habits,
    Detection: profile.Detection,
    Profile: profile.Profile,
}


def to_runtime(value: Any) -> Any:
    """A validated model (and what it holds) as the plain dataclasses detection and extraction use."""
    if isinstance(value, BaseModel):
        model = type(value)
        return MODELS[model](**{name: to_runtime(getattr(value, name)) for name in model.model_fields})
    if isinstance(value, list):
        return [to_runtime(v) for v in value]
    if isinstance(value, dict):
        return {k: to_runtime(v) for k, v in value.items()}
    return value


def validate_field_rules(data: dict[str, Any]) -> extract.FieldRules:
    """A ``fields:`` section checked as a profile file's would be (``ValidationError`` if it is not valid)."""
    rules: extract.FieldRules = to_runtime(FieldRules.model_validate(data))
    return rules


def profile_schema() -> dict[str, Any]:
    """The JSON Schema of a profile file, for editors (yaml-language-server) and linters."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "klx POS profile"
    return schema


# -- parsing with line numbers --------------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """1-based line of the YAML node at ``loc`` (or of the deepest ancestor that exists)."""
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


def read_checked(text: str, name: str, model: type[M], shape: str, error: type[InputError] = InputError) -> M:
    """YAML ``text`` validated as ``model``; ``error`` names ``name:line: key: problem`` (``shape`` says
    what the top level must be, when it is not a mapping)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{name}:{line}: YAML: {problem}") from None
    if not isinstance(data, dict):
        raise error(f"{name}:1: {shape}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(f"{name}:{_line_of(node, loc)}: {_dotted(loc)}: {msg}{more}") from None


def parse_profile(text: str, name: str = "<profile>") -> profile.Profile:
    """Parse and validate one profile; ``ProfileError`` names ``name:line: key: problem``."""
    shape = "a profile is a mapping of keys (id, name, vendor, printer, detect, …)"
    parsed: profile.Profile = to_runtime(read_checked(text, name, Profile, shape, ProfileError))
    return parsed
