"""The provisioning step machine: run named steps in order, report each through a callback, keep state.

Each step is a function of the run's ``Context`` that returns a detail dict (shown and kept) or raises
a ``KlxError`` whose code, layer, remedy and next command end the run. A step may also return a
``Partial``: done, but with something the technician should know (an unknown POS program, a QR
printed but not scanned). After every step the state file is replaced atomically, so a run stopped at
any moment (Ctrl-C, a crash, SIGKILL, a pulled cable) is continued by the next one: steps marked
``reuse`` whose result is in the state are not done twice; the others are cheap checks and run again,
so no stale result is ever reported as current.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError, JobError, KlxError
from kelaile_cli.transports.files import write_atomic

__all__ = ["STATE_VERSION", "Context", "Partial", "RunResult", "RunState", "Step", "run_steps", "state_dir"]

STATE_VERSION = 1
Event = dict[str, Any]


@dataclass
class Partial:
    """A step that finished with a caveat: ``detail`` as usual, plus a ``note`` for the report."""

    detail: dict[str, Any]
    note: str


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    timeout_s: float
    run: Callable[[Context], dict[str, Any] | Partial]
    reuse: bool = False  # a finished result in the state is reused instead of running again


def state_dir() -> Path:
    """Where runs keep their state: ``$KLX_STATE_DIR``, else ``$XDG_STATE_HOME/klx/provision``."""
    if os.environ.get("KLX_STATE_DIR"):
        return Path(os.environ["KLX_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "klx" / "provision"


class RunState:
    """The state file of one box's provisioning (``<dir>/<serial>.json``, mode 0600: it names the claim)."""

    def __init__(self, path: Path, doc: dict[str, Any] | None = None) -> None:
        self.path = path
        self.doc: dict[str, Any] = doc or {"version": STATE_VERSION, "steps": {}, "options": {}}

    @classmethod
    def load(cls, path: Path) -> RunState:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{path}: unreadable provisioning state ({exc})",
                remedy="delete the file to start this box's provisioning afresh",
            ) from None
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION or not isinstance(doc.get("steps"), dict):
            raise InputError(
                f"{path}: not a provisioning state of this klx version",
                remedy="delete the file to start this box's provisioning afresh",
            )
        return cls(path, doc)

    def done(self, step: str) -> dict[str, Any] | None:
        entry = self.doc["steps"].get(step)
        return entry if isinstance(entry, dict) and entry.get("status") in ("ok", "partial") else None

    def record(self, step: str, entry: dict[str, Any]) -> None:
        self.doc["steps"][step] = entry
        self.save()

    def forget(self, *steps: str) -> None:
        for step in steps:
            self.doc["steps"].pop(step, None)
        self.save()

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(self.doc, indent=1, ensure_ascii=False).encode())
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise InputError(
                f"{self.path}: cannot write the provisioning state ({exc.strerror or exc})",
                remedy="set KLX_STATE_DIR to a writable directory",
            ) from None


@dataclass
class Context:
    """What steps share: the options, the state, the callback, the deadline of the running step."""

    options: Any
    emit: Callable[[Event], None]
    state: RunState | None = None
    values: dict[str, Any] = field(default_factory=dict)  # results of earlier steps, by name
    step: str = ""
    started: float = 0.0
    deadline: float = 0.0
    ask: Callable[[str], str] | None = None  # a question to the technician (None: never ask)

    def left(self) -> float:
        """Seconds left before the running step's timeout."""
        return max(0.0, self.deadline - time.monotonic())

    def progress(self, status: str, **detail: Any) -> None:
        """An intermediate event of the running step (e.g. ``waiting``)."""
        self.emit(
            {"step": self.step, "status": status, "elapsed_s": round(time.monotonic() - self.started, 2), **detail}
        )


@dataclass
class RunResult:
    ok: bool
    steps: list[Event]
    error: KlxError | None = None


def _error_entry(exc: KlxError) -> dict[str, Any]:
    return {"code": exc.code, "layer": exc.layer, "cause": exc.message, "remedy": exc.remedy, "next": exc.next_command}


def run_steps(steps: list[Step], ctx: Context) -> RunResult:
    """Run ``steps`` in order until one fails. Every step emits ``start`` and one of ``ok``/``partial``/
    ``reused``/``failed`` with its elapsed time; the state (once ``ctx.state`` is set) records each."""
    done: list[Event] = []
    for step in steps:
        ctx.step, ctx.started = step.name, time.monotonic()
        ctx.deadline = ctx.started + step.timeout_s
        previous = ctx.state.done(step.name) if ctx.state is not None and step.reuse else None
        if previous is not None:
            ctx.values[step.name] = previous.get("detail") or {}
            event = {
                "step": step.name,
                "status": "reused",
                "elapsed_s": 0.0,
                "title": step.title,
                **(previous.get("detail") or {}),
            }
            if previous.get("note"):
                event["note"] = previous["note"]
            ctx.emit(event)
            done.append(event)
            continue
        ctx.emit(
            {"step": step.name, "status": "start", "elapsed_s": 0.0, "title": step.title, "timeout_s": step.timeout_s}
        )
        try:
            outcome = step.run(ctx)
        except KlxError as exc:
            event = {
                "step": step.name,
                "status": "failed",
                "elapsed_s": _since(ctx.started),
                "title": step.title,
                **_error_entry(exc),
            }
            if ctx.state is not None:
                ctx.state.record(step.name, {"status": "failed", "at": time.time(), "error": _error_entry(exc)})
            ctx.emit(event)
            done.append(event)
            return RunResult(False, done, exc)
        note = outcome.note if isinstance(outcome, Partial) else None
        detail = outcome.detail if isinstance(outcome, Partial) else outcome
        ctx.values[step.name] = detail
        status = "partial" if note else "ok"
        event = {"step": step.name, "status": status, "elapsed_s": _since(ctx.started), "title": step.title, **detail}
        if note:
            event["note"] = note
        if ctx.state is not None:
            ctx.state.record(step.name, {"status": status, "at": time.time(), "detail": detail, "note": note})
        ctx.emit(event)
        done.append(event)
    return RunResult(True, done)


def _since(start: float) -> float:
    return round(time.monotonic() - start, 2)


def step_timeout(
    ctx: Context, what: str, *, code: str, layer: str, remedy: str, next_command: str | None = None
) -> JobError:
    """The error a step raises when its own timeout ran out while waiting for ``what``."""
    spent = time.monotonic() - ctx.started
    return JobError(
        f"{what}: nothing within {spent:.0f} s", remedy=remedy, code=code, layer=layer, next_command=next_command
    )
