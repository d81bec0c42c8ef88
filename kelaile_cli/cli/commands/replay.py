"""``klx replay``: customer recordings through the box pipeline to a cloud, on schedule, measured."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.cli.options import ProfilesOpt
from kelaile_cli.cli.signals import stopping
from kelaile_cli.services.cloud.client import RetryPolicy
from kelaile_cli.services.replay import Plan, ReplayOptions, check_options, replay, report_lines, write_report
from kelaile_cli.services.replay.compare import Thresholds, load_baseline
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
        (f"answers after the cut wait ({report['cut_wait_s']:g} s)", str(report["missed_cuts"])),
        ("unique transactions", str(report["unique_transactions"])),
        ("latency p50 / p90 / p99 / max ms", " / ".join(_ms(lat[k]) for k in ("p50", "p90", "p99", "max"))),
        ("send lag p99 ms", _ms(report["send_lag_ms"]["p99"])),
        ("problems / differences", f"{len(report['problems'])} / {len(report['differences'])}"),
        ("unrecognised receipts", str(len(report["unrecognised"]))),
        ("regressions vs baseline", str(len(report["regressions"])) if report["baseline"] else "—"),
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
    cut_wait: Annotated[
        float,
        typer.Option("--cut-wait", help="Seconds the box holds a receipt's cut for its answer (box config cut_wait)."),
    ] = 1.5,
    receipt: Annotated[
        str | None, typer.Option("--receipt", help="Replay only the receipt(s) with this order number.")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A previous --report: what changed per receipt, and regressions of the run."),
    ] = None,
    latency_ratio: Annotated[
        float, typer.Option("--max-latency-ratio", help="With --baseline: a p50/p90/p99 above N× the baseline's fails.")
    ] = 1.5,
    latency_slack: Annotated[
        float, typer.Option("--latency-slack-ms", help="With --baseline: latency growth below this many ms is noise.")
    ] = 10.0,
    retry_increase: Annotated[
        float, typer.Option("--max-retry-rate-increase", help="With --baseline: allowed growth of retries per send.")
    ] = 0.01,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when a receipt of no known POS is found (reported either way).")
    ] = False,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Latency over time: FILE.png or FILE.html.")] = None,
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report on stdout.")] = False,
) -> None:
    """Replay recordings as a box would upload them: decode, detect, extract, sign, send, compare.

    Each receipt of a known POS is uploaded with an idempotency key from its bytes, its store's device
    and its pass, so every pass and store is a new transaction and every retry is not. Latency counts
    from the scheduled send time; an answer later than --cut-wait is a missed cut (the box would have cut
    the paper without the QR). Problems, failed uploads, differences from *.expected.json or --baseline
    and regressions against --baseline are each one line; any of them makes the exit code 1. Receipts of no
    known POS are reported and fail the run only with --strict. Ctrl-C stops the run, writes the partial
    report and exits 130.
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
        cut_wait_s=cut_wait,
    )
    thresholds = Thresholds(latency_ratio=latency_ratio, latency_slack_ms=latency_slack,
                            retry_rate_increase=retry_increase)  # fmt: skip
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

        stop = threading.Event()
        with stopping(stop.set, interrupt=False):  # a partial report, then exit 130
            report = replay(recordings, options, baseline=baseline, thresholds=thresholds, strict=strict,
                            receipt=receipt, profile_dirs=profiles or [], on_loaded=loaded, progress=progress,
                            stop=stop)  # fmt: skip
    if report_file is not None:
        write_report(report, report_file)
    if plot is not None:
        write_plot(report, plot, load_baseline(baseline).report if baseline is not None else None)
    for line in report_lines(report):
        err.print(f"[bold red]klx: replay:[/] {escape(line)}", soft_wrap=True)
    if as_json:
        emit_json(report)
    else:
        out.print(_summary(report))
    if report["interrupted"]:
        err.print("klx: replay interrupted: the report covers what was sent", highlight=False)
        raise typer.Exit(ExitCode.INTERRUPTED)
    if not report["ok"]:
        raise typer.Exit(ExitCode.FAILURE)
