"""Latency over time, for people: a PNG (Pillow) or a standalone HTML page (inline SVG), from a report.

Two panels over the seconds of the schedule: latency p50/p99/max (ms, from the intended send time)
and completed uploads per second against the requested rate.
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


def _html(report: dict[str, Any], path: Path) -> None:
    rows, t_max, lat_top, count_top = _panels(report)
    lat = _svg_panel(rows, t_max, lat_top, list(_SERIES), _PAD_T, "latency ms (from the intended send time)")
    rate = report.get("requested_rate")
    counts = _svg_panel(rows, t_max, count_top, [("count", "#27ae60")], _PAD_T + _PANEL_H + _GAP, "uploads/s", rate)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>klx replay report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}} svg text{{font:11px sans-serif}}</style></head>
<body><h1>klx replay</h1><p>{html.escape(_title(report))}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">
{lat}
{counts}
<text x="{_PAD_L}" y="{_H - 12}">seconds of the schedule (0-{t_max:g})</text>
</svg></body></html>
"""
    path.write_text(page, encoding="utf-8")


def write_plot(report: dict[str, Any], path: Path) -> None:
    """Write ``path`` as PNG (``.png``) or HTML (``.html``/``.htm``)."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise InputError(f"--plot {path}: expected a .png or .html file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        (_png if suffix == ".png" else _html)(report, path)
    except OSError as exc:
        raise KlxError(f"{path}: cannot write the plot ({exc.strerror or exc})") from None
