"""``klx insights --html``: one self-contained page (inline CSS and SVG charts, no scripts, no fetches)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from kelaile_cli.services.insights.report import Insights, to_json

__all__ = ["render_html"]

_WEEKDAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.neg{color:#b00}.ok{color:#070}
.kpi{display:inline-block;margin:0 2em 1em 0}.kpi b{display:block;font-size:1.5em}
svg text{font:12px system-ui,sans-serif}
"""


def _num(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _bars(rows: Sequence[tuple[str, Decimal | int | None]], title: str, width: int = 900) -> str:
    """A vertical bar chart as inline SVG."""
    values = [float(v or 0) for _, v in rows]
    if not values:
        return "<p>No data.</p>"
    top = max(*values, 1e-9)
    bar_w = max(8, min(60, (width - 40) // len(values) - 6))
    height, base = 220, 190
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}">']
    for i, ((label, value), v) in enumerate(zip(rows, values, strict=True)):
        x = 30 + i * (bar_w + 6)
        h = max(0.0, v) / top * 160
        parts.append(f'<rect x="{x}" y="{base - h:.1f}" width="{bar_w}" height="{h:.1f}" fill="#3b7dd8">'
                     f"<title>{escape(label)}: {_num(value)}</title></rect>")  # fmt: skip
        parts.append(f'<text x="{x + bar_w / 2}" y="{base + 15}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _hbars(rows: Sequence[tuple[str, Decimal | int | None]], title: str) -> str:
    """A horizontal bar chart (labels on the left) as inline SVG."""
    values = [float(v or 0) for _, v in rows]
    if not values:
        return "<p>No data.</p>"
    top = max(*(abs(v) for v in values), 1e-9)
    height = 24 * len(rows) + 10
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="900" height="{height}">']
    for i, ((label, value), v) in enumerate(zip(rows, values, strict=True)):
        y = 5 + i * 24
        w = abs(v) / top * 480
        colour = "#c0392b" if v < 0 else "#2e8b57"
        parts.append(f'<text x="290" y="{y + 15}" text-anchor="end">{escape(label[:40])}</text>')
        parts.append(f'<rect x="300" y="{y + 3}" width="{w:.1f}" height="16" fill="{colour}"/>')
        parts.append(f'<text x="{306 + w:.1f}" y="{y + 15}">{_num(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            cls = ' class="neg"' if isinstance(v, Decimal) and v < 0 else ""
            cells.append(f"<td{cls}>{_num(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _shift(shift: dict[str, Any]) -> str:
    title = f"{shift['profile'] or '?'} report {shift['number'] or '?'} — {shift['start']} → {shift['end']}"
    diff = shift["difference"]
    state = '<b class="ok">balances</b>' if diff == 0 else f'<b class="neg">differs by {_num(diff)}</b>'
    r = shift["receipts"]
    lines = [
        f"<h3>{escape(title)}</h3><p>{state}; receipts reported {_num(r['reported'])}, captured "
        f"{_num(r['captured'])}, missing {_num(r['missing'])}</p>",
        _table(shift["methods"], ("method", "reported", "captured", "difference")),
    ]
    if shift["explaining_receipts"]:
        lines.append(_table(shift["explaining_receipts"], ("order_no", "kind", "ts", "total", "why")))
    return "".join(lines)


def render_html(ins: Insights, title: str = "klx insights") -> str:
    """The page: key figures, charts (hours, weekdays, payment mix, sellers), tables, reconciliation."""
    stores = ins["stores"]
    kpis = "".join(
        f'<div class="kpi">{escape(label)}<b>{_num(value)}</b></div>'
        for s in stores[:1]
        for label, value in (("transactions", s["transactions"]), ("revenue", s["revenue"]),
                             ("average ticket", s["average_ticket"]), ("items per ticket", s["items_per_ticket"]))
    )  # fmt: skip
    hours = [(f"{h['hour']:02d}", h["revenue"]) for h in ins["traffic"]["by_hour"]]
    days = [(_WEEKDAYS[d["weekday"]], d["revenue"]) for d in ins["traffic"]["by_weekday"]]
    mix = [(m["method"], m["amount"]) for m in ins["payment_mix"]]
    best = [(s["name"], s["revenue"]) for s in ins["sellers"]["best_by_revenue"]]
    best_q = [(s["name"], s["quantity"]) for s in ins["sellers"]["best_by_quantity"]]
    rd = ins["refunds_and_discounts"]
    cov, tab = ins["covers"], ins["tables"]
    scope = to_json(ins["scope"])
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{_CSS}</style>"
        f"</head><body><h1>{escape(title)}</h1><p>Store: {_num(scope['store'] or 'all')}; from {_num(scope['from'])}"
        f" to {_num(scope['to'])}; {ins['documents']} stored documents.</p>",
        kpis,
        "<h2>Stores</h2>",
        _table(
            stores, ("store", "transactions", "gross_sales", "refunds", "revenue", "average_ticket", "items_per_ticket")
        ),
        "<h2>Revenue by hour</h2>",
        _bars(hours, "revenue by hour"),
        "<h2>Revenue by weekday</h2>",
        _bars(days, "revenue by weekday"),
        "<h2>Payment mix</h2>",
        _hbars(mix, "payment mix"),
        "<h2>Best sellers by revenue</h2>",
        _hbars(best, "best sellers by revenue"),
        "<h2>Best sellers by quantity</h2>",
        _hbars(best_q, "best sellers by quantity"),
        "<h2>Worst sellers</h2>",
        _table(ins["sellers"]["worst_by_revenue"], ("name", "quantity", "revenue", "receipts")),
        "<h2>Covers and tables</h2>",
        f"<p>{_num(cov['covers'])} covers, revenue per cover {_num(cov['revenue_per_cover'])}; "
        f"{_num(tab['seatings'])} seatings at {_num(tab['tables'])} tables over {_num(tab['days'])} days "
        f"(turnover {_num(tab['turnover'])}); dwell pre-bill → sale: mean {_num(tab['dwell']['mean_s'])} s over "
        f"{_num(tab['dwell']['pairs'])} pairs.</p>",
        "<h2>Refunds and discounts</h2>",
        f"<p>{_num(rd['refunds'])} refunds totalling {_num(rd['refund_total'])}; {_num(rd['discounted'])} "
        f"discounted sales, {_num(rd['discount_total'])} given.</p>",
        _table(rd["refund_receipts"], ("order_no", "ts", "total")),
        "<h2>Shift reconciliation</h2>",
        "".join(_shift(s) for s in ins["shifts"]) or "<p>No shift reports in scope.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
