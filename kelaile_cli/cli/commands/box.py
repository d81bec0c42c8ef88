"""``klx box sim|info|config|tap|test-print|reboot``: the box over its serial protocol."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kelaile_cli.cli.console import emit_json, err, escape, out, to_json
from kelaile_cli.cli.options import (
    BaudOpt,
    BoxOpt,
    JsonOpt,
    LiveFormat,
    PortOpt,
    ProfilesOpt,
    TimeoutOpt,
    show_live_receipt,
)
from kelaile_cli.cli.signals import stopping
from kelaile_cli.core.box.config import CONFIG_KEYS, check_config
from kelaile_cli.core.box.messages import MsgType
from kelaile_cli.core.box.replies import State
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.box.client import DEFAULT_BAUD, BoxClient

if TYPE_CHECKING:
    from kelaile_cli.core.stream.receipt import Receipt
    from kelaile_cli.services.jobs import Source

box_app = typer.Typer(
    add_completion=False, help="Talk to a Kelaile box (or run its emulator) over its protocol.", no_args_is_help=True
)
config_app = typer.Typer(add_completion=False, help="Read and change the box's configuration.", no_args_is_help=True)
box_app.add_typer(config_app, name="config")


@box_app.command("sim")
def sim(
    state: Annotated[Path, typer.Option("--state", help="State directory (config, identity, slots, queue).")],
    listen: Annotated[
        str | None, typer.Option("--listen", help="socket://HOST:PORT to listen on instead of a new pty.")
    ] = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="Directory of public keys that firmware images must be signed by.")
    ] = None,
    pos: Annotated[
        str | None,
        typer.Option(
            "--pos",
            help="POS side: listen://HOST:PORT print server, a serial port, a USB printer gadget (/dev/g_printer0), "
            "or pty (a new pty whose name is shown) (stored in the config).",
        ),
    ] = None,
    printer: Annotated[
        str | None,
        typer.Option(
            "--printer",
            help="Printer side: tcp://HOST:PORT, a serial port (device path or pyserial URL), usb://VID:PID, "
            "/dev/usb/lpN, or a file (stored in the config).",
        ),
    ] = None,
    printer_baud: Annotated[
        int | None, typer.Option("--printer-baud", help="Serial printer speed (stored in the config).", min=1)
    ] = None,
    printer_flow: Annotated[
        str | None,
        typer.Option("--printer-flow", help="Serial printer flow control: none, xonxoff or rtscts (stored)."),
    ] = None,
    backup_printer: Annotated[
        str | None,
        typer.Option("--backup-printer", help="Online orders print here while the printer is down (stored)."),
    ] = None,
    baud: Annotated[int, typer.Option("--baud", help="Simulated host-link speed (bytes paced at baud/10 per s).")] = (
        DEFAULT_BAUD
    ),
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="drop:RATE or corrupt:RATE per host-link byte (repeatable).")
    ] = None,
    power_loss_at: Annotated[
        str | None,
        typer.Option("--power-loss-at", help="Cut the power (SIGKILL) at PHASE[:N] or bytes:N (see the docs)."),
    ] = None,
    slow_flash: Annotated[bool, typer.Option("--slow-flash", help="Write firmware at a NOR-like 64 KiB/s.")] = False,
    fail_first_boot: Annotated[
        bool, typer.Option("--fail-first-boot", help="A newly activated image crashes on its trial boot.")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the fault generator.")] = None,
    profiles: ProfilesOpt = None,
    cloud: Annotated[
        str | None, typer.Option("--cloud", help="Kelaile cloud URL: claim the box, upload, print its answers.")
    ] = None,
    store: Annotated[str | None, typer.Option("--store", help="Store id sent with the claim.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Announce the port as one JSON line.")] = False,
) -> None:
    """Run the box emulator until Ctrl-C; prints the port a host opens (a pty path or socket:// URL)."""
    from kelaile_cli.services.emulator.box import (
        BoxSim,
        Faults,
        SimOptions,
        parse_fault,
        parse_power_loss,
        slot_backend,
    )

    faults = Faults(slow_flash=slow_flash, fail_first_boot=fail_first_boot, seed=seed)
    for f in fault or []:
        parse_fault(f, faults)
    if power_loss_at:
        faults.power_loss = parse_power_loss(power_loss_at)
    if listen is not None and not listen.startswith("socket://"):
        raise InputError(f"--listen {listen}: expected socket://HOST:PORT", remedy="e.g. socket://127.0.0.1:7001")
    options = SimOptions(
        state=state, listen=listen, pos=pos, printer=printer, printer_baud=printer_baud, printer_flow=printer_flow,
        backup_printer=backup_printer, baud=baud, trust=trust, faults=faults,
        profiles=list(profiles or []), slots=slot_backend(state, trust),
    )  # fmt: skip
    box = BoxSim(options)
    if cloud:  # the same as `klx box config set cloud_url=… store=…`: the box claims and uploads from its config
        if problem := check_config({"cloud_url": cloud}):
            raise InputError(f"--cloud {cloud}: {problem}", remedy="e.g. --cloud http://127.0.0.1:8787")
        box.state.update_config({"cloud_url": cloud, **({"store": store} if store else {})})
    stop = threading.Event()
    with stopping(stop.set):
        _serve(box, as_json, stop)


def _serve(box: Any, as_json: bool, stop: threading.Event) -> None:
    """Start the emulator, announce its port and run until ``stop`` is set."""
    box.start()
    info = {"port": box.port, "serial": box.state.serial, "pos": box.pos_address, "baud": box.baud}
    if as_json:
        emit_json(info)
    else:
        sys.stdout.write(box.port + "\n")
        sys.stdout.flush()
        where = f" · POS {box.pos_address}" if box.pos_address else ""
        err.print(f"[dim]klx: box {info['serial']} on {escape(box.port)}{escape(where)} — Ctrl-C to stop[/]")
    try:
        while not stop.wait(0.2):
            pass
    finally:
        box.stop()


def _connect(port: str | None, baud: int, timeout: float, box: str | None = None) -> BoxClient:
    """The box at ``port`` (which wins when both are given) or with USB serial number ``box``."""
    if port:
        return BoxClient.connect(port, baud=baud, timeout=timeout, expect_serial=None)
    if box:
        return BoxClient.find(box, baud=baud, timeout=timeout)
    raise InputError(
        "which box? give --port PORT or --box SERIAL (or set KLX_PORT / KLX_BOX)",
        remedy="`klx devices` lists ports and boxes",
    )


@box_app.command("info")
def info(
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Identity, firmware, both slots and the live state of a box."""
    with _connect(port, baud, timeout, box_serial) as box:
        ident = box.identity()
        state = box.state()
    report = {"port": box.url, "hello": box.hello.to_body(), "identity": ident.to_body(), "state": state.to_body()}
    if as_json:
        emit_json(report)
        return
    out.print(f"[bold]{escape(ident.model)}[/]  serial {ident.serial}  hw {ident.hw}  on {escape(box.url)}")
    trial = " (trial boot, not confirmed)" if ident.trial else ""
    out.print(f"firmware {ident.fw} running from slot {ident.active}{trial}")
    from rich.table import Table

    table = Table("slot", "state", "version", "size", "confirmed", "sha256")
    for s in ident.slots:
        table.add_row(
            s.name, s.state, s.version or "—", str(s.size or "—"), "yes" if s.confirmed else "no", s.sha256[:16]
        )
    out.print(table)
    c, pos = state.counters, state.links["pos"]
    out.print(
        f"up {state.uptime:.0f} s · POS {escape(pos.get('listening') or pos.get('endpoint') or 'off')} · printer "
        f"{escape(state.links['printer']['endpoint'] or 'none')} · {c['jobs']} jobs · {c['receipts']} receipts "
        f"({c['recognised']} recognised) · queue {state.queue} · tap {'on' if state.tap else 'off'}"
    )
    answers = state.answers
    if answers:
        line = (f"answers above the cut: {answers['printed']} printed · {answers['missed']} cut without "
                f"({answers['late']} came late) · {answers['unanswered']} unanswered · cut wait "
                f"{answers['cut_wait_ms']} ms")  # fmt: skip
        out.print(f"[yellow]{line}[/]" if answers["missed"] or answers["unanswered"] else line)
        last = answers.get("last_missed")
        if last:
            late = f"{last['late_s']:.2f} s late" if last.get("late_s") is not None else "no answer"
            out.print(f"[yellow]last missed:[/] receipt {escape(str(last.get('order_no') or '?'))} ({late})")
    orders = state.orders
    if orders and orders.get("received"):
        out.print(f"online orders: {orders['received']} received · {orders['printed']} printed · {orders['failed']} "
                  f"failed{' · one waiting for the POS' if orders.get('waiting') else ''}")  # fmt: skip
    _cloud_and_printer(state)
    for e in state.last_errors:
        out.print(f"[yellow]error:[/] {escape(e)}")


def _cloud_and_printer(state: State) -> None:
    """The cloud status and printer health lines of ``box info`` (boxes that report them)."""
    cloud, printer = state.cloud or {}, state.printer or {}
    if cloud.get("url"):
        who = f"claimed as {cloud.get('device_id')} for store {cloud.get('store')}" if cloud.get("claimed") else (
            "not claimed")  # fmt: skip
        last = cloud.get("last_upload")
        when = time.strftime("%H:%M:%S", time.localtime(last)) if last else "never"
        out.print(f"cloud {escape(cloud['url'])} · {escape(who)} · last upload {when} · queue {cloud.get('queue')}")
        if error := cloud.get("last_error"):
            out.print(f"[yellow]cloud error:[/] {escape(str(error.get('code')))} ({escape(str(error.get('layer')))}): "
                      f"{escape(str(error.get('detail')))} — {escape(str(error.get('remedy')))}")  # fmt: skip
    if printer.get("link"):
        online = printer.get("online")
        health = "online" if online else "[red]offline[/]" if online is False else "not checked yet"
        extra = f" · paper {printer.get('paper')} · cover {printer.get('cover')}" if printer.get("online") else ""
        model = f" · {escape(str(printer['model']))}" if printer.get("model") else ""
        out.print(f"printer {escape(printer['link'])}: {health}{escape(extra)}{model}")


@config_app.command("get")
def config_get(
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to read (all if none).")] = None,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Print the box's configuration (secrets show as <set>)."""
    with _connect(port, baud, timeout, box_serial) as box:
        config = box.config_get(keys or None)
    if as_json:
        emit_json(config)
        return
    for key, value in config.items():
        out.print(f"{key:<14} {escape(to_json(value))}")


def _typed(pair: str) -> tuple[str, Any]:
    key, sep, raw = pair.partition("=")
    if not sep:
        raise InputError(f"{pair}: expected KEY=VALUE", remedy=f"keys: {', '.join(CONFIG_KEYS)}")
    spec = CONFIG_KEYS.get(key)
    if spec is None:
        raise InputError(f"{pair}: unknown config key '{key}'", remedy=f"keys: {', '.join(CONFIG_KEYS)}")
    if spec.type is int:
        try:
            return key, int(raw)
        except ValueError:
            raise InputError(f"{pair}: {key} is a whole number") from None
    return key, raw


@config_app.command("set")
def config_set(
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs, e.g. store=S-0042 printer=tcp://10.0.0.9:9100")],
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Change configuration keys (all or nothing); link settings apply at the next reboot."""
    values = dict(_typed(p) for p in pairs)
    with _connect(port, baud, timeout, box_serial) as box:
        result = box.config_set(values)
    if as_json:
        emit_json(result)
        return
    out.print(f"set {', '.join(values)}")
    if result.get("restart"):
        out.print(f"[yellow]{', '.join(result['restart'])} apply after `klx box reboot`[/]")


@box_app.command("tap")
def tap(
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    duration: Annotated[float | None, typer.Option("--duration", help="Stop after this many seconds.")] = None,
    count: Annotated[int | None, typer.Option("--count", help="Stop after this many receipts.")] = None,
    raw: Annotated[Path | None, typer.Option("--raw", help="Also append the raw print bytes to this file.")] = None,
    fmt: Annotated[LiveFormat, typer.Option("--format", "-f", help="How to show each receipt.")] = LiveFormat.rich,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines: one object per receipt.")] = False,
) -> None:
    """Watch the live print stream through the box: each receipt as it completes."""
    stop = threading.Event()
    with stopping(stop.set):  # Ctrl-C: the count is still printed, then exit 130
        shown = _tap(port, box_serial, baud, timeout, stop, duration, count, raw, as_json, fmt)
        err.print(f"[dim]klx: {shown} receipts[/]")


def _tap(
    port: str | None, box_serial: str | None, baud: int, timeout: float, stop: threading.Event,
    duration: float | None, count: int | None, raw: Path | None, as_json: bool, fmt: LiveFormat,
) -> int:  # fmt: skip
    from kelaile_cli.core.stream.printstream import DecodeOptions, PrintStream
    from kelaile_cli.services.jobs import Source

    source = Source(port or box_serial or "box", b"")
    streams: dict[int, PrintStream] = {}
    sink = open(raw, "ab") if raw else None  # noqa: SIM115
    shown = [0]  # receipts shown so far (read by the stop test)
    try:
        with _connect(port, baud, timeout, box_serial) as box:
            box.tap(True)
            err.print(f"[dim]klx: tapping {escape(box.url)} — Ctrl-C to stop[/]")
            for ev in box.events(duration, lambda: stop.is_set() or (count is not None and count <= shown[0])):
                if ev.type is not MsgType.EV_TAP:
                    continue
                if sink:
                    sink.write(ev["data"])
                stream = streams.setdefault(ev.get("conn", 0), PrintStream(DecodeOptions()))
                for receipt in stream.feed(ev["data"], time.time()):
                    shown[0] += 1
                    _show_tapped(source, receipt, as_json, fmt)
            for stream in streams.values():
                for receipt in stream.close():
                    if count is None or shown[0] < count:
                        shown[0] += 1
                        _show_tapped(source, receipt, as_json, fmt)
            box.tap(False)
    finally:
        if sink:
            sink.close()
    return shown[0]


def _show_tapped(source: Source, receipt: Receipt, as_json: bool, fmt: LiveFormat) -> None:
    show_live_receipt(source, receipt, as_json, fmt, f"receipt {receipt.index + 1} · {receipt.encoding}")


@box_app.command("upload-profile")
def upload_profile(
    file: Annotated[Path, typer.Argument(help="A profile YAML file (see `klx profile lint`).")],
    activate: Annotated[bool, typer.Option("--activate", help="Make it the box's active profile.")] = False,
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Send a POS profile to the box (checked by the box before it is stored)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read ({exc.strerror or exc})") from None
    with _connect(port, baud, timeout, box_serial) as box:
        result = box.request(MsgType.PROFILE_UPLOAD, {"name": file.name, "yaml": data, "activate": activate})
    if as_json:
        emit_json(result)
    else:
        out.print(
            f"profile {result['id']} stored{' and active' if activate else ''}; the box knows {len(result['profiles'])}"
        )


@box_app.command("test-print")
def test_print(
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    text: Annotated[str | None, typer.Option("--text", help="What to print.")] = None,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Have the box print a short test receipt on its printer."""
    with _connect(port, baud, timeout, box_serial) as box:
        result = box.request(MsgType.TEST_PRINT, {"text": text} if text else {})
    if as_json:
        emit_json(result)
    else:
        out.print(f"sent {result['bytes']} bytes to the printer")


@box_app.command("reboot")
def reboot(
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the box answers again.")] = True,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Reboot the box (and wait for it to come back)."""
    with _connect(port, baud, timeout, box_serial) as box:
        t = time.monotonic()
        box.reboot()
        if wait:
            box.reconnect(baud=baud)
        report = {"rebooted": True, "back": wait, "seconds": round(time.monotonic() - t, 3), "fw": box.hello.fw}
    if as_json:
        emit_json(report)
    else:
        out.print(f"rebooted{' and back after ' + str(report['seconds']) + ' s' if wait else ''}")
