"""A/B firmware slots as a pure state machine: every transition returns a new ``SlotsState`` or raises.

One slot runs (``active``); a new image goes to the other one. Its life: ``begin`` (the slot is
invalidated first: state ``writing``) → ``write`` (in order) → ``finish`` (hash check → ``valid``) →
``activate`` (``pending``: the next boot tries it) → ``boot`` (runs it on trial) → ``confirm``
(permanent). A trial that reaches a second boot without ``confirm``, or an image that fails its first
boot, makes ``boot`` revert to the old slot. The store (services/emulator/slot_store.py) persists this state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kelaile_cli.core.box.errors import ErrorCode, Refused

__all__ = [
    "SLOT_NAMES",
    "Slot",
    "SlotError",
    "SlotsState",
    "activate",
    "begin",
    "boot",
    "confirm",
    "finish",
    "initial",
    "invalidate",
    "write",
]

SlotName = Literal["A", "B"]
SLOT_NAMES: tuple[SlotName, SlotName] = ("A", "B")
SlotPhase = Literal["empty", "writing", "valid", "failed"]


class SlotError(Refused, ValueError):
    """A transition not allowed now; ``error`` is BAD_STATE, BAD_OFFSET or VERIFY_FAILED."""

    def __init__(self, error: ErrorCode, text: str, state: SlotsState | None = None) -> None:
        super().__init__(error, text)
        self.state = state  # the state to keep after the refusal, if it changed (a failed verify)


@dataclass(frozen=True, slots=True)
class Slot:
    name: SlotName
    state: SlotPhase = "empty"
    version: str = ""
    size: int = 0
    sha256: str = ""  # hex
    written: int = 0  # bytes written (while ``writing``)
    confirmed: bool = False
    header: str = ""  # hex of the image header it was written from

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "version": self.version,
            "size": self.size,
            "sha256": self.sha256,
            "written": self.written,
            "confirmed": self.confirmed,
            "header": self.header,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Slot:
        return cls(
            name=d["name"],
            state=d["state"],
            version=str(d.get("version", "")),
            size=int(d.get("size", 0)),
            sha256=str(d.get("sha256", "")),
            written=int(d.get("written", 0)),
            confirmed=bool(d.get("confirmed", False)),
            header=str(d.get("header", "")),
        )


def _other(name: SlotName) -> SlotName:
    return "B" if name == "A" else "A"


@dataclass(frozen=True, slots=True)
class SlotsState:
    slots: tuple[Slot, Slot]
    active: SlotName = "A"
    pending: SlotName | None = None  # activated: the next boot runs it on trial
    trial: bool = False  # the active slot runs on trial (not yet confirmed)
    trial_boots: int = 0
    previous: SlotName | None = None  # where a failed trial reverts to
    last_event: str = field(default="", compare=False)  # what the last boot did (booted, trial, reverted)

    def slot(self, name: SlotName) -> Slot:
        return self.slots[SLOT_NAMES.index(name)]

    @property
    def inactive(self) -> SlotName:
        return _other(self.active)

    @property
    def running(self) -> Slot:
        return self.slot(self.active)

    def with_slot(self, slot: Slot) -> SlotsState:
        slots = (slot, self.slots[1]) if slot.name == "A" else (self.slots[0], slot)
        return replace(self, slots=slots)

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": [s.to_json() for s in self.slots],
            "active": self.active,
            "pending": self.pending,
            "trial": self.trial,
            "trial_boots": self.trial_boots,
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SlotsState:
        a, b = (Slot.from_json(s) for s in d["slots"])
        if (a.name, b.name) != SLOT_NAMES:
            raise ValueError("slots must be A then B")
        state = cls((a, b), d["active"], d.get("pending"), bool(d["trial"]), int(d["trial_boots"]), d.get("previous"))
        problem = state.problem()
        if problem:
            raise ValueError(problem)
        return state

    def problem(self) -> str | None:
        """What is inconsistent in this state (None: it is consistent)."""
        if self.active not in SLOT_NAMES:
            return f"active slot {self.active!r}"
        if self.running.state != "valid":
            return f"the active slot {self.active} is {self.running.state}, not valid"
        if self.pending is not None and (self.pending == self.active or self.slot(self.pending).state != "valid"):
            return f"pending slot {self.pending} is not a valid inactive slot"
        if self.trial and (self.previous is None or self.slot(self.previous).state != "valid"):
            return "a trial without a valid slot to revert to"
        for s in self.slots:
            if s.state == "writing" and not 0 <= s.written <= s.size:
                return f"slot {s.name} written {s.written} of {s.size}"
        return None


def initial(version: str, size: int, sha256: str) -> SlotsState:
    """A new box: the factory image in A, confirmed; B empty."""
    a = Slot("A", "valid", version, size, sha256, size, True)
    return SlotsState((a, Slot("B")))


def begin(state: SlotsState, version: str, size: int, sha256: str, header: str = "") -> tuple[SlotsState, int]:
    """Open the inactive slot for an image -> (state, resume offset).

    The same image already (partly) there resumes (``written``; the store lowers it to its last durable
    offset); anything else invalidates the slot first. Refused while a trial runs (the inactive slot is
    then the only way back)."""
    if state.trial:
        raise SlotError(ErrorCode.BAD_STATE, f"slot {state.active} runs on trial: confirm it or reboot before flashing")
    if size <= 0:
        raise SlotError(ErrorCode.BAD_STATE, "an image must not be empty")
    name = state.inactive
    slot = state.slot(name)
    state = replace(state, pending=None)
    if slot.sha256 == sha256 and slot.size == size:
        if slot.state == "valid":  # complete already: nothing to send, verify and activate again
            return state, size
        if slot.state == "writing":
            return state.with_slot(replace(slot, header=header or slot.header)), slot.written
    fresh = Slot(name, "writing", version, size, sha256, 0, False, header)
    return state.with_slot(fresh), 0


def write(state: SlotsState, offset: int, length: int) -> SlotsState:
    """``length`` bytes written at ``offset`` of the slot being written (offsets strictly in order)."""
    slot = state.slot(state.inactive)
    if slot.state != "writing":
        raise SlotError(ErrorCode.BAD_STATE, f"slot {slot.name} is not being written (FLASH_BEGIN first)")
    if offset != slot.written:
        raise SlotError(ErrorCode.BAD_OFFSET, f"write at {offset}, expected {slot.written}")
    if offset + length > slot.size:
        raise SlotError(ErrorCode.BAD_OFFSET, f"write of {length} at {offset} passes the image end {slot.size}")
    return state.with_slot(replace(slot, written=offset + length))


def finish(state: SlotsState, sha256: str) -> SlotsState:
    """All bytes written and ``sha256`` (hex, of the slot's content) computed: valid, or invalidated."""
    slot = state.slot(state.inactive)
    if slot.state == "valid" and slot.sha256 == sha256:
        return state
    if slot.state != "writing" or slot.written != slot.size:
        raise SlotError(
            ErrorCode.BAD_STATE, f"slot {slot.name} is {slot.state} with {slot.written} of {slot.size} bytes"
        )
    if sha256 != slot.sha256:
        bad = state.with_slot(Slot(slot.name))  # the slot is invalid; a re-run writes it again
        text = f"slot {slot.name} hashes to {sha256[:16]}…, expected {slot.sha256[:16]}…"
        raise SlotError(ErrorCode.VERIFY_FAILED, text, bad)
    return state.with_slot(replace(slot, state="valid"))


def invalidate(state: SlotsState, name: SlotName) -> SlotsState:
    """Forget the content of an inactive slot (abort, failed verify)."""
    if name == state.active or (name == state.previous and state.trial):
        raise SlotError(ErrorCode.BAD_STATE, f"slot {name} is needed to run or revert; it cannot be invalidated")
    pending = None if state.pending == name else state.pending
    return replace(state.with_slot(Slot(name)), pending=pending)


def activate(state: SlotsState) -> SlotsState:
    """The next boot runs the verified inactive slot on trial."""
    slot = state.slot(state.inactive)
    if slot.state != "valid":
        raise SlotError(ErrorCode.BAD_STATE, f"slot {slot.name} is {slot.state}: verify it before activating")
    if state.trial:
        raise SlotError(ErrorCode.BAD_STATE, f"slot {state.active} runs on trial: confirm it first")
    return replace(state, pending=slot.name)


def boot(state: SlotsState, fail: bool = False) -> SlotsState:
    """Power-up. ``fail``: the image chosen for a trial crashes during this boot."""
    if state.pending is not None:
        old = state.active
        trying = replace(state, active=state.pending, pending=None, trial=True, trial_boots=1, previous=old)
        trying = trying.with_slot(replace(trying.running, confirmed=False))
        if fail:
            reverted = replace(trying, active=old, trial=False, trial_boots=0, previous=None)
            return replace(reverted.with_slot(replace(trying.running, state="failed")), last_event="reverted")
        return replace(trying, last_event="trial")
    if state.trial:
        assert state.previous is not None
        if fail or state.trial_boots >= 1:  # a second boot without confirm: the trial failed
            return replace(
                state, active=state.previous, trial=False, trial_boots=0, previous=None, last_event="reverted"
            )
    return replace(state, last_event="booted")


def confirm(state: SlotsState) -> SlotsState:
    """Make the image running on trial permanent. Without a trial boot there is nothing to confirm: BAD_STATE
    (a host whose first confirm's answer was lost reads IDENTITY to learn that it did happen)."""
    if not state.trial:
        raise SlotError(ErrorCode.BAD_STATE, "no image runs on trial")
    done = replace(state, trial=False, trial_boots=0, previous=None)
    return done.with_slot(replace(done.running, confirmed=True))
