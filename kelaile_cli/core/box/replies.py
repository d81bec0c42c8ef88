"""Typed answers to HELLO, IDENTITY and STATE: what the box builds and what the host reads.

Each class's fields are its ``RESULT`` schema in ``messages.ANSWER_SCHEMAS`` (a test keeps the two equal),
so the schema stays the one source of truth. ``from_body`` checks a received body against the schema
(``MessageError`` BAD_PAYLOAD when a field is missing or mistyped; unknown fields from a newer box are
ignored); ``to_body`` is the CBOR map the box sends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from kelaile_cli.core.box.messages import MsgType, check_answer

__all__ = ["BootInfo", "Hello", "Identity", "SlotInfo", "State"]


def _known(cls: type, body: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in body.items() if k in names}


@dataclass(frozen=True, slots=True)
class Hello:
    """The box introduces itself: protocol version, identity, firmware, capabilities and link limits."""

    version: int
    model: str
    serial: str
    hw: str
    fw: str
    slot: str
    caps: list[str]
    max_frame: int
    bauds: list[int]
    baud: int
    chunk: int
    window: int

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Hello:
        check_answer(MsgType.HELLO, body)
        return cls(**_known(cls, body))

    def to_body(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One firmware slot as IDENTITY lists it; ``sha256`` is hex ("" when the slot is empty)."""

    name: str
    state: str
    version: str = ""
    size: int = 0
    sha256: str = ""
    confirmed: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SlotInfo:
        known = _known(cls, body)
        if isinstance(known.get("sha256"), bytes):
            known["sha256"] = known["sha256"].hex()
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the box is and what runs where: the running firmware, the active slot, a trial under way."""

    model: str
    serial: str
    hw: str
    fw: str
    active: str
    trial: bool
    slots: list[SlotInfo] = field(default_factory=list)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Identity:
        check_answer(MsgType.IDENTITY, body)
        known = _known(cls, body)
        known["slots"] = [SlotInfo.from_body(s) for s in body["slots"] if isinstance(s, dict)]
        return cls(**known)

    @property
    def running(self) -> SlotInfo | None:
        """The slot the box runs from."""
        return next((s for s in self.slots if s.name == self.active), None)

    def to_body(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class BootInfo:
    """The last boot: which slot, which version, on trial or not."""

    slot: str
    version: str
    trial: bool


@dataclass(frozen=True, slots=True)
class State:
    """The live state: uptime, last boot, links (host/pos/printer), counters, upload queue, errors, tap."""

    uptime: float
    boot: BootInfo
    links: dict[str, dict[str, Any]]
    counters: dict[str, int]
    queue: int
    last_errors: list[str]
    tap: bool
    answers: dict[str, Any] = field(default_factory=dict)  # printed/missed/late/unanswered, cut_wait_ms, last_missed
    orders: dict[str, Any] = field(default_factory=dict)  # online orders: received/printed/failed/waiting
    # provisioning support (None from a box without it): the box's clock (Unix s), cloud status, printer
    # health and the POS side's last receipt — docs/provisioning.md
    clock: float | None = None
    cloud: dict[str, Any] | None = None
    printer: dict[str, Any] | None = None
    pos: dict[str, Any] | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> State:
        check_answer(MsgType.STATE, body)
        known = _known(cls, body)
        known["boot"] = BootInfo(**_known(BootInfo, body["boot"]))
        return cls(**known)

    def to_body(self) -> dict[str, Any]:
        """The CBOR map; the optional parts only when the box has them."""
        optional = ("clock", "cloud", "printer", "pos")
        return {k: v for k, v in asdict(self).items() if k not in optional or v is not None}
