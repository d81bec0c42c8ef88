"""``klx import``: turn a packet capture into a recording."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from kelaile_cli.cli.base import app, err, out
from kelaile_cli.services.capture.importer import import_capture


@app.command("import")
def import_(
    capture: Annotated[Path, typer.Argument(help="pcap/pcapng of TCP printer traffic, or a Linux usbmon capture.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Recording to write (.klr or .klr.gz).")],
    port: Annotated[int, typer.Option("--port", help="The printer's TCP port.")] = 9100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Reassemble printer traffic from a capture (both directions, one job per connection) into a .klr."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True,
                  disable=not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("reading packets", total=None)
        summary = import_capture(
            capture, output, port=port, progress=lambda n: bar.update(task, description=f"{n} packets")
        )
    if as_json:
        sys.stdout.write(json.dumps(dataclasses.asdict(summary)) + "\n")
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
