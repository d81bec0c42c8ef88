"""Rich terminal rendering: a paper strip with styles, images as block art, scannable QR codes."""

from __future__ import annotations

from PIL import Image as PILImage
from rich.console import Group, JustifyMethod, RenderableType
from rich.panel import Panel
from rich.style import Style as RichStyle
from rich.text import Text

from kelaile_cli.core.render.pictures import bitmap_image, qr_matrix
from kelaile_cli.core.render.text import MAX_FEED_LINES
from kelaile_cli.core.stream.cells import char_cells
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Feed, Image, Line, Receipt, Style

__all__ = ["render_rich"]

DOTS_PER_COLUMN = 12  # Font A is 12 dots wide: 384 dots = 32 columns, 576 = 48
DOTS_PER_BLOCK = 6  # a half block is one pixel: 6 dots wide, 6 high (a cell is 12 x 24 dots on paper)


def _justify(align: str) -> JustifyMethod:
    return "center" if align == "center" else "right" if align == "right" else "left"


def _style(s: Style) -> RichStyle:
    big = s.width > 1 or s.height > 1
    return RichStyle(
        bold=s.bold or big,
        underline=s.underline > 0,
        reverse=s.inverse,
        color="bright_white" if big else None,
        italic=s.font == "B",
    )


def _line(line: Line, width: int) -> list[Text]:
    rows: list[Text] = []
    cur = Text()
    used = 0
    for span in line.spans:
        style = _style(span.style)
        mult = max(1, span.style.width)
        for ch in span.text:
            cells = char_cells(ch) * mult
            if used + cells > width and used:
                rows.append(cur)
                cur, used = Text(), 0
            cur.append(ch + " " * (cells - char_cells(ch)), style)
            used += cells
    rows.append(cur)
    for row in rows:
        row.rstrip()
        row.justify = _justify(line.align)
    return rows


def _blocks(pixels: list[list[bool]], align: str) -> list[Text]:
    """Two pixel rows per character row with half blocks."""
    out = []
    for y in range(0, len(pixels), 2):
        top = pixels[y]
        bottom = pixels[y + 1] if y + 1 < len(pixels) else [False] * len(top)
        chars = "".join("█" if t and b else "▀" if t else "▄" if b else " " for t, b in zip(top, bottom, strict=True))
        out.append(Text(chars, justify=_justify(align)))
    return out


def _image(img: Image, width: int) -> list[Text]:
    if not img.bitmap:
        return [Text(f"[logo {img.key}]", style="dim")]
    pic = bitmap_image(img)
    cols = max(1, min(width, round(pic.width / DOTS_PER_BLOCK)))
    rows = max(1, round(pic.height * cols / pic.width))
    small = pic.resize((cols, rows), PILImage.Resampling.BOX)
    pixels = [[small.getpixel((x, y)) < 200 for x in range(cols)] for y in range(rows)]  # type: ignore[operator]
    return _blocks(pixels, img.align)


def _code(code: Code, width: int) -> list[Text]:
    label = Text(f"[{code.symbology}] {code.data}", style="cyan")
    label.justify = _justify(code.align)
    if code.symbology != "QR":
        return [label]
    matrix = qr_matrix(code.data)
    if matrix is None or len(matrix) > width:
        return [label]
    # light-on-dark terminals: draw dark modules as spaces on a white block so phones can scan it
    inverted = [[not m for m in row] for row in matrix]
    return [*_blocks(inverted, code.align), label]


def render_rich(receipt: Receipt, width: int | None = None) -> RenderableType:
    """The receipt as a paper strip (a rich renderable; printing is the caller's business)."""
    width = width or receipt.width
    parts: list[Text] = []
    for el in receipt.elements:
        if isinstance(el, Line):
            parts.extend(_line(el, width))
        elif isinstance(el, Feed):
            parts.extend(Text("") for _ in range(min(MAX_FEED_LINES, int(el.lines))))
        elif isinstance(el, Image):
            parts.extend(_image(el, width))
        elif isinstance(el, Code):
            parts.extend(_code(el, width))
        elif isinstance(el, DrawerKick):
            parts.append(Text(f"⏏ drawer kick (pin {el.pin})", style="yellow"))
    footer = {"full": "✂ cut", "partial": "✂ partial cut"}.get(receipt.cut or "", "no cut")
    return Panel(Group(*parts), width=width + 4, subtitle=footer, subtitle_align="right", padding=(0, 1))
