"""``klx cloud serve|stats|pay|claim-code|devices|transactions``: the sandbox cloud and its admin reads."""

from __future__ import annotations

import math
import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox.faults import Faults, parse_latency, parse_rate
from kelaile_cli.services.cloud.sandbox.limits import BODY_TIMEOUT_S, HEADER_TIMEOUT_S, MAX_BODY
from kelaile_cli.services.cloud.sandbox.storage import read_stats

if TYPE_CHECKING:
    from kelaile_cli.services.cloud.client import CloudClient

cloud_app = typer.Typer(
    add_completion=False,
    help="The sandbox Kelaile cloud: serve it, read its counts, simulate payments.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str, typer.Option("--db", help="SQLite database file (or sqlite:///FILE); created if missing, WAL mode.")
]
CloudOpt = Annotated[
    str, typer.Option("--cloud", help="Base URL of the cloud, e.g. http://127.0.0.1:8787.", envvar="KLX_CLOUD")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _print_json(doc: Any) -> None:
    emit_json(doc)


_SIZE_UNITS = {"": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2}


def parse_size(option: str, text: str) -> int:
    """``262144``, ``256K`` or ``1M`` as a positive number of bytes; anything else is one input error."""
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    unit = _SIZE_UNITS.get(match.group(2).upper()) if match else None
    if match is None or unit is None or int(match.group(1)) * unit < 1:
        raise InputError(f"{option} {text}: expected a positive size in bytes, e.g. 262144, 256K or 1M")
    return int(match.group(1)) * unit


def parse_seconds(option: str, text: str) -> float:
    """A positive, finite number of seconds (at most a day); anything else is one input error."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 86400:
        raise InputError(f"{option} {text}: expected seconds, more than 0 and at most 86400, e.g. 10 or 2.5")
    return value


def _admin_client(cloud: str) -> CloudClient:
    from kelaile_cli.services.cloud.client import CloudClient, RetryPolicy

    if not cloud.startswith(("http://", "https://")):
        raise InputError(f"--cloud {cloud}: expected an http:// or https:// URL, e.g. http://127.0.0.1:8787")
    return CloudClient(cloud, retry=RetryPolicy(attempts=2, base_s=0.2), timeout=10.0)


@cloud_app.command("serve")
def serve_cmd(
    db: DbOpt = "klx-cloud.sqlite",
    host: Annotated[str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).", min=0, max=65535)] = 8787,
    latency: Annotated[
        str | None, typer.Option("--latency", help="Delay device answers: MS or MS:JITTER (e.g. 50:20).")
    ] = None,
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Probability of answering 503 without storing anything.")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Probability of storing, then closing the connection unanswered.")
    ] = 0.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed the fault dice for a repeatable run.")] = None,
    auto_pay: Annotated[
        float | None, typer.Option("--auto-pay", help="Pre-bill orders count as paid this many seconds after upload.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Server processes sharing the port and the database.")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request (slows the server).")] = False,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Server key that seals device secrets (default: DB + '.key'); keep it apart "
            "from the database's backups. Lose it and every device must claim again.",
        ),
    ] = None,
    max_body: Annotated[
        str, typer.Option("--max-body", help="Largest request body: BYTES or with K/M (413 above it).")
    ] = str(MAX_BODY),
    body_timeout: Annotated[
        str, typer.Option("--body-timeout", help="Seconds a body may take after its headers (408 after).")
    ] = str(BODY_TIMEOUT_S),
    header_timeout: Annotated[
        str, typer.Option("--header-timeout", help="Seconds a request's headers may take (connection closed after).")
    ] = str(HEADER_TIMEOUT_S),
) -> None:
    """Run the sandbox cloud until Ctrl-C: claim, signed ingest, answers, payments, faults (docs/cloud-api.md)."""
    from kelaile_cli.services.cloud.sandbox.app import CloudConfig  # FastAPI/uvicorn load only when serving
    from kelaile_cli.services.cloud.sandbox.server import is_loopback, serve

    ms, jitter = parse_latency(latency)
    faults = Faults(ms, jitter, parse_rate("--error-rate", error_rate), parse_rate("--drop-rate", drop_rate), seed)
    if auto_pay is not None and auto_pay < 0:
        raise InputError(f"--auto-pay {auto_pay}: must not be negative")
    if not is_loopback(host):
        err.print(f"[bold yellow]klx: warning:[/] binding {escape(host)}: the sandbox is reachable from other "
                  "machines, and its admin endpoints answer loopback only", soft_wrap=True)  # fmt: skip
    config = CloudConfig(db=db, faults=faults, auto_pay_s=auto_pay, key_file=key_file,
                         max_body=parse_size("--max-body", max_body),
                         body_timeout_s=parse_seconds("--body-timeout", body_timeout),
                         header_timeout_s=parse_seconds("--header-timeout", header_timeout))  # fmt: skip

    def ready(url: str) -> None:
        extra = f" · faults {faults.as_dict()}" if faults.active else ""
        extra += f" · {workers} workers" if workers > 1 else ""
        err.print(f"[dim]klx: sandbox cloud on {escape(url)} (db {escape(db)}){escape(extra)} — Ctrl-C to stop[/]",
                  soft_wrap=True)  # fmt: skip

    def warn(line: str) -> None:
        err.print(f"[bold yellow]klx: warning:[/] {escape(line)}", soft_wrap=True)

    # uvicorn owns the signals while it serves: Ctrl-C shuts it down gracefully, then exit 130 like every
    # command; SIGTERM is the normal way to stop a service (exit 0)
    stopped_by = serve(config, host, port, workers, ready=ready, access_log=access_log, warn=warn)
    err.print("[dim]klx: sandbox cloud stopped[/]")
    if stopped_by == signal.SIGINT:
        raise KeyboardInterrupt


@cloud_app.command("stats")
def stats_cmd(db: DbOpt = "klx-cloud.sqlite", as_json: JsonOpt = False) -> None:
    """Counts read straight from the database file (works while the server runs)."""
    doc = read_stats(db)
    if as_json:
        _print_json(doc)
        return
    table = Table("what", "count", title=f"sandbox cloud · {db}", show_header=False)
    for key in ("devices", "transactions", "orders", "orders_paid", "heartbeats"):
        table.add_row(key, f"{doc[key]:,}")
    for kind, n in sorted(doc["by_kind"].items()):
        table.add_row(f"  {kind}", f"{n:,}")
    out.print(table)


@cloud_app.command("pay")
def pay_cmd(order: Annotated[str, typer.Argument(help="Order number from a pre-bill's payment QR.")],
            cloud: CloudOpt = "http://127.0.0.1:8787", as_json: JsonOpt = False) -> None:  # fmt: skip
    """Simulate the customer paying a pre-bill's order."""
    with _admin_client(cloud) as client:
        doc = client.pay(order)
    if as_json:
        _print_json(doc)
    else:
        out.print(f"order {escape(doc['order_no'])}: {doc['status']}")


@cloud_app.command("claim-code")
def claim_code_cmd(
    store: Annotated[str, typer.Option("--store", help="The store (shop) id the code binds a box to.")],
    db: DbOpt = "klx-cloud.sqlite",
    ttl: Annotated[str, typer.Option("--ttl", help="How long the code stays valid: 90s, 30m, 2h, 1d.")] = "2h",
    as_json: JsonOpt = False,
) -> None:
    """A single-use claim code for a store, for the technician's work order (`klx provision --claim CODE`)."""
    import time

    from kelaile_cli.core.cloud.claim_code import parse_ttl
    from kelaile_cli.services.cloud.sandbox.provisioning import issue_claim_code

    seconds = parse_ttl(ttl)
    if seconds is None:
        raise InputError(f"--ttl {ttl}: expected a duration such as 90s, 30m, 2h or 1d")
    doc = issue_claim_code(db, store, seconds, time.time())
    if as_json:
        _print_json(doc)
    else:
        out.print(f"{doc['code']}  (store {escape(doc['store'])}, valid for {escape(ttl)})")


@cloud_app.command("devices")
def devices_cmd(
    cloud: CloudOpt = "http://127.0.0.1:8787",
    db: Annotated[str | None, typer.Option("--db", help="Read this database file instead of asking --cloud.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Claimed devices with their last heartbeat, transaction count and install record."""
    if db is not None:
        from kelaile_cli.services.cloud.sandbox.provisioning import read_devices

        rows = read_devices(db)
    else:
        with _admin_client(cloud) as client:
            rows = client.devices()
    if as_json:
        _print_json(rows)
        return
    table = Table("device", "serial", "store", "transactions", "heartbeats", "installed")
    for r in rows:
        installed = "yes" if r.get("install") else ""
        table.add_row(r["device_id"], r["serial"], r["store"] or "", str(r["transactions"]), str(r["heartbeats"]),
                      installed)  # fmt: skip
    out.print(table)


@cloud_app.command("transactions")
def transactions_cmd(
    cloud: CloudOpt = "http://127.0.0.1:8787",
    device: Annotated[str | None, typer.Option("--device", help="Only this device id.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    after: Annotated[int, typer.Option("--after", min=0, help="Start after this seq (paging).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Stored transactions in arrival order."""
    with _admin_client(cloud) as client:
        page = client.transactions(device, limit, after)
    if as_json:
        _print_json(page)
        return
    table = Table("seq", "transaction", "device", "kind", "total", "answer")
    for r in page["transactions"]:
        total = ((r["body"] or {}).get("transaction") or {}).get("total") or ""
        table.add_row(str(r["seq"]), r["transaction_id"], r["device_id"], r["kind"], str(total), r["answer"]["qr"])
    out.print(table)


@cloud_app.command("order")
def order_cmd(
    store: Annotated[str, typer.Option("--store", help="The store whose box prints the order.")],
    items: Annotated[str, typer.Option("--items", help="NAME*QTY@PRICE,… e.g. '宫保鸡丁*1@38,米饭*2@3' (+OPTION).")],
    platform: Annotated[str, typer.Option("--platform", help="Delivery platform, e.g. meituan, eleme.")] = "online",
    note: Annotated[str | None, typer.Option("--note", help="The customer's note for the kitchen.")] = None,
    pickup_code: Annotated[str | None, typer.Option("--pickup-code", help="Pick-up code printed large.")] = None,
    number: Annotated[str | None, typer.Option("--number", help="The platform's order number.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer name.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Customer phone (masked when stored).")] = None,
    pickup: Annotated[bool, typer.Option("--pickup", help="Pick-up instead of delivery.")] = False,
    unpaid: Annotated[bool, typer.Option("--unpaid", help="To be paid on delivery.")] = False,
    rate: Annotated[float | None, typer.Option("--rate", help="A stream: N orders per second …")] = None,
    duration: Annotated[float | None, typer.Option("--duration", help="… for this many seconds.")] = None,
    cloud: CloudOpt = "http://127.0.0.1:8787",
    as_json: JsonOpt = False,
) -> None:
    """Create an online order for a store, as a delivery platform would; the store's box prints it."""
    from kelaile_cli.services.cloud.online_orders import create_orders, parse_items

    doc = {"store": store, "platform": platform, "items": parse_items(items), "note": note, "number": number,
           "pickup_code": pickup_code, "customer": customer, "phone": phone,
           "mode": "pickup" if pickup else "delivery", "paid": not unpaid}  # fmt: skip
    if (rate is None) != (duration is None):
        raise InputError("--rate and --duration go together", remedy="e.g. --rate 20 --duration 10")
    count = max(1, round(rate * duration)) if rate is not None and duration is not None else 1
    made = create_orders(cloud, {k: v for k, v in doc.items() if v is not None}, count=count, rate=rate)
    if as_json:
        _print_json(made[0] if count == 1 else made)
        return
    for o in made:
        out.print(f"order {escape(o['number'])} ({escape(o['platform'])}) for {escape(o['store'])}: "
                  f"{len(o['items'])} item(s), total {o['total']} — {o['status']}")  # fmt: skip


@cloud_app.command("orders")
def orders_cmd(
    store: Annotated[str | None, typer.Option("--store", help="Only this store.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="received, printing, printed or failed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    cloud: CloudOpt = "http://127.0.0.1:8787",
    as_json: JsonOpt = False,
) -> None:
    """Online orders with their print status (received, printing, printed, failed), newest first."""
    from kelaile_cli.services.cloud.online_orders import list_orders

    doc = list_orders(cloud, store, status, limit)
    if as_json:
        _print_json(doc)
        return
    table = Table("order", "platform", "store", "items", "total", "status", "attempts", "error")
    for o in doc["orders"]:
        table.add_row(o["number"], o["platform"], o["store"], str(len(o["items"])), o["total"], o["status"],
                      str(o["attempts"]), o["last_error"] or "")  # fmt: skip
    out.print(table)
    out.print(" · ".join(f"{k} {v}" for k, v in doc["counts"].items()))
