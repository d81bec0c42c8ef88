"""``klx monitor``: a live Textual view of one box, several boxes, a cloud's fleet, or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kelaile_cli.core.errors import InputError

app = typer.Typer(add_completion=False)

HELP = "Watch boxes live (Textual): fleet health, each box's receipts, uploads and QR answers."


@app.command("monitor", help=HELP)
def monitor_cmd(
    port: Annotated[
        list[str] | None,
        typer.Option("--port", help="A box's serial port or pyserial URL (repeatable; KLX_PORT).", envvar="KLX_PORT"),
    ] = None,
    box: Annotated[list[str] | None, typer.Option("--box", help="A box by USB serial number (repeatable).")] = None,
    cloud: Annotated[
        str | None, typer.Option("--cloud", help="Every device of this (sandbox) cloud, e.g. http://127.0.0.1:8787.")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="Play back a recorded monitor session (JSON Lines).")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Replay speed (× real time; 0: all at once).", min=0)] = 1.0,
    loop: Annotated[bool, typer.Option("--loop", help="Replay the recording over and over.")] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write every event the screen is built from (JSON Lines).")
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Allow actions (test print, reboot, config set, upload profile, flash), confirmed."
        ),
    ] = False,
) -> None:
    from kelaile_cli.services.monitor.setup import build_sources

    if not (port or box or cloud or replay):
        raise InputError(
            "klx monitor: nothing to watch", remedy="give --port PORT, --box SERIAL, --cloud URL or --replay FILE"
        )
    sources = build_sources(port or [], box or [], cloud, replay, speed=speed, loop=loop)
    from kelaile_cli.services.monitor.events import Recorder
    from kelaile_cli.services.monitor.feed import Feed
    from kelaile_cli.services.monitor.model import FleetModel
    from kelaile_cli.tui.app import MonitorApp

    recorder = Recorder(record) if record else None
    monitor = MonitorApp(Feed(FleetModel(), recorder), sources, write=write)
    try:
        monitor.run()
    finally:
        if recorder is not None:
            recorder.close()
    if monitor.return_code:  # the screen failed (Textual has printed why)
        raise typer.Exit(monitor.return_code)
