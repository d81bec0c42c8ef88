"""``klx insights``: sales, sellers, traffic, tables and shift reconciliation over stored transactions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.options import write_out
from kelaile_cli.core.errors import InputError

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


def _when(value: str | None, option: str, *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` (``--to`` includes that whole day) or an ISO date-time."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time())
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value}: not a date", remedy="use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, justify="left" if c in ("store", "name", "method", "order_no") else "right")
    for row in rows:
        table.add_row(*(escape("—" if row.get(c) is None else str(row.get(c))) for c in columns))
    return table


def _show(ins: dict[str, Any]) -> None:
    out.print(_table("Stores", ins["stores"], ("store", "transactions", "gross_sales", "refunds", "revenue",
                                               "average_ticket", "items_per_ticket")))  # fmt: skip
    out.print(_table("Payment mix", ins["payment_mix"], ("method", "amount", "receipts", "share_pct")))
    for key, title in (("best_by_quantity", "Best sellers (quantity)"), ("best_by_revenue", "Best sellers (revenue)"),
                       ("worst_by_revenue", "Worst sellers (revenue)")):  # fmt: skip
        rows = ins["sellers"][key]
        trend = ("quantity_change", "revenue_change") if rows and "quantity_change" in rows[0] else ()
        out.print(_table(title, rows, ("name", "quantity", "revenue", "receipts", *trend)))
    out.print(_table("Traffic by hour", ins["traffic"]["by_hour"], ("hour", "transactions", "revenue")))
    out.print(_table("Traffic by weekday (1 = Monday)", ins["traffic"]["by_weekday"],
                     ("weekday", "transactions", "revenue")))  # fmt: skip
    cov, tab, rd = ins["covers"], ins["tables"], ins["refunds_and_discounts"]
    out.print(f"Covers {cov['covers']}, revenue per cover {cov['revenue_per_cover']}; {tab['seatings']} seatings at "
              f"{tab['tables']} tables over {tab['days']} day(s), turnover {tab['turnover']}; dwell pre-bill → sale "
              f"mean {tab['dwell']['mean_s']} s ({tab['dwell']['pairs']} pairs)")  # fmt: skip
    out.print(f"Refunds {rd['refunds']} ({rd['refund_total']}); discounts on {rd['discounted']} sales "
              f"({rd['discount_total']})")  # fmt: skip
    for shift in ins["shifts"]:
        r = shift["receipts"]
        title = (f"Shift {shift['profile']} #{shift['number']} {shift['start']} → {shift['end']}: difference "
                 f"{shift['difference']}; receipts reported {r['reported']}, captured {r['captured']}")  # fmt: skip
        out.print(_table(title, shift["methods"], ("method", "reported", "captured", "difference")))
        if shift["explaining_receipts"]:
            out.print(
                _table("  explained by", shift["explaining_receipts"], ("order_no", "kind", "ts", "total", "why"))
            )


def _print_shifts(shifts: list[dict[str, Any]], target: str, width: int, encoding: str) -> None:
    """Each shift's reconciliation as a slip on the printer at ``target`` (a line on stderr says so)."""
    import codecs

    from kelaile_cli.core.box.shift_slip import compose_shift_slips
    from kelaile_cli.services.insights.printer import send_to_printer

    if not 16 <= width <= 96:
        raise InputError(f"--print-width {width}: expected the printer's columns, 16 to 96 (e.g. 32, 42 or 48)")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--print-encoding {encoding}: unknown code page",
                         remedy="e.g. gb18030, big5 or cp437") from None  # fmt: skip
    if not shifts:
        raise InputError("--print: no shift report in the selection, nothing to print",
                         remedy="widen --from/--to or check --store")  # fmt: skip
    sent = send_to_printer(target, compose_shift_slips(shifts, width=width, encoding=encoding))
    err.print(f"[dim]klx: printed {len(shifts)} shift reconciliation(s), {sent:,} bytes, to {escape(target)}[/]")


@app.command()
def insights(
    recordings: Annotated[
        list[Path] | None, typer.Argument(help="Recordings or directories (instead of --db/--cloud).")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="The sandbox cloud's SQLite file.")] = None,
    cloud: Annotated[str | None, typer.Option("--cloud", help="A running cloud's base URL (admin reads).")] = None,
    parquet: Annotated[Path | None, typer.Option("--parquet", help="A Parquet export (see --export).")] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Also write the loaded transactions to this Parquet file.")
    ] = None,
    store: Annotated[str | None, typer.Option("--store", help="Only this store.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this date/time (YYYY-MM-DD[THH:MM]).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Up to this date (inclusive) or date-time (exclusive).")] = (
        None
    ),
    top: Annotated[int, typer.Option("--top", help="Best/worst sellers listed.", min=1)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Every figure as JSON on stdout.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a page with charts here.")] = None,
    print_to: Annotated[
        str | None,
        typer.Option(
            "--print",
            metavar="PORT",
            help="Print the shift reconciliation on the shop's printer: tcp://HOST:PORT, a serial port or a file.",
        ),
    ] = None,
    print_width: Annotated[int, typer.Option("--print-width", help="Columns of that printer (32, 42, 48…).")] = 48,
    print_encoding: Annotated[
        str, typer.Option("--print-encoding", help="Code page of that printer, e.g. gb18030, big5, cp437.")
    ] = "gb18030",
) -> None:
    """What sold, when, at which table, and whether each shift report matches the captured receipts."""
    from kelaile_cli.services import insights as svc
    from kelaile_cli.services.insights.html import render_html

    given = [x for x in (db, cloud, parquet, recordings or None) if x]
    if len(given) != 1:
        raise InputError("give exactly one of --db FILE, --cloud URL, --parquet FILE or RECORDINGS…",
                         remedy="e.g. klx insights --db klx-cloud.sqlite")  # fmt: skip
    scope = svc.Scope(store, _when(start, "--from", end=False), _when(end, "--to", end=True))
    ins = svc.gather(scope, db=db, cloud=cloud, parquet=parquet, recordings=recordings or [], top=top, export=export)
    if print_to is not None:
        _print_shifts(ins["shifts"], print_to, print_width, print_encoding)
    if html is not None:
        write_out(render_html(ins), html)
    if as_json:
        emit_json(svc.to_json(ins))
        return
    _show(ins)
    if html is not None:
        out.print(f"wrote {escape(str(html))}")
