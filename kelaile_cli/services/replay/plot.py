"""Latency over time, for people: a PNG (Pillow) or a standalone HTML page (inline SVG), from a report.

Two panels over the seconds of the schedule: latency p50/p99/max (ms, from the intended send time)
and completed uploads per second against the requested rate. The HTML page also has the run beside its
baseline (when there is one, regressions marked) and a per-receipt table that filters by profile, kind,
missed cut and error.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from kelaile_cli.core.errors import InputError, KlxError

__all__ = ["write_plot"]

_W, _H, _PAD_L, _PAD_R, _PAD_T, _GAP = 1000, 640, 70, 20, 50, 60
_PANEL_H = (_H - _PAD_T - _GAP - 40) // 2
_SERIES = (("p50", "#2b7bb9"), ("p99", "#e07b00"), ("max", "#c0392b"))


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _panels(report: dict[str, Any]) -> tuple[list[dict[str, Any]], float, float, float]:
    rows = report.get("timeline") or []
    t_max = max((r["t"] for r in rows), default=0) + 1
    lat_top = _nice_top(max((r["max"] for r in rows), default=0.0))
    rate = report.get("requested_rate") or 0
    count_top = _nice_top(max([r["count"] for r in rows] + [rate]))
    return rows, float(t_max), lat_top, count_top


def _title(report: dict[str, Any]) -> str:
    lat = report.get("latency_ms") or {}
    asked = report.get("requested_rate")
    return (f"klx replay -> {report.get('cloud')}: {report.get('succeeded')} ok, {report.get('failed')} failed, "
            f"{report.get('retries')} retries; rate {report.get('achieved_rate')}/s"
            f"{f' (asked {asked}/s)' if asked else ''}; p50 {lat.get('p50')} ms, p99 {lat.get('p99')} ms, "
            f"max {lat.get('max')} ms")  # fmt: skip


def _png(report: dict[str, Any], path: Path) -> None:
    rows, t_max, lat_top, count_top = _panels(report)
    img = Image.new("RGB", (_W, _H), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    draw.text((_PAD_L, 12), _title(report), fill="black", font=font)
    plot_w = _W - _PAD_L - _PAD_R

    def x(t: float) -> float:
        return _PAD_L + plot_w * (t + 0.5) / t_max

    for panel, (top_value, label) in enumerate(((lat_top, "latency ms"), (count_top, "uploads/s"))):
        y0 = _PAD_T + panel * (_PANEL_H + _GAP)
        draw.rectangle((_PAD_L, y0, _W - _PAD_R, y0 + _PANEL_H), outline="#888888")
        for k in range(5):
            value = top_value * k / 4
            y = y0 + _PANEL_H - _PANEL_H * k / 4
            draw.line((_PAD_L, y, _W - _PAD_R, y), fill="#e5e5e5")
            draw.text((4, y - 6), f"{value:g}", fill="#444444", font=font)
        draw.text((_PAD_L + 4, y0 + 4), label, fill="#444444", font=font)

        def y_of(value: float, y0: float = y0, top: float = top_value) -> float:
            return y0 + _PANEL_H - _PANEL_H * min(value, top) / top

        if panel == 0:
            for i, (key, colour) in enumerate(_SERIES):
                points = [(x(r["t"]), y_of(r[key])) for r in rows]
                if len(points) > 1:
                    draw.line(points, fill=colour, width=2)
                elif points:
                    draw.ellipse((points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2), fill=colour)
                draw.text((_W - _PAD_R - 160 + 50 * i, y0 + 4), key, fill=colour, font=font)
        else:
            rate = report.get("requested_rate")
            if rate:
                draw.line((_PAD_L, y_of(rate), _W - _PAD_R, y_of(rate)), fill="#999999", width=1)
                draw.text((_W - _PAD_R - 110, y_of(rate) - 14), f"asked {rate:g}/s", fill="#777777", font=font)
            points = [(x(r["t"]), y_of(r["count"])) for r in rows]
            if len(points) > 1:
                draw.line(points, fill="#27ae60", width=2)
    draw.text((_PAD_L, _H - 24), f"seconds of the schedule (0-{t_max:g})", fill="#444444", font=font)
    img.save(path, format="PNG")


def _svg_panel(rows: list[dict[str, Any]], t_max: float, top: float, series: list[tuple[str, str]], y0: int,
               label: str, rate: float | None = None) -> str:  # fmt: skip
    plot_w = _W - _PAD_L - _PAD_R

    def x(t: float) -> float:
        return _PAD_L + plot_w * (t + 0.5) / t_max

    def y(v: float) -> float:
        return y0 + _PANEL_H - _PANEL_H * min(v, top) / top

    parts = [f'<rect x="{_PAD_L}" y="{y0}" width="{plot_w}" height="{_PANEL_H}" fill="none" stroke="#888"/>']
    for k in range(5):
        value = top * k / 4
        parts.append(f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{_PAD_L - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    parts.append(f'<text x="{_PAD_L + 4}" y="{y0 + 14}">{html.escape(label)}</text>')
    if rate:
        parts.append(f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y(rate):.1f}" y2="{y(rate):.1f}" '
                     f'stroke="#999" stroke-dasharray="4 3"/>')  # fmt: skip
    for i, (key, colour) in enumerate(series):
        points = " ".join(f"{x(r['t']):.1f},{y(r[key]):.1f}" for r in rows)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                     f"<title>{key}</title></polyline>")  # fmt: skip
        parts.append(f'<text x="{_W - _PAD_R - 160 + 50 * i}" y="{y0 + 14}" fill="{colour}">{key}</text>')
    return "\n".join(parts)


_COMPARED = (
    ("sent", "sent"),
    ("succeeded", "succeeded"),
    ("failed", "failed"),
    ("retries", "retries"),
    ("missed_cuts", "answers after the cut wait"),
    ("latency_ms.p50", "latency p50 ms"),
    ("latency_ms.p90", "latency p90 ms"),
    ("latency_ms.p99", "latency p99 ms"),
    ("latency_ms.max", "latency max ms"),
    ("achieved_rate", "achieved rate /s"),
)


def _get(report: dict[str, Any], dotted: str) -> Any:
    value: Any = report
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _side_by_side(report: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    if baseline is None:
        return ""
    regressed = {r["metric"] for r in report.get("regressions", [])}
    rows = []
    for key, label in _COMPARED:
        then, now = _get(baseline, key), _get(report, key)
        bad = key in regressed or (key == "retries" and "retry_rate" in regressed)
        rows.append(f"<tr{' class=bad' if bad else ''}><th>{html.escape(label)}</th><td>{html.escape(str(then))}</td>"
                    f"<td>{html.escape(str(now))}</td></tr>")  # fmt: skip
    then, now = (html.escape(str(r.get("started_at"))) for r in (baseline, report))
    return (f"<h2>This run beside the baseline</h2><table class=cmp><tr><th></th><th>baseline ({then})</th>"
            f"<th>this run ({now})</th></tr>{''.join(rows)}</table>")  # fmt: skip


_FILTER_JS = """
const rows=[...document.querySelectorAll('#receipts tbody tr')];
function apply(){const p=document.getElementById('f-profile').value,k=document.getElementById('f-kind').value,
m=document.getElementById('f-missed').checked,e=document.getElementById('f-error').checked,
q=document.getElementById('f-text').value.toLowerCase();let n=0;
for(const r of rows){const d=r.dataset;const show=(!p||d.profile===p)&&(!k||d.kind===k)&&(!m||d.missed==='1')
&&(!e||d.error==='1')&&(!q||r.textContent.toLowerCase().includes(q));r.hidden=!show;n+=show;}
document.getElementById('f-count').textContent=n+' of '+rows.length;}
document.querySelectorAll('.filters input,.filters select').forEach(x=>x.addEventListener('input',apply));apply();
"""


def _options(values: set[str]) -> str:
    return "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in sorted(values))


def _receipt_table(report: dict[str, Any]) -> str:
    receipts = report.get("receipts") or []
    if not receipts:
        return ""
    body = []
    for r in receipts:
        tx = r.get("transaction") or {}
        cells = [r.get("receipt"), r.get("profile"), r.get("kind"), tx.get("order_no"), tx.get("total"),
                 r.get("answer_kind"), r.get("latency_ms"), " / ".join(f"{a:g}" for a in r.get("attempts_ms") or []),
                 r.get("retries"), "missed" if r.get("missed_cut") else "", r.get("error") or ""]  # fmt: skip
        attrs = (f'data-profile="{html.escape(str(r.get("profile") or ""))}" '
                 f'data-kind="{html.escape(str(r.get("kind") or ""))}" data-missed="{int(bool(r.get("missed_cut")))}" '
                 f'data-error="{int(bool(r.get("error")))}"')  # fmt: skip
        row = "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in cells)
        body.append(f"<tr {attrs}{' class=bad' if r.get('missed_cut') or r.get('error') else ''}>{row}</tr>")
    heads = ("receipt", "profile", "kind", "order", "total", "answer", "latency ms", "attempts ms", "retries",
             f"cut ({report.get('cut_wait_s', 1.5):g} s)", "error")  # fmt: skip
    profiles = {str(r.get("profile")) for r in receipts if r.get("profile")}
    kinds = {str(r.get("kind")) for r in receipts if r.get("kind")}
    filters = (f'<div class=filters>profile <select id=f-profile><option value="">all</option>{_options(profiles)}'
               f'</select> kind <select id=f-kind><option value="">all</option>{_options(kinds)}</select> '
               '<label><input type=checkbox id=f-missed> missed cut</label> '
               '<label><input type=checkbox id=f-error> error</label> '
               '<input id=f-text placeholder="search"> <span id=f-count></span></div>')  # fmt: skip
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return (
        f"<h2>Receipts</h2>{filters}<table id=receipts><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table><script>{_FILTER_JS}</script>"
    )


def _html(report: dict[str, Any], path: Path, baseline: dict[str, Any] | None = None) -> None:
    rows, t_max, lat_top, count_top = _panels(report)
    lat = _svg_panel(rows, t_max, lat_top, list(_SERIES), _PAD_T, "latency ms (from the intended send time)")
    rate = report.get("requested_rate")
    counts = _svg_panel(rows, t_max, count_top, [("count", "#27ae60")], _PAD_T + _PANEL_H + _GAP, "uploads/s", rate)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>klx replay report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}} svg text{{font:11px sans-serif}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #ddd;padding:2px 6px;text-align:left}}
tr.bad td{{background:#fde8e6}} .filters{{margin:.5em 0}}</style></head>
<body><h1>klx replay</h1><p>{html.escape(_title(report))}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">
{lat}
{counts}
<text x="{_PAD_L}" y="{_H - 12}">seconds of the schedule (0-{t_max:g})</text>
</svg>
{_side_by_side(report, baseline)}
{_receipt_table(report)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def write_plot(report: dict[str, Any], path: Path, baseline: dict[str, Any] | None = None) -> None:
    """Write ``path`` as PNG (``.png``) or HTML (``.html``/``.htm``; with ``baseline``, the two runs side by side)."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise InputError(f"--plot {path}: expected a .png or .html file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".png":
            _png(report, path)
        else:
            _html(report, path, baseline)
    except OSError as exc:
        raise KlxError(f"{path}: cannot write the plot ({exc.strerror or exc})") from None
