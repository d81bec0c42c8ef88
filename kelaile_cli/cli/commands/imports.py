"""``klx import``: turn a packet capture into a recording."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.services.capture.importer import import_capture

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


@app.command("import")
def import_(
    capture: Annotated[Path, typer.Argument(help="pcap/pcapng of TCP printer traffic, or a Linux usbmon capture.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Recording to write (.klr or .klr.gz).")],
    tcp_port: Annotated[int, typer.Option("--tcp-port", help="Keep TCP traffic to/from this port (the printer's).")] = (
        9100
    ),
    old_port: Annotated[int | None, typer.Option("--port", hidden=True, help="Old name of --tcp-port.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Reassemble printer traffic from a capture (both directions, one job per connection) into a .klr."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err.get(), transient=True,
                  disable=not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("reading packets", total=None)
        summary = import_capture(
            capture,
            output,
            port=tcp_port if old_port is None else old_port,
            progress=lambda n: bar.update(task, description=f"{n} packets"),
        )
    if as_json:
        emit_json(dataclasses.asdict(summary))
        return
    out.print(
        f"{summary.connections} connections, {summary.bytes_to_printer} bytes to the printer, "
        f"{summary.bytes_from_printer} back ({summary.packets} packets; {summary.retransmitted} retransmissions "
        f"dropped, {summary.out_of_order} out-of-order segments put back in place) → {escape(str(output))}"
    )
    for gap in summary.gaps:
        err.print(
            f"[yellow]warning:[/] connection {gap['connection']} ({gap['direction']}): {gap['missing']} bytes "
            f"missing at stream offset {gap['offset']} (not in the capture)"
        )
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
