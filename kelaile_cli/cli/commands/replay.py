"""``klx replay``: customer recordings through the box pipeline to a cloud, on schedule, measured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.cli.options import ProfilesOpt
from kelaile_cli.services.cloud.client import RetryPolicy
from kelaile_cli.services.replay import Plan, ReplayOptions, check_options, replay, report_lines, write_report
from kelaile_cli.services.replay.plot import write_plot
from kelaile_cli.services.replay.runner import Progress as ReplayProgress
from kelaile_cli.services.replay.workload import Workload

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _reasons(reasons: dict[str, int]) -> str:
    return f" ({', '.join(f'{k} {v}' for k, v in reasons.items())})" if reasons else ""


def _summary(report: dict[str, Any]) -> Table:
    lat = report["latency_ms"]
    table = Table(title="klx replay", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    asked = report["requested_rate"]
    rows = [
        ("cloud", report["cloud"]),
        ("mode", f"{report['mode']}" + (f" ×{report['speed']:g}" if report["speed"] not in (None, 1.0) else "")),
        ("stores × receipts", f"{report['stores']} × {report['receipts_replayable']}"),
        ("requested rate /s", f"{asked:g}" if asked else "—"),
        ("achieved rate /s", f"{report['achieved_rate']}" if report["achieved_rate"] is not None else "—"),
        ("sent", str(report["sent"])),
        ("succeeded", str(report["succeeded"])),
        ("failed", str(report["failed"])),
        ("retries", str(report["retries"]) + _reasons(report["retry_reasons"])),
        ("unique transactions", str(report["unique_transactions"])),
        ("latency p50 / p90 / p99 / max ms", " / ".join(_ms(lat[k]) for k in ("p50", "p90", "p99", "max"))),
        ("send lag p99 ms", _ms(report["send_lag_ms"]["p99"])),
        ("problems / differences", f"{len(report['problems'])} / {len(report['differences'])}"),
        ("elapsed s", str(report["elapsed_s"])),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


@app.command("replay")
def replay_cmd(
    recordings: Annotated[
        list[Path], typer.Argument(help="Recordings (.klr, .bin, .pcap) or directories of them.", show_default=False)
    ],
    cloud: Annotated[
        str, typer.Option("--cloud", help="Base URL of the cloud, e.g. http://127.0.0.1:8787.", envvar="KLX_CLOUD")
    ],
    speed: Annotated[float, typer.Option("--speed", help="As recorded, N× faster (without --rate).")] = 1.0,
    rate: Annotated[
        float | None, typer.Option("--rate", help="Open model: N transactions/s on schedule, whatever the answers.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Run this many seconds, looping the recordings as needed.")
    ] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Repeat the recordings until --duration or Ctrl-C.")] = False,
    stores: Annotated[int, typer.Option("--stores", help="Act as N devices, each with its own identity.")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Uploads in flight at once, per process.")] = 256,
    workers: Annotated[
        int, typer.Option("--workers", help="Sending processes; 0: one per ~500/s asked, at most one per CPU.")
    ] = 0,
    attempts: Annotated[int, typer.Option("--attempts", help="Tries per upload (retries reuse its key).")] = 6,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for one answer.")] = 10.0,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="A previous --report: list what changed per receipt.")
    ] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Latency over time: FILE.png or FILE.html.")] = None,
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report on stdout.")] = False,
) -> None:
    """Replay recordings as a box would upload them: decode, detect, extract, sign, send, compare.

    Each receipt of a known POS is uploaded with an idempotency key from its bytes, its store's device
    and its pass, so every pass and store is a new transaction and every retry is not. Latency counts
    from the scheduled send time. Problems, failed uploads and differences from *.expected.json or
    --baseline are each one line; any of them makes the exit code 1.
    """
    import secrets

    if plot is not None and plot.suffix.lower() not in (".png", ".html", ".htm"):
        from kelaile_cli.core.errors import InputError

        raise InputError(f"--plot {plot}: expected a .png or .html file name")
    options = ReplayOptions(
        cloud=cloud.rstrip("/"),
        plan=Plan(rate=rate, speed=speed, duration=duration, loop=loop, stores=stores),
        concurrency=concurrency,
        workers=workers,
        timeout_s=timeout,
        retry=RetryPolicy(attempts=max(1, attempts)),
        run_id=secrets.token_hex(4),
    )
    check_options(options)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.get(),
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("loading recordings", total=None)

        def loaded(work: Workload) -> None:
            bar.update(task, description=f"{len(work.items)} receipts from {work.recordings} recordings: claiming")

        def progress(p: ReplayProgress) -> None:
            rate_now = p.succeeded / p.elapsed_s if p.elapsed_s > 0 else 0.0
            what = f"ok {p.succeeded} · failed {p.failed} · retries {p.retries} · {rate_now:,.0f}/s"
            bar.update(task, total=p.planned, completed=p.sent, description=what)

        report = replay(recordings, options, baseline=baseline, profile_dirs=profiles or [], on_loaded=loaded,
                        progress=progress)  # fmt: skip
    if report_file is not None:
        write_report(report, report_file)
    if plot is not None:
        write_plot(report, plot)
    for line in report_lines(report):
        err.print(f"[bold red]klx: replay:[/] {escape(line)}", soft_wrap=True)
    if as_json:
        emit_json(report)
    else:
        out.print(_summary(report))
    if not report["ok"]:
        raise typer.Exit(ExitCode.FAILURE)
