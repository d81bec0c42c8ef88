"""``klx provision``: bring a box into service for a store, step by step (services/box/provision)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.core.errors import InputError

_MARK = {"ok": "[green]✓[/]", "partial": "[yellow]![/]", "reused": "[green]✓[/]", "failed": "[bold red]✗[/]"}
_SKIP = {"step", "status", "elapsed_s", "title", "caps", "job_hex", "timeout_s", "files", "note", "cause",
         "remedy", "next", "code", "layer"}  # fmt: skip


def _json_line(doc: dict[str, Any]) -> None:
    emit_json(doc)  # the one JSON style, a line per event as it happens


def _show(event: dict[str, Any]) -> None:
    """One line per finished step (rich), the prompt of a step that waits for someone."""
    status = event.get("status")
    if status == "waiting":
        what = event.get("prompt") or "waiting"
        where = event.get("url") or event.get("listening") or ""
        out.print(f"  [cyan]…[/] {escape(str(what))} {escape(str(where))}")
        return
    if status not in _MARK:
        return
    found = ", ".join(f"{k} {v}" for k, v in event.items() if k not in _SKIP and v not in (None, "", []))
    line = f"{_MARK[status]} {escape(str(event.get('title') or event['step'])):<32} {event['elapsed_s']:>6.1f} s"
    out.print(f"{line}  [dim]{escape(found)}[/]" + (" [dim](from the last run)[/]" if status == "reused" else ""))
    if event.get("note"):
        out.print(f"  [yellow]{escape(str(event['note']))}[/]")
    if status == "failed":
        out.print(f"  [bold red]{escape(str(event.get('code')))}[/] [dim]layer[/] {escape(str(event.get('layer')))}: "
                  f"{escape(str(event.get('cause')))}")  # fmt: skip
        if event.get("remedy"):
            out.print(f"  [bold]what to do:[/] {escape(str(event['remedy']))}")
        if event.get("next"):
            out.print(f"  [bold]then run:[/] {escape(str(event['next']))}")


def _ask(question: str) -> str:
    return str(typer.prompt(question, default="", show_default=False, err=True))


def _summary(outcome: Any) -> None:
    from kelaile_cli.services.box.provision.report import summary

    table = Table("step", "status", "time", "result", title=f"box {outcome.serial or '?'}", title_justify="left")
    for row in summary(outcome.steps):
        table.add_row(*(escape(c) for c in row))
    out.print(table)
    verdict = "[bold green]provisioned[/]" if outcome.ok else "[bold red]not provisioned[/]"
    out.print(f"{verdict}: store {escape(str(outcome.store))}, device {escape(str(outcome.device_id))}, "
              f"POS {escape(str(outcome.profile or 'unknown'))} in {outcome.elapsed_s:.1f} s")  # fmt: skip


def _batch_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(f"--batch {path}: cannot read ({exc.strerror or exc})") from None
    for i, row in enumerate(rows, start=2):
        if not (row.get("box") or row.get("port")) or not row.get("claim"):
            raise InputError(f"{path}:{i}: each row needs box (or port) and claim",
                             remedy="header line: box,port,claim,store (store is optional)")  # fmt: skip
    return rows


app = typer.Typer(rich_markup_mode="rich", add_completion=False)


@app.command("provision")
def provision_cmd(
    port: Annotated[str | None, typer.Option("--port", help="The box's port (a device path or socket:// URL).")] = None,
    box: Annotated[str | None, typer.Option("--box", help="The box's serial number (USB or emulated).")] = None,
    cloud: Annotated[str | None, typer.Option("--cloud", help="The Kelaile cloud's base URL.", envvar="KLX_CLOUD")] = (
        None
    ),
    claim: Annotated[str | None, typer.Option("--claim", help="Claim code from the work order (XXXX-XXXX-C).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing; do not wait for the QR scan.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON event per line; the last says done.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last run (its port, cloud, code).")] = False,
    scan_timeout: Annotated[float, typer.Option("--scan-timeout", min=1, help="Seconds to wait for the scan.")] = 120,
    pos_timeout: Annotated[float, typer.Option("--pos-timeout", min=1, help="Seconds to wait for a receipt.")] = 180,
    firmware: Annotated[Path | None, typer.Option("--firmware", help="Install this image first (klx flash).")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="CSV of boxes and claim codes: one after another.")] = (
        None
    ),
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Where report.json and the ticket go.")] = (
        None
    ),
) -> None:
    """Connect a store's box in minutes: find it, check it, claim it, check printer and POS, print a ticket."""
    from kelaile_cli.services.box.provision import ProvisionOptions, provision, saved_options

    if port and box:
        raise InputError("give --port or --box, not both")
    if resume:
        saved = saved_options(box)
        port, cloud, claim = port or (None if box else saved.get("port")), cloud or saved.get("cloud"), (
            claim or saved.get("claim"))  # fmt: skip
    if not cloud:
        raise InputError(
            "which cloud? give --cloud URL (or set KLX_CLOUD)", remedy="e.g. --cloud https://cloud.kelaile.example"
        )
    targets = _batch_rows(batch) if batch else [{"port": port or "", "box": box or "", "claim": claim or ""}]
    failed, last_error = 0, None
    for n, row in enumerate(targets, start=1):
        options = ProvisionOptions(
            cloud=cloud, port=row.get("port") or None, box=row.get("box") or None, claim=row.get("claim") or None,
            yes=yes or as_json, resume=resume, scan_timeout=scan_timeout, pos_timeout=pos_timeout,
            firmware=firmware, report_dir=report_dir,
        )  # fmt: skip
        tag = {"row": n} if batch else {}
        on_event = (lambda ev, tag=tag: _json_line({**ev, **tag})) if as_json else _show
        if batch and not as_json:
            out.print(f"[bold]{n}/{len(targets)}[/] box {escape(row.get('box') or row.get('port') or '')}")
        try:
            outcome = provision(options, on_event, ask=None if as_json else _ask)
        except KeyboardInterrupt:  # the state is saved after every step: the next run continues
            if as_json:
                _json_line({"event": "done", "ok": False, "interrupted": True, "next": "klx provision --resume", **tag})
            else:
                err.print("[yellow]interrupted: run `klx provision --resume` to continue where it stopped[/]")
            raise
        if as_json:
            _json_line({**outcome.done_event(), **tag})
        else:
            _summary(outcome)
        if not outcome.ok:
            failed += 1
            last_error = outcome.error
    if failed:
        if batch and not as_json:
            err.print(f"[bold red]klx: {failed} of {len(targets)} boxes not provisioned[/]")
        raise typer.Exit(last_error.exit_code if len(targets) == 1 and last_error is not None else 1)
