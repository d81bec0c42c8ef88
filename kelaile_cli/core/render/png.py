"""PNG rendering at printer resolution: 384 dots for 58 mm paper, 576 dots for 80 mm.

Fonts are the caller's business (finding one is a filesystem look-up): pass a loaded Pillow font;
without one Pillow's built-in font is used, which has no CJK glyphs.

Turned characters (page-mode directions, ``ESC V``, ``ESC {``) are drawn turned: an upside-down run
is drawn turned half a turn, its characters right to left as the paper shows them; a character turned
a quarter turn is drawn across its cell, centred on it (wider than the cell: it may reach over its
neighbours, which in vertical text are blank).
"""

from __future__ import annotations

import io

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageFont

from kelaile_cli.core.render.pictures import bitmap_image, pdf417_picture, qr_matrix
from kelaile_cli.core.render.text import MAX_FEED_LINES
from kelaile_cli.core.stream.cells import char_cells
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Feed, Image, Line, Receipt, Style

__all__ = ["paper_dots", "render_png"]

CHAR_H = 24
LINE_H = 30
MARGIN = 8
FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont
_Char = tuple[str, Style, Image | None]  # a character, its style, its bitmap if user-defined


def paper_dots(width: int) -> int:
    return 384 if width <= 32 else 576


def _x(align: str, used: int, total: int) -> int:
    if align == "center":
        return (total - used) // 2
    if align == "right":
        return total - used
    return 0


