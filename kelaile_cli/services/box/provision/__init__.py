"""``klx provision`` as a library: a resumable step machine over the box protocol and the cloud.

``provision(ProvisionOptions(...), on_event)`` runs find → preflight → cloud → claim → printer → POS →
test print → QR check → report, reports every step through ``on_event`` (dicts: ``step``, ``status``,
``elapsed_s``, …) and returns a ``ProvisionOutcome``; it never prints. See docs/provisioning.md.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError, KlxError
from kelaile_cli.services.box.provision.runner import Context, RunState, run_steps, state_dir
from kelaile_cli.services.box.provision.steps import build_steps

__all__ = ["ProvisionOptions", "ProvisionOutcome", "provision", "saved_options"]


@dataclass
class ProvisionOptions:
    cloud: str
    port: str | None = None
    box: str | None = None  # serial number
    claim: str | None = None
    yes: bool = False  # ask nothing; do not wait for the QR scan
    resume: bool = False
    scan_timeout: float = 120.0
    pos_timeout: float = 180.0
    firmware: Path | None = None
    state_dir: Path | None = None
    report_dir: Path | None = None


@dataclass
class ProvisionOutcome:
    ok: bool
    steps: list[dict[str, Any]]
    serial: str | None = None
    store: str | None = None
    device_id: str | None = None
    profile: str | None = None
    error: KlxError | None = None
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def done_event(self) -> dict[str, Any]:
        """The last line of ``--json``."""
        doc: dict[str, Any] = {
            "event": "done",
            "ok": self.ok,
            "serial": self.serial,
            "store": self.store,
            "device_id": self.device_id,
            "profile": self.profile,
            "elapsed_s": round(self.elapsed_s, 2),
            "steps": [{k: v for k, v in s.items() if k != "job_hex"} for s in self.steps],
        }
        if self.error is not None:
            doc["error"] = self.error.as_dict()
            doc["error"]["layer"] = self.error.layer
        return doc


def saved_options(box: str | None, directory: Path | None = None) -> dict[str, Any]:
    """The options a previous run of box ``box`` saved (for ``--resume``); ``InputError`` if none."""
    folder = directory or state_dir()
    candidates = [folder / f"{box}.json"] if box else sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(candidates):
        if path.is_file():
            return dict(RunState.load(path).doc.get("options") or {})
    raise InputError(
        "nothing to resume: no earlier klx provision run was found" + (f" for box {box}" if box else ""),
        remedy="run klx provision --cloud URL --claim CODE",
        code="NOTHING_TO_RESUME",
    )


def provision(
    options: ProvisionOptions,
    on_event: Callable[[dict[str, Any]], None] = lambda event: None,
    ask: Callable[[str], str] | None = None,
) -> ProvisionOutcome:
    """Provision one box. ``ask`` poses a question to the technician (None, or ``--yes``: ask nothing)."""
    if not options.cloud.startswith(("http://", "https://")):
        raise InputError(
            f"--cloud {options.cloud}: expected an http:// or https:// URL", remedy="e.g. --cloud http://127.0.0.1:8787"
        )
    start = time.monotonic()
    ctx = Context(options=options, emit=on_event, ask=None if options.yes and options.claim else ask)
    try:
        result = run_steps(build_steps(options), ctx)
    finally:
        client = ctx.values.pop("_client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
    values = ctx.values
    return ProvisionOutcome(
        ok=result.ok,
        steps=result.steps,
        serial=values.get("find", {}).get("serial"),
        store=values.get("claim", {}).get("store"),
        device_id=values.get("claim", {}).get("device_id"),
        profile=values.get("pos", {}).get("profile"),
        error=result.error,
        elapsed_s=time.monotonic() - start,
    )
