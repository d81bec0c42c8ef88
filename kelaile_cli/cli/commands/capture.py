"""``klx record``, ``klx sniff``, ``klx devices``: print streams from the wire."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Annotated

import typer

from kelaile_cli import __version__
from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.cli.options import (
    EncodingOpt,
    LiveFormat,
    ModelOpt,
    PrinterAliasOpt,
    WidthOpt,
    decode_options,
    show_live_receipt,
)
from kelaile_cli.cli.signals import stopping
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services import jobs
from kelaile_cli.services.capture.live import Capture, CaptureOptions, CaptureStats, ReceiptSink, SerialSettings
from kelaile_cli.transports.endpoints import parse_endpoint

app = typer.Typer(rich_markup_mode="rich", add_completion=False)

SourceArg = Annotated[
    str,
    typer.Argument(
        help="Where the POS prints: listen://HOST:PORT (be the network printer) or a serial port / pyserial URL."
    ),
]
ForwardOpt = Annotated[
    str | None,
    typer.Option("--forward", help="Pass everything through to this printer (tcp://HOST:PORT or a serial port)."),
]
DurationOpt = Annotated[float | None, typer.Option("--duration", help="Stop after this many seconds.")]
MaxJobsOpt = Annotated[int | None, typer.Option("--max-jobs", help="Stop after this many print jobs (connections).")]
BaudOpt = Annotated[int, typer.Option("--baud", help="Serial speed (bits/s).")]
ParityOpt = Annotated[str, typer.Option("--parity", help="Serial parity: N, E, O, M or S.")]
FlowOpt = Annotated[
    str, typer.Option("--flow", help="Serial flow control: none, rtscts (hardware), xonxoff (software) or dsrdtr.")
]


def _serial(baud: int, parity: str, flow: str) -> SerialSettings:
    flow = flow.lower()
    if flow not in ("none", "rtscts", "xonxoff", "dsrdtr"):
        raise InputError(f"--flow {flow}: expected none, rtscts, xonxoff or dsrdtr")
    return SerialSettings(baud, parity.upper(), flow == "rtscts", flow == "xonxoff", flow == "dsrdtr")


def _ready(host: str, port: int) -> None:
    where = f"{host}:{port}" if port else host
    err.print(f"[dim]klx: capturing on {escape(where)} — Ctrl-C to stop[/]")


def _status_line(stats: CaptureStats, receipts: int) -> str:
    return (
        f"{stats.bytes_out:,} bytes to the printer · {stats.bytes_in:,} back · {stats.connections} jobs · "
        f"{receipts} receipts · {stats.errors} errors · {time.time() - stats.started:,.0f} s"
    )


def _run(options: CaptureOptions) -> tuple[CaptureStats, bool]:
    """Start a capture, wait until it ends or a signal asks it to, stop it -> (the final counters, whether it
    was Ctrl-C: the command then reports as usual and exits 130)."""
    capture = Capture(options)
    capture.start()
    interrupted = False
    try:
        with stopping(capture.request_stop):
            while not capture.wait(0.2):
                pass
    except KeyboardInterrupt:
        interrupted = True
    return capture.stop(), interrupted


def _summary(stats: CaptureStats) -> dict[str, object]:
    return {
        "seconds": round(time.time() - stats.started, 3),
        "bytes_to_printer": stats.bytes_out,
        "bytes_from_printer": stats.bytes_in,
        "chunks": stats.chunks,
        "connections": stats.connections,
        "receipts": stats.receipts,
        "tap_errors": stats.errors,
        "refused": stats.refused,
        "dropped": stats.dropped,
    }


@app.command()
def record(
    source: SourceArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Recording to write (.klr, or .klr.gz).")],
    forward: ForwardOpt = None,
    note: Annotated[list[str] | None, typer.Option("--note", help="KEY=VALUE stored in the header.")] = None,
    duration: DurationOpt = None,
    max_jobs: MaxJobsOpt = None,
    baud: BaudOpt = 9600,
    parity: ParityOpt = "N",
    flow: FlowOpt = "none",
    redact: Annotated[
        bool,
        typer.Option("--redact", help="Mask phone/card/member numbers in the file (never in what is printed)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Record a print stream to a .klr file until Ctrl-C/SIGTERM (the file is closed cleanly)."""
    from kelaile_cli.core.formats.recording import Header
    from kelaile_cli.services.capture.recorder import RecordingWriter
    from kelaile_cli.services.capture.redact_files import RedactingSink

    src = parse_endpoint(source)
    dest = parse_endpoint(forward) if forward else None
    notes = {key: value for key, _, value in (n.partition("=") for n in note or [])}
    if redact:
        notes["redacted"] = "phone, card, member"

    def problem(message: str) -> None:
        err.print(f"[yellow]klx:[/] {escape(message)}")

    writer = RecordingWriter(output, Header(source, time.time(), __version__, notes), on_problem=problem)
    counter = ReceiptSink(decode_options(None, "default", None, None), lambda receipt, conn: None)
    options = CaptureOptions(
        src, dest, [counter], [RedactingSink(writer) if redact else writer], duration=duration, max_jobs=max_jobs,
        serial_line=_serial(baud, parity, flow), on_ready=_ready,
    )  # fmt: skip
    try:
        stats, interrupted = _run(options)
    finally:
        writer.close()
    stats.receipts = counter.receipts

    summary = {"file": str(output), **_summary(stats), "lost_chunks": writer.lost, "write_errors": writer.write_errors}
    if as_json:
        emit_json(summary)
    else:
        out.print(
            f"recorded {summary['bytes_to_printer']} bytes to the printer and {summary['bytes_from_printer']} back, "
            f"{stats.chunks} chunks, {stats.connections} connections, {stats.receipts} receipts → {escape(str(output))}"
        )
        if stats.errors:
            err.print(f"[yellow]warning:[/] {stats.errors} tap errors (last: {escape(stats.last_error)})")
        if writer.lost:
            err.print(f"[yellow]warning:[/] {writer.lost} chunks could not be written ({escape(writer.last_error)})")
    if interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)