class _Canvas:
    def __init__(self, dots: int, font: FontT, cell_w: int) -> None:
        self.dots, self.font, self.cell_w = dots, font, cell_w
        self.ops: list[tuple[int, PILImage.Image, int]] = []  # (y, picture, x)
        self.y = 0

    def add(self, pic: PILImage.Image, align: str) -> None:
        x = _x(align, pic.width, self.dots) if pic.width < self.dots else 0
        self.ops.append((self.y, pic, x))
        self.y += pic.height

    def glyphs(self, row: list[_Char], align: str) -> None:
        row = _as_seen(row)
        height = max((s.height for _, s, _ in row), default=1) * LINE_H
        used = sum(char_cells(ch) * self.cell_w * s.width for ch, s, _ in row)
        spare = LINE_H if any(s.rotated for _, s, _ in row) else 0  # room for a turned glyph at the end
        strip = PILImage.new("L", (max(1, used + spare), height), 255)
        turned: list[tuple[int, int, PILImage.Image]] = []
        x = 0
        for ch, style, glyph in row:
            cell = self._cell(ch, style, glyph)
            at = (x, height - cell.height)
            if style.rotated:  # a quarter turn, centred on the cell, drawn over it after the row
                pic = cell.rotate(90 if style.upside_down else -90, expand=True)
                turned.append((x + (cell.width - pic.width) // 2, at[1] + (cell.height - pic.height) // 2, pic))
                cell = PILImage.new("L", cell.size, 0 if style.inverse else 255)
            elif style.upside_down:
                cell = cell.rotate(180)
            strip.paste(cell, at)
            x += cell.width
        for tx, ty, pic in turned:
            box = (max(0, tx), max(0, ty), min(strip.width, tx + pic.width), min(strip.height, ty + pic.height))
            if box[2] > box[0] and box[3] > box[1]:
                inked = pic.crop((box[0] - tx, box[1] - ty, box[2] - tx, box[3] - ty))
                strip.paste(ImageChops.darker(strip.crop(box), inked), box[:2])
        self.add(strip, align)

    def _cell(self, ch: str, style: Style, glyph: Image | None) -> PILImage.Image:
        """One character at its printed size, upright."""
        w = char_cells(ch) * self.cell_w
        cell = PILImage.new("L", (w, LINE_H), 0 if style.inverse else 255)
        draw = ImageDraw.Draw(cell)
        ink = 255 if style.inverse else 0
        if glyph is not None:  # a user-defined character: its bitmap, not the font's glyph
            pic = bitmap_image(glyph)
            if style.inverse:
                pic = pic.point(lambda v: 255 - v)
            cell.paste(pic.crop((0, 0, min(w, pic.width), min(LINE_H - 2, pic.height))), (0, 2))
        else:
            draw.text((0, 2), ch, font=self.font, fill=ink)
        if style.bold and glyph is None:
            draw.text((1, 2), ch, font=self.font, fill=ink)
        if style.underline:
            draw.rectangle((0, CHAR_H + 1, w, CHAR_H + style.underline), fill=ink)
        if style.width > 1 or style.height > 1:
            cell = cell.resize((w * style.width, LINE_H * style.height), PILImage.Resampling.NEAREST)
        return cell

    def picture(self) -> PILImage.Image:
        out = PILImage.new("L", (self.dots + 2 * MARGIN, self.y + 2 * MARGIN), 255)
        for y, pic, x in self.ops:
            out.paste(pic.crop((0, 0, min(pic.width, self.dots), pic.height)), (x + MARGIN, y + MARGIN))
        return out


def _as_seen(row: list[_Char]) -> list[_Char]:
    """The row in the order the paper shows it: each run of upside-down (not quarter-turned)
    characters reversed."""
    out: list[_Char] = []
    run: list[_Char] = []
    for item in row:
        style = item[1]
        if style.upside_down and not style.rotated:
            run.append(item)
            continue
        out.extend(reversed(run))
        run = []
        out.append(item)
    out.extend(reversed(run))
    return out


def _rows(line: Line, width: int) -> list[list[_Char]]:
    rows: list[list[_Char]] = [[]]
    used = 0
    for span in line.spans:
        glyphs = span.glyphs
        for i, ch in enumerate(span.text):
            cells = char_cells(ch) * max(1, span.style.width)
            if used + cells > width and rows[-1]:
                rows.append([])
                used = 0
            rows[-1].append((ch, span.style, glyphs[i] if glyphs is not None and i < len(glyphs) else None))
            used += cells
    for row in rows:  # trailing spaces take no room on paper
        while row and row[-1][0] == " ":
            row.pop()
    return rows


def _qr_picture(code: Code) -> PILImage.Image | None:
    matrix = qr_matrix(code.data)
    if matrix is None:
        return None
    module = code.size or 4
    size = len(matrix)
    pic = PILImage.new("L", (size, size), 255)
    pic.putdata([0 if m else 255 for row in matrix for m in row])
    return pic.resize((size * module, size * module), PILImage.Resampling.NEAREST)


def _code(canvas: _Canvas, code: Code, width: int) -> None:
    """A QR or PDF417 symbol drawn; other barcodes as their content between bars."""
    if code.symbology == "QR":
        pic = _qr_picture(code)
    elif code.symbology == "PDF417":
        pic = pdf417_picture(code.raw, canvas.dots)
    else:
        pic = None
    if pic is not None:
        canvas.add(pic, code.align)
    elif code.symbology != "QR":
        canvas.glyphs([(ch, Style(), None) for ch in f"|||| {code.data} ||||"[:width]], code.align)


def render_png(receipt: Receipt, *, font: FontT | None = None, dots: int | None = None) -> bytes:
    """The receipt as a PNG (grayscale, black on white) at printer resolution."""
    dots = dots or paper_dots(receipt.width)
    cell_w = dots // receipt.width
    font = font or ImageFont.load_default(size=20)
    canvas = _Canvas(dots, font, cell_w)
    for el in receipt.elements:
        if isinstance(el, Line):
            for row in _rows(el, receipt.width):
                canvas.glyphs(row, el.align)
        elif isinstance(el, Feed):
            canvas.y += int(min(MAX_FEED_LINES, el.lines) * LINE_H)
        elif isinstance(el, Image):
            if el.bitmap:
                canvas.add(bitmap_image(el), el.align)
            else:
                canvas.glyphs([(ch, Style(), None) for ch in f"[logo {el.key}]"], el.align)
        elif isinstance(el, Code):
            _code(canvas, el, receipt.width)
        elif isinstance(el, DrawerKick):
            continue
    canvas.y += LINE_H
    pic = canvas.picture()
    if receipt.cut:
        draw = ImageDraw.Draw(pic)
        for x in range(0, pic.width, 12):
            draw.line((x, pic.height - 3, x + 6, pic.height - 3), fill=0)
    buf = io.BytesIO()
    pic.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
