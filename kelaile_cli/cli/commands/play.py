"""``klx play``: a recording's print stream into a box's POS port or straight to a printer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kelaile_cli.cli.console import emit_json, out
from kelaile_cli.cli.options import ProfilesOpt
from kelaile_cli.services.replay.play import PlayOptions, play

app = typer.Typer(rich_markup_mode="rich", add_completion=False)

TO_HELP = "Where to send: tcp://HOST:PORT (a box's POS port, a network printer), a serial port or URL, or a file."


@app.command("play")
def play_cmd(
    recording: Annotated[Path, typer.Argument(help="A recording (.klr, .klr.gz) or a raw job (.bin/.prn).")],
    to: Annotated[str, typer.Option("--to", help=TO_HELP)],
    connection: Annotated[
        list[int] | None, typer.Option("--connection", help="Play only this connection (repeatable).")
    ] = None,
    receipt: Annotated[
        str | None, typer.Option("--receipt", help="Play only the connection(s) printing this order number.")
    ] = None,
    speed: Annotated[
        float | None, typer.Option("--speed", help="Keep the recorded gaps, N× faster (default: as fast as it goes).")
    ] = None,
    as_recorded: Annotated[bool, typer.Option("--as-recorded", help="Keep the recorded gaps (= --speed 1).")] = False,
    reply_wait: Annotated[
        float, typer.Option("--reply-wait", help="Seconds to wait for the target's answer to a status request.")
    ] = 1.0,
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send the POS side of a recording, connection by connection as the POS did, and say what came back.

    Together with `klx box sim` and `klx cloud serve --latency MS` it reproduces a shop's day: e.g. why a
    receipt printed without its coupon QR. Status requests the target does not answer are answered from
    the recording (counted in the report) so the play never hangs.
    """
    options = PlayOptions(speed=1.0 if as_recorded else speed, reply_wait_s=reply_wait)
    report = play(recording, to, options, connection=connection or None, receipt=receipt,
                  profile_dirs=profiles or [])  # fmt: skip
    if as_json:
        emit_json(report.to_dict())
        return
    table = Table(title=f"klx play {recording} → {to}", title_justify="left")
    for col in ("connection", "bytes sent", "bytes back", "replies: target / recording", "s"):
        table.add_column(col, justify="right")
    for c in report.connections:
        table.add_row(str(c.conn), f"{c.sent:,}", f"{len(c.received):,}",
                      f"{c.replies_from_target} / {c.replies_from_recording}", f"{c.seconds:.2f}")  # fmt: skip
    out.print(table)
