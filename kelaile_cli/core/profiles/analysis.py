"""One receipt through detection and extraction: the part of the box pipeline after decoding.

``analyse`` is what the box (and its emulator), ``klx parse`` and ``klx replay`` all run on a
decoded receipt; ``upload_body`` is the transaction document a device sends to the cloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kelaile_cli.core.profiles.detect import Detector, receipt_text
from kelaile_cli.core.stream.receipt import Receipt, line_texts

if TYPE_CHECKING:  # extraction (a dozen dataclasses to create at import) is loaded when a profile first wins
    from kelaile_cli.core.profiles.extract import Transaction

__all__ = ["Analysis", "analyse", "upload_body"]


class Analysis:
    """What ``analyse`` found: the best profile id (None when unknown), its confidence, the receipt's
    kind per that profile (None when unknown) and the transaction extracted.

    Treated as immutable. A plain class, not a (frozen) dataclass: one is made per receipt, and a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``; the class statement
    itself costs every start no generated code either. Equality, hash and repr as the dataclass had.
    """

    __slots__ = ("confidence", "kind", "profile", "transaction")

    def __init__(self, profile: str | None, confidence: float, kind: str | None, transaction: Transaction | None):
        self.profile = profile
        self.confidence = confidence
        self.kind = kind
        self.transaction = transaction

    def _fields(self) -> tuple[str | None, float, str | None, Transaction | None]:
        return (self.profile, self.confidence, self.kind, self.transaction)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Analysis)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Analysis(profile={self.profile!r}, confidence={self.confidence!r}, kind={self.kind!r}, "
            f"transaction={self.transaction!r})"
        )

    def identity(self) -> dict[str, Any]:
        """The keys ``klx parse --json`` adds to a receipt."""
        tx = self.transaction
        return {
            "profile": self.profile,
            "confidence": self.confidence,
            "kind": self.kind,
            "transaction": _members(tx, skip="checks") if tx else None,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in tx.checks] if tx else [],
        }


def _members(obj: Any, skip: str = "") -> dict[str, Any]:
    """``dataclasses.asdict(obj)`` (less the field ``skip``) for the extraction's dataclasses, whose
    values are strings, numbers, booleans, None, lists and such dataclasses: a parse of a shop's
    stream makes one per receipt, and ``asdict``'s general walk (a deep copy of every value) cost ~60 µs."""
    out: dict[str, Any] = {}
    for name in _field_names(type(obj)):
        if name != skip:
            value = getattr(obj, name)
            out[name] = value if value is None or type(value) in _SCALARS else _plain(value)
    return out


#: values ``asdict`` gives as they are (its deep copy of them is themselves)
_SCALARS = frozenset([str, int, float, bool])


def _plain(value: Any) -> Any:
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(type(value), "__dataclass_fields__"):
        return _members(value)
    from copy import deepcopy  # anything else: as asdict copies it

    return deepcopy(value)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        from dataclasses import fields

        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


def analyse(receipt: Receipt, detector: Detector) -> Analysis:
    """Detect the POS of one receipt and, when known, extract its transaction."""
    text = receipt_text(receipt)  # read once, by detection and by the winner's kinds
    ranked = detector.rank(receipt, text)
    best = detector.pick(ranked)
    if best is None:
        return Analysis(None, ranked[0].confidence if ranked else 0.0, None, None)
    from kelaile_cli.core.profiles.extract import extract

    profile = detector.profile(best.id)
    kind = profile.kind_of(text)
    tx = extract(profile.fields, line_texts(receipt), kind)
    return Analysis(profile.id, best.confidence, kind, tx)


def upload_body(analysis: Analysis, receipt_sha256: str, printed_at: str | None) -> dict[str, Any]:
    """The JSON document of ``POST /v1/transactions`` (see docs/cloud-api.md)."""
    identity = analysis.identity()
    return {
        "receipt_sha256": receipt_sha256,
        "printed_at": printed_at,
        "profile": identity["profile"],
        "confidence": round(identity["confidence"], 4),
        "kind": identity["kind"] or "other",
        "transaction": identity["transaction"],
        "checks": identity["checks"],
    }