@app.command()
def sniff(
    source: SourceArg,
    forward: ForwardOpt = None,
    fmt: Annotated[LiveFormat, typer.Option("--format", "-f", help="How to show each receipt.")] = LiveFormat.rich,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, one object per receipt.")] = False,
    duration: DurationOpt = None,
    max_jobs: MaxJobsOpt = None,
    baud: BaudOpt = 9600,
    parity: ParityOpt = "N",
    flow: FlowOpt = "none",
    encoding: EncodingOpt = None,
    model: ModelOpt = "default",
    printer: PrinterAliasOpt = None,
    width: WidthOpt = None,
) -> None:
    """Watch a live print stream: each receipt is shown as soon as it completes."""
    src = parse_endpoint(source)
    dest = parse_endpoint(forward) if forward else None
    options = decode_options(encoding, model, width, None, printer)
    name = jobs.Source(source, b"")

    def show(receipt: Receipt, conn: int) -> None:
        title = f"connection {conn} · receipt {receipt.index + 1} · {receipt.encoding}"
        show_live_receipt(name, receipt, as_json, fmt, title)

    sink = ReceiptSink(options, show)
    line = _serial(baud, parity, flow)
    live_status = err.is_terminal and not as_json
    # a status line on stderr; receipts printed to a terminal stdout go above it
    from rich.live import Live
    from rich.text import Text

    status = Live(Text(""), console=err.get(), transient=True, auto_refresh=False, redirect_stdout=out.is_terminal,
                  redirect_stderr=False) if live_status else contextlib.nullcontext()  # fmt: skip

    def tick(stats: CaptureStats) -> None:
        if isinstance(status, Live):
            status.update(Text(_status_line(stats, sink.receipts), style="dim"), refresh=True)

    with status:
        stats, interrupted = _run(CaptureOptions(src, dest, [sink], duration=duration, max_jobs=max_jobs,
                                                 serial_line=line, on_ready=_ready, on_tick=tick))  # fmt: skip
    stats.receipts = sink.receipts
    err.print(f"[dim]klx: {escape(_status_line(stats, stats.receipts))}[/]")
    if interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)


@app.command()
def devices(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False) -> None:
    """Serial ports (with USB VID:PID), USB printers and Kelaile boxes attached to this machine."""
    from kelaile_cli.services.box.discovery import list_devices

    found = list_devices()
    if as_json:
        emit_json(found)
        return
    if not found:
        out.print("no serial ports or USB printers found")
        return
    for d in found:
        ids = f" {d['vid']}:{d['pid']}" if d.get("vid") else ""
        out.print(f"{d['kind']:<8} {escape(d['path'])}{ids}  {escape(d.get('description') or '')}")
