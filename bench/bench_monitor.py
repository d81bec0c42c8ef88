"""klx monitor with 1,000 boxes and 20 events/s from a replayed recording (headless Textual, ``run_test``).

    python bench/bench_monitor.py [--boxes 1000] [--rate 20] [--seconds 20] [--json]
    python bench/bench_monitor.py --one-box 10     # POS print → receipt in the box screen, emulated box

Measures, in this process (the monitor's whole work: the replay thread, the model, the table):
* first paint: from starting the app to the fleet table showing every box;
* CPU: process CPU seconds / wall seconds while the recording plays at ``--rate`` events a second;
* RSS: peak resident set size (``ru_maxrss``) at the end;
* a filter keystroke: from a character entering (or leaving) the filter (what the key press does) to
  the last table line of the resulting frame painted (the Changed message, the filter over every box,
  the rows replaced, the frame composed): "KLB0001" typed and erased 3 times (42 keys; 1000 ↔ 100
  rows), median, p95 and max. The replay is stopped first so that frame is
  the keystroke's alone. (Pilot's ``press`` is not used to time it: it adds ~100 ms of its own waits
  even on a 12-box table.)
Headless mode renders every frame into Textual's compositor but writes no terminal escapes, so a real
terminal costs a little more output time than measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))


from textual.strip import Strip  # noqa: E402
from textual.widgets import Input  # noqa: E402

from kelaile_cli.services.monitor.feed import Feed  # noqa: E402
from kelaile_cli.services.monitor.model import FleetModel  # noqa: E402
from kelaile_cli.services.monitor.sources import ReplaySource  # noqa: E402
from kelaile_cli.services.monitor.synthetic import synthetic_session  # noqa: E402
from kelaile_cli.tui.app import MonitorApp  # noqa: E402
from kelaile_cli.tui.fleet import FleetScreen  # noqa: E402
from kelaile_cli.tui.table import FleetTable  # noqa: E402

KEY_ROUNDS = 3  # the filter typed and erased 3 times: 42 keystrokes


async def measure(boxes: int, rate: float, seconds: float) -> dict:
    events = synthetic_session(boxes, seconds + 10, rate, seed=42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.jsonl"
        path.write_text("".join(e.to_json() + "\n" for e in events))
        source = ReplaySource(path, speed=1.0)
    app = MonitorApp(Feed(FleetModel()), [source])
    started = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        table = None
        while True:  # first paint: every box in the table
            await asyncio.sleep(0.005)
            screen = app.screen
            if isinstance(screen, FleetScreen) and screen.ready:
                table = screen.query_one("#fleet", FleetTable)
                if table.row_count >= boxes:
                    break
            if time.perf_counter() - started > 30:
                raise SystemExit("first paint never happened")
        first_paint = time.perf_counter() - started
        await asyncio.sleep(1.0)  # settle
        cpu0, wall0, events0, redraws0 = time.process_time(), time.perf_counter(), app.model.events, app.redraws
        await asyncio.sleep(seconds)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        applied = (app.model.events - events0) / (time.perf_counter() - wall0)
        redraws = (app.redraws - redraws0) / (time.perf_counter() - wall0)
        keystrokes = []
        app.stopping.set()  # the recording stops so each frame measured is the keystroke's alone
        await pilot.pause(0.5)
        app.ticker.pause()  # and the periodic redraw with it
        await pilot.press("slash")
        await pilot.pause(0.3)
        painted: list[float] = []
        painted_cpu: list[float] = []  # process CPU seconds at each paint: a keystroke's cost without the load
        key_cpu: list[float] = []
        plain_render_line = FleetTable.render_line

        def spy(self: FleetTable, y: int) -> Strip:
            strip = plain_render_line(self, y)
            painted.append(time.perf_counter())
            painted_cpu.append(time.process_time())
            return strip

        FleetTable.render_line = spy  # type: ignore[method-assign]
        plain_redraw = FleetScreen.redraw

        def spy_redraw(self: FleetScreen, rows_only: bool = False) -> None:
            plain_redraw(self, rows_only)
            painted_cpu.append(time.process_time())
            painted.append(time.perf_counter())  # a key that leaves the rows as they were paints nothing

        FleetScreen.redraw = spy_redraw  # type: ignore[method-assign]
        box = app.screen.query_one("#filter", Input)
        for _ in range(KEY_ROUNDS):
            for ch in "KLB0001":  # each key narrows the rows: 1000 → … → 100 rows
                painted.clear()
                painted_cpu.clear()
                t, c = time.perf_counter(), time.process_time()
                box.insert_text_at_cursor(ch)  # what a key press does to the filter
                await asyncio.sleep(0.25)  # well past the frame (nothing else is drawing now)
                keystrokes.append(max(painted) - t)
                key_cpu.append(max(painted_cpu) - c)
            narrowest = table.row_count
            for _ in "KLB0001":  # and backspace: 100 → … → 1000 rows again
                painted.clear()
                painted_cpu.clear()
                t, c = time.perf_counter(), time.process_time()
                box.action_delete_left()
                await asyncio.sleep(0.25)
                keystrokes.append(max(painted) - t)
                key_cpu.append(max(painted_cpu) - c)
        FleetTable.render_line = plain_render_line  # type: ignore[method-assign]
        FleetScreen.redraw = plain_redraw  # type: ignore[method-assign]
        shown = narrowest
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "boxes": boxes, "events_per_s": round(applied, 1), "redraws_per_s": round(redraws, 2),
        "first_paint_s": round(first_paint, 3), "cpu_share": round(cpu, 4), "rss_mb": round(rss_mb, 1),
        "filter_keys": len(keystrokes),
        "filter_key_ms_median": round(statistics.median(keystrokes) * 1000, 1),
        "filter_key_ms_p95": round(statistics.quantiles(keystrokes, n=20)[-1] * 1000, 1),
        "filter_key_ms_max": round(max(keystrokes) * 1000, 1), "rows_after_filter": shown,
        "filter_key_cpu_ms_median": round(statistics.median(key_cpu) * 1000, 1),
        "filter_key_cpu_ms_p95": round(statistics.quantiles(key_cpu, n=20)[-1] * 1000, 1),
        "filter_key_cpu_ms_max": round(max(key_cpu) * 1000, 1),
        "cpu_s_total": round(time.process_time(), 2),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": round(os.getloadavg()[0], 2),
    }  # fmt: skip


async def one_box(rounds: int) -> dict:
    """A receipt printed by a POS to an emulated box → its text in the box screen's paper, in seconds."""
    import socket

    from kelaile_cli.core.profiles.detect import Detector
    from kelaile_cli.core.render.text import render_text
    from kelaile_cli.core.stream.printstream import read_receipts
    from kelaile_cli.services import jobs
    from kelaile_cli.services.emulator.box import BoxSim, SimOptions
    from kelaile_cli.services.monitor.sources import BoxSource
    from kelaile_cli.services.profiles.library import load_profiles
    from kelaile_cli.tui.detail import BoxScreen

    sample = jobs.sample_source().data
    last_line = render_text(read_receipts(sample)[-1], markers=False).rstrip().splitlines()[-1].strip()
    delays = []
    with tempfile.TemporaryDirectory() as tmp:
        box = BoxSim(
            SimOptions(state=Path(tmp) / "box", pos="listen://127.0.0.1:0", printer=str(Path(tmp) / "out.prn"))
        )
        box.start()
        try:
            app = MonitorApp(Feed(FleetModel()), [BoxSource(box.port, detector=Detector(load_profiles().profiles))])
            async with app.run_test(size=(120, 40)) as pilot:
                serial = box.state.serial
                while serial not in app.model.boxes or app.model.boxes[serial].link_up is not True:
                    await asyncio.sleep(0.01)
                app.open_box(serial)
                await pilot.pause(0.3)
                screen = app.screen
                assert isinstance(screen, BoxScreen)
                port = int(box.pos_address.rsplit(":", 1)[1])
                for n in range(rounds):
                    with socket.create_connection(("127.0.0.1", port)) as pos:
                        pos.sendall(sample)
                    sent = time.perf_counter()
                    while app.model.boxes[serial].receipts_counted < 2 * (n + 1) or not str(
                        screen.query_one("#paper").render()
                    ).rstrip().endswith(last_line):
                        await asyncio.sleep(0.005)
                        if time.perf_counter() - sent > 10:
                            raise SystemExit("the receipt never reached the box screen")
                    delays.append(time.perf_counter() - sent)
                    await asyncio.sleep(0.5)
        finally:
            box.stop()
    return {"one_box_receipt_to_screen_s_median": round(statistics.median(delays), 3),
            "one_box_receipt_to_screen_s_max": round(max(delays), 3), "rounds": rounds}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boxes", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one-box", type=int, metavar="N", help="instead: N prints to an emulated box, time to screen")
    args = ap.parse_args()
    if args.one_box:
        result = asyncio.run(one_box(args.one_box))
    else:
        result = asyncio.run(measure(args.boxes, args.rate, args.seconds))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
