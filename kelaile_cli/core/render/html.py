"""HTML rendering: one self-contained page where each receipt looks like printed thermal paper."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

from PIL import Image as PILImage

from kelaile_cli.core.render.pictures import bitmap_image, pdf417_picture, qr_matrix
from kelaile_cli.core.render.text import MAX_FEED_LINES
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Feed, Image, Line, Receipt, Span, Style

__all__ = ["HTML_TAIL", "html_head", "html_receipt", "render_html"]

DOTS_PER_COLUMN = 12

_CSS = """
body{background:#d9d6cf;font-family:system-ui,sans-serif;margin:0;padding:24px;display:flex;flex-wrap:wrap;
gap:32px;align-items:flex-start}
figure{margin:0}figcaption{font-size:12px;color:#555;margin-bottom:6px}
.paper{background:#fffef9;color:#111;box-shadow:0 2px 8px rgba(0,0,0,.25);padding:16px 12px 28px;
font:15px/1.35 "Noto Sans Mono CJK SC","WenQuanYi Micro Hei Mono",ui-monospace,Menlo,Consolas,monospace;
white-space:pre}
.paper.cut{clip-path:polygon(0 0,100% 0,100% calc(100% - 8px),95% 100%,90% calc(100% - 8px),85% 100%,
80% calc(100% - 8px),75% 100%,70% calc(100% - 8px),65% 100%,60% calc(100% - 8px),55% 100%,
50% calc(100% - 8px),45% 100%,40% calc(100% - 8px),35% 100%,30% calc(100% - 8px),25% 100%,
20% calc(100% - 8px),15% 100%,10% calc(100% - 8px),5% 100%,0 calc(100% - 8px))}
.l{min-height:1.35em}.c{text-align:center}.r{text-align:right}
.b{font-weight:700}.u1{text-decoration:underline}.u2{text-decoration:underline double}
.inv{background:#111;color:#fffef9}.fb{font-size:.8em}
.pic{display:block;image-rendering:pixelated}.code{font-size:12px;color:#333}
.drawer{color:#a60;font-size:12px}.warn{color:#a00;font-size:12px;white-space:normal}
"""


def _png_uri(pic: PILImage.Image) -> str:
    buf = io.BytesIO()
    pic.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _turn(s: Style) -> str:
    """The CSS rotation of turned text (page-mode directions, ESC V, ESC {); '' for upright."""
    if s.rotated:
        return "rotate(-90deg) " if s.upside_down else "rotate(90deg) "
    return "rotate(180deg) " if s.upside_down else ""


def _span(text: str, s: Style) -> str:
    classes = []
    if s.bold:
        classes.append("b")
    if s.underline:
        classes.append(f"u{min(2, s.underline)}")
    if s.inverse:
        classes.append("inv")
    if s.font != "A":
        classes.append("fb")
    css = []
    turn = _turn(s)
    if s.height > 1 and s.width == s.height:
        css.append(f"font-size:{s.height}em")
    elif s.width > 1 or s.height > 1:
        css.append(
            f"display:inline-block;transform:{turn}scale({s.width},{s.height});transform-origin:left bottom;"
            f"margin-right:{(s.width - 1) * len(text)}ch;line-height:{1.35 * s.height}em"
        )
        turn = ""
    if turn:  # the span turned as a block: an upside-down run also reads right to left, as printed
        css.append(f"display:inline-block;transform:{turn.strip()}")
    attr = f' class="{" ".join(classes)}"' if classes else ""
    attr += f' style="{";".join(css)}"' if css else ""
    return f"<span{attr}>{escape(text)}</span>" if attr else escape(text)


_GLYPH_CSS = "width:1ch;height:1.35em;vertical-align:bottom;image-rendering:pixelated"


def _glyphs(span: Span) -> str:
    """User-defined characters: each one's bitmap, one column wide."""
    turn = _turn(span.style)
    css = _GLYPH_CSS + (f";transform:{turn.strip()}" if turn else "")
    return "".join(
        f'<img style="{css}" alt="user-defined character {escape(str(g.key))}" src="{_png_uri(bitmap_image(g))}">'
        for g in span.glyphs or ()
    )


def _piece(span: Span) -> str:
    return _glyphs(span) if span.glyphs else _span(span.text, span.style)


def _align(align: str) -> str:
    return {"center": " c", "right": " r"}.get(align, "")


def _receipt(r: Receipt, source: str) -> str:
    body: list[str] = []
    dots = r.width * DOTS_PER_COLUMN
    for el in r.elements:
        if isinstance(el, Line):
            body.append(f'<div class="l{_align(el.align)}">' + "".join(_piece(s) for s in el.spans) + "</div>")
        elif isinstance(el, Feed):
            body.extend('<div class="l"></div>' for _ in range(min(MAX_FEED_LINES, int(el.lines))))
        elif isinstance(el, Image):
            if el.bitmap:
                pic = bitmap_image(el)
                pct = min(100.0, 100.0 * pic.width / dots)
                body.append(
                    f'<div class="l{_align(el.align)}"><img class="pic" style="width:{pct:.1f}%;display:inline-block" '
                    f'alt="image {el.width}x{el.height}" src="{_png_uri(pic)}"></div>'
                )
            else:
                body.append(f'<div class="l{_align(el.align)} code">[logo {escape(str(el.key))}]</div>')
        elif isinstance(el, Code):
            body.append(_code(el))
        elif isinstance(el, DrawerKick):
            body.append(f'<div class="drawer">⏏ drawer kick (pin {el.pin})</div>')
    cut = " cut" if r.cut else ""
    caption = f"{escape(source)} · receipt {r.index + 1} · {escape(r.encoding)} · {r.width} columns"
    warnings = "".join(f'<div class="warn">⚠ @0x{w.offset:x} {escape(w.message)}</div>' for w in r.warnings[:20])
    return (
        f'<figure><figcaption>{caption}</figcaption><div class="paper{cut}" style="width:{r.width}ch">'
        + "".join(body)
        + f"</div>{warnings}</figure>"
    )


def _code(code: Code) -> str:
    label = f'<div class="code">{escape(code.symbology)}: {escape(code.data)}</div>'
    if code.symbology == "QR":
        matrix = qr_matrix(code.data)
        if matrix:
            size = len(matrix)
            pic = PILImage.new("L", (size, size), 255)
            pic.putdata([0 if m else 255 for row in matrix for m in row])
            pic = pic.resize((size * 4, size * 4), PILImage.Resampling.NEAREST)
            return (
                f'<div class="l{_align(code.align)}"><img class="pic" style="display:inline-block;width:{size * 4}px" '
                f'alt="QR {escape(code.data)}" src="{_png_uri(pic)}">{label}</div>'
            )
    if code.symbology == "PDF417":
        symbol = pdf417_picture(code.raw, 576)
        if symbol is not None:
            return (
                f'<div class="l{_align(code.align)}"><img class="pic" style="display:inline-block;'
                f'width:{symbol.width}px" alt="PDF417 {escape(code.data)}" src="{_png_uri(symbol)}">{label}</div>'
            )
    return f'<div class="l{_align(code.align)}">{label}</div>'


def html_head(title: str = "klx") -> str:
    """The start of the page (``html_receipt`` pieces follow, then ``HTML_TAIL``): a page can be
    written receipt by receipt as they are decoded."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>"
    )


def html_receipt(receipt: Receipt, source: str = "") -> str:
    """One receipt's figure, for the page begun by ``html_head``."""
    return _receipt(receipt, source)


HTML_TAIL = "</body></html>\n"


def render_html(receipts: Sequence[Receipt], title: str = "klx", sources: Sequence[str] | None = None) -> str:
    """A self-contained HTML page showing every receipt."""
    names = list(sources) if sources else [""] * len(receipts)
    figures = "".join(html_receipt(r, n) for r, n in zip(receipts, names, strict=True))
    return html_head(title) + figures + HTML_TAIL
