"""``klx redact``: mask personal data in a print job or recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kelaile_cli.cli.console import emit_json, escape, out
from kelaile_cli.services.capture.redact_files import redact_file

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


@app.command()
def redact(
    source: Annotated[Path, typer.Argument(help="A raw print job (.bin/.prn) or a recording (.klr/.klr.gz).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the redacted copy.")],
    codes: Annotated[
        bool, typer.Option("--codes", help="Also mask digits in barcode/QR contents (breaks EAN check digits).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Report what was masked as JSON.")] = False,
) -> None:
    """Mask phones, cards (last 4 kept), IBANs, ID numbers, e-mails and member ids; the stream stays valid ESC/POS."""
    report = redact_file(source, output, codes=codes)
    if as_json:
        emit_json(report.to_dict())
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts().items())) or "nothing to mask"
    out.print(f"{escape(str(output))}: {counts} ({report.bytes} bytes, length unchanged)")
