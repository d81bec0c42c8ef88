"""The provisioning report: one document (JSON), the ticket as the printer got it (PNG and HTML), and
its upload to the cloud as the device's install record."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.transports.files import write_atomic

__all__ = ["build_report", "summary", "upload_install", "write_report"]


def build_report(ctx: Any) -> dict[str, Any]:
    """The report of a run from its steps' results (the report step itself is not in it yet)."""
    values: dict[str, Any] = ctx.values
    state_steps = ctx.state.doc["steps"] if ctx.state is not None else {}
    find, claim, pos = values.get("find", {}), values.get("claim", {}), values.get("pos", {})
    printer, ticket, qr = values.get("printer", {}), values.get("test_print", {}), values.get("qr", {})
    return {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "serial": find.get("serial"),
        "model": find.get("model"),
        "fw": values.get("preflight", {}).get("fw") or find.get("fw"),
        "store": claim.get("store"),
        "device_id": claim.get("device_id"),
        "cloud": ctx.options.cloud,
        "printer": {k: printer.get(k) for k in ("link", "model", "online", "paper", "cover")},
        "pos": {"profile": pos.get("profile"), "confidence": pos.get("confidence")},
        "ticket": {"qr": ticket.get("qr"), "bytes": ticket.get("bytes"), "scanned": qr.get("scanned")},
        "steps": {
            name: {k: v for k, v in entry.items() if k in ("status", "note")} for name, entry in state_steps.items()
        },
    }


def write_report(doc: dict[str, Any], directory: Path, job_hex: str | None) -> list[str]:
    """``report.json``, and ``ticket.png``/``ticket.html`` rendered from the bytes the printer received."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        files = [directory / "report.json"]
        write_atomic(files[0], json.dumps(doc, indent=1, ensure_ascii=False).encode())
        if job_hex:
            from kelaile_cli.core.render.html import render_html
            from kelaile_cli.core.render.png import render_png

            receipts = read_receipts(bytes.fromhex(job_hex))
            if receipts:
                write_atomic(directory / "ticket.png", render_png(receipts[0]))
                html = render_html(receipts[:1], title=f"Kelaile provisioning ticket {doc.get('serial')}")
                write_atomic(directory / "ticket.html", html.encode())
                files += [directory / "ticket.png", directory / "ticket.html"]
    except OSError as exc:
        raise InputError(
            f"{directory}: cannot write the report ({exc.strerror or exc})",
            remedy="pass --report-dir DIR with a writable directory",
        ) from None
    return [str(f) for f in files]


def upload_install(qr_url: str | None, doc: dict[str, Any], timeout: float = 8.0) -> tuple[bool, str]:
    """PUT the report to ``<ticket URL>/install``: ``(True, "")`` or ``(False, why)``."""
    if not qr_url:
        return False, "no ticket URL"
    try:
        answer = httpx.put(f"{qr_url}/install", json=doc, timeout=timeout)
    except httpx.HTTPError as exc:
        return False, str(exc) or type(exc).__name__
    if answer.status_code != 204:
        return False, f"HTTP {answer.status_code}"
    return True, ""


def summary(result_steps: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Rows of the summary table: step title, status, elapsed, what it found or why it failed."""
    rows = []
    for ev in result_steps:
        what = ev.get("note") or ev.get("cause") or ""
        if not what:
            skip = {"step", "status", "elapsed_s", "title", "caps", "job_hex", "timeout_s", "files"}
            what = ", ".join(f"{k} {v}" for k, v in ev.items() if k not in skip and v not in (None, ""))
        rows.append((str(ev.get("title") or ev["step"]), str(ev["status"]), f"{ev['elapsed_s']:.1f} s", what))
    return rows
