"""``klx demo``: the main job on its embedded default — an emulated box and a sandbox cloud, no hardware."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule
from rich.table import Table

from kelaile_cli.cli.console import emit_json, escape, out
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.core.render.terminal import render_rich
from kelaile_cli.core.stream.printstream import read_receipts

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


@app.command()
def demo(
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the box state, cloud database and printer output here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
    show_receipts: Annotated[bool, typer.Option("--receipts/--no-receipts", help="Show what was printed.")] = True,
) -> None:
    """Run the whole loop locally: POS → emulated box → printer, and box → sandbox cloud → coupon QR.

    Exit 1 if any byte printed differs from what the POS sent or an upload did not complete.
    """
    from kelaile_cli.services.demo import run_demo

    def step(name: str, detail: str) -> None:
        if not as_json:
            out.print(f"[green]✓[/] [bold]{name:<5}[/] {escape(detail)}")

    report = run_demo(keep, on_step=step)
    ok = report.passthrough_exact and bool(report.uploads)
    if as_json:
        emit_json(report.to_dict())
        raise typer.Exit(ExitCode.OK if ok else ExitCode.FAILURE)
    mark = "[green]✓[/]" if report.passthrough_exact else "[red]✗[/]"
    added = report.bytes_printed - report.bytes_sent
    verdict = "unchanged and in order" if report.passthrough_exact else "[red]NOT unchanged[/]"
    out.print(f"{mark} [bold]print[/] the printer got all {report.bytes_sent} bytes the POS sent, {verdict}, plus "
              f"{report.injected_found} cloud answers ({added} bytes) printed above the cuts")  # fmt: skip
    if show_receipts:
        for receipt in read_receipts(report.printed):
            out.print(Rule(f"printed receipt {receipt.index + 1} · {receipt.encoding} · {receipt.width} cols"))
            out.print(render_rich(receipt))
    table = Table("profile", "kind", "order", "total", "cloud answer", "QR", title="transactions in the cloud")
    for up in report.uploads:
        body, answer = up["body"], up["answer"]
        tx = body.get("transaction") or {}
        table.add_row(escape(str(body.get("profile"))), body.get("kind"), escape(str(tx.get("order_no"))),
                      escape(str(tx.get("total"))), escape(" / ".join(answer.get("text", [])[:2])),
                      escape(str(answer.get("qr"))))  # fmt: skip
    out.print(table)
    stats = report.cloud_stats
    counters = report.box_state.get("counters", {})
    out.print(f"cloud: {stats.get('devices')} device, {stats.get('transactions')} transactions · box: "
              f"{counters.get('receipts')} receipts, {counters.get('recognised')} recognised, queue "
              f"{report.box_state.get('queue')} · {report.seconds:.1f} s")  # fmt: skip
    if keep is not None:
        out.print(f"kept in {escape(str(keep))}: box/ (state), cloud.sqlite, printer.bin")
    raise typer.Exit(ExitCode.OK if ok else ExitCode.FAILURE)
