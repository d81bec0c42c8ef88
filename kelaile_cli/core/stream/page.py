"""ESC/POS page mode: text and images placed by dot position in print areas, printed as one block.

In page mode (``ESC L``) the printer does not print line by line: it draws into a page buffer. ``ESC W``
sets a print area (origin and size in dots, in page coordinates), ``ESC T`` the direction text runs in
that area, ``ESC $``/``ESC \\`` the horizontal and ``GS $``/``GS \\`` the vertical position *in the
area's own direction*. ``FF`` prints the whole buffer and returns to standard mode, ``ESC FF`` prints it
and stays, ``CAN`` clears it, ``ESC S`` returns to standard mode without printing.

``Page`` keeps what was placed (in page coordinates, dots) and, on printing, turns it into ordinary
receipt elements: one text line per row of ``ROW_DOTS`` dots, columns of ``COL_DOTS`` dots, and the
images of the page merged into one image — so that several areas make one printed block. Vertical
positions are taken as the top of a line; rows with nothing on them before the first and after the
last placed item are not printed (the blank part of a page carries no information).

Directions (Epson ``ESC T`` n): 0 left to right from the upper left; 1 bottom to top from the lower
left; 2 right to left from the lower right (upside down); 3 top to bottom from the upper right.
Text in directions 1 and 3 is laid out one character per row, read top to bottom as it is seen on the
paper; each character is turned with the direction: ``rotated`` (a quarter turn clockwise) in
direction 3, ``rotated`` and ``upside_down`` (a quarter turn counter-clockwise) in direction 1,
``upside_down`` (half a turn, kept in reading order) in direction 2. Raster images are turned the same
way: their bitmaps are rotated as they are placed.

Everything is clipped to the print area it was placed in: text that reaches the end of the area goes
on at the start of the next line (as in standard mode), lines that fall beyond the area's far edge and
the parts of images outside the area are not printed.
"""

from __future__ import annotations

from kelaile_cli.core.stream.cells import cells
from kelaile_cli.core.stream.receipt import PLAIN, Element, Feed, Image, Line, Span, Style

__all__ = ["COL_DOTS", "DEFAULT_AREA", "ROW_DOTS", "Page", "turned"]

COL_DOTS = 12  # font A column
ROW_DOTS = 30  # default line spacing
DEFAULT_AREA = (0, 0, 512, 1662)  # x, y, width, height: Epson TM-T88's default page-mode area


class _Placed:
    """A run of text at a page position (dots; ``vertical``: one character per row)."""

    def __init__(
        self,
        x: int,
        y: int,
        text: str,
        style: Style,
        start: int,
        end: int,
        vertical: bool,
        glyphs: list[Image] | None = None,
    ) -> None:
        self.x = x
        self.y = y
        self.text = text
        self.style = style
        self.start = start
        self.end = end
        self.vertical = vertical
        self.glyphs = glyphs  # user-defined characters: one bitmap per character of text


Rect = tuple[int, int, int, int]  # x, y, width, height (dots, page coordinates)


def turned(img: Image, quarters: int) -> Image:
    """The image turned ``quarters`` quarter turns clockwise (its scale applied: the result has scale 1)."""
    quarters &= 3
    if not quarters and img.scale_x == img.scale_y == 1:
        return img
    w, h = img.width * img.scale_x, img.height * img.scale_y
    stride = img.row_bytes

    def dot(x: int, y: int) -> bool:
        sx, sy = x // img.scale_x, y // img.scale_y
        i = sy * stride + sx // 8
        return i < len(img.bitmap) and bool(img.bitmap[i] & (0x80 >> (sx % 8)))

    def source(x: int, y: int) -> tuple[int, int]:
        """The dot of the image that lands at (x, y) of the turned one."""
        if quarters in (0, 2):
            return (x, y) if quarters == 0 else (w - 1 - x, h - 1 - y)
        return (y, h - 1 - x) if quarters == 1 else (w - 1 - y, x)

    nw, nh = (w, h) if quarters in (0, 2) else (h, w)
    out_stride = (nw + 7) // 8
    out = bytearray(out_stride * nh)
    for y in range(nh):
        for x in range(nw):
            if dot(*source(x, y)):
                out[y * out_stride + x // 8] |= 0x80 >> (x % 8)
    return Image(nw, nh, bytes(out), img.source, img.start, img.end, img.align, 1, 1, img.key)


#: quarter turns clockwise of what is drawn in each direction
_TURNS = {0: 0, 1: 3, 2: 2, 3: 1}


class Page:
    """The page buffer of one page-mode session (see the module docstring)."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.area = DEFAULT_AREA
        self.direction = 0
        self.x = 0  # print position in the area, in the area's direction
        self.y = 0
        self.line_dots = ROW_DOTS  # the last line feed's spacing: text that wraps at the area's end uses it
        self.placed: list[_Placed] = []
        self.images: list[tuple[int, int, Image, Rect]] = []  # page position, turned image, its area

    # -- commands -------------------------------------------------------------------------------
    def set_area(self, x: int, y: int, width: int, height: int) -> None:
        self.area = (x, y, width or 1, height or 1)
        self.x = self.y = 0

    def set_direction(self, n: int) -> None:
        self.direction = n & 3
        self.x = self.y = 0

    def clear(self) -> None:
        self.placed = []
        self.images = []
        self.x = self.y = 0

    def newline(self, dots: int) -> None:
        self.x = 0
        self.y += dots
        if dots > 0:
            self.line_dots = dots

    def _lengths(self) -> tuple[int, int]:
        """The area's length along the text direction and across it."""
        _, _, w, h = self.area
        return (w, h) if self.direction in (0, 2) else (h, w)

    # -- placing --------------------------------------------------------------------------------
    def _to_page(self, x: int, y: int, along: int, across: int) -> tuple[int, int]:
        """Top-left corner on the page of a box ``along`` dots long in the text direction and
        ``across`` dots high, whose corner in area coordinates is (x, y)."""
        ax, ay, w, h = self.area
        d = self.direction
        if d == 0:
            return ax + x, ay + y
        if d == 2:
            return ax + w - x - along, ay + h - y - across
        if d == 1:
            return ax + y, ay + h - x - along
        return ax + w - y - across, ay + x

    def text(self, text: str, style: Style, start: int, end: int, glyphs: list[Image] | None = None) -> None:
        """Place text at the print position and move the position past it (``glyphs``: the text is
        user-defined characters, these their bitmaps); text reaching the end of the area wraps, text
        beyond the area's far edge is dropped."""
        along_len, across_len = self._lengths()
        cell = COL_DOTS * style.width
        across = ROW_DOTS * style.height
        while text:
            if self.y < 0 or self.y + across > across_len:
                return  # beyond the area: not printed
            room = (along_len - self.x) // cell
            fit = 0
            used = 0
            while fit < len(text) and used + cells(text[fit]) <= room:
                used += cells(text[fit])
                fit += 1
            if not fit:
                if self.x == 0:
                    return  # the area is narrower than one character
                self.newline(self.line_dots)
                continue
            self._place(text[:fit], style, start, end, glyphs[:fit] if glyphs else None)
            text, glyphs = text[fit:], (glyphs[fit:] if glyphs else None)
            if text:
                self.newline(self.line_dots)

    def _place(self, text: str, style: Style, start: int, end: int, glyphs: list[Image] | None) -> None:
        along = cells(text) * COL_DOTS * style.width
        across = ROW_DOTS * style.height
        px, py = self._to_page(self.x, self.y, along, across)
        d = self.direction
        if d == 2:
            style = style.changed({"upside_down": True})
        elif d == 3:
            style = style.changed({"rotated": True})
        elif d == 1:  # a quarter turn counter-clockwise; read bottom to top, so seen top to bottom reversed
            style = style.changed({"rotated": True, "upside_down": True})
            text = text[::-1]
            glyphs = glyphs[::-1] if glyphs else glyphs
        self.placed.append(_Placed(px, py, text, style, start, end, d in (1, 3), glyphs))
        self.x += along

    def image(self, img: Image) -> None:
        """Place an image with its top left (in the area's direction) at the print position, turned
        with the direction and clipped to the area."""
        along, across = img.width * img.scale_x, img.height * img.scale_y
        px, py = self._to_page(self.x, self.y, along, across)
        self.images.append((px, py, turned(img, _TURNS[self.direction]), self.area))
        self.x += along

    # -- printing -------------------------------------------------------------------------------
    def elements(self, end: int) -> list[Element]:
        """What the page prints, top to bottom: text lines, feeds for empty rows, one merged image."""
        rows: dict[int, list[tuple[int, _Placed]]] = {}
        for item in self.placed:
            col, row = item.x // COL_DOTS, item.y // ROW_DOTS
            if item.vertical:
                for i, ch in enumerate(item.text):
                    glyph = [item.glyphs[i]] if item.glyphs else None
                    rows.setdefault(row + i, []).append(
                        (col, _Placed(item.x, item.y, ch, item.style, item.start, item.end, True, glyph))
                    )
            else:
                rows.setdefault(row, []).append((col, item))
        merged = self._merged(end)
        image_row = merged[0] // ROW_DOTS if merged is not None else None
        out: list[Element] = []
        keys = sorted(rows)
        if image_row is not None and image_row not in rows:
            keys = sorted([*keys, image_row])
        last: int | None = None
        for row in keys:
            if last is not None and row - last > 1:
                out.append(Feed(row - last - 1, self.start, self.start))
            last = row
            if merged is not None and row == image_row:
                out.append(merged[1])
            if row in rows:
                out.append(_row_line(sorted(rows[row], key=lambda it: it[0])))
        return out

    def _merged(self, end: int) -> tuple[int, Image] | None:
        """All images of the page drawn into one, each clipped to its area, as wide as from the left
        edge of the page to the right of the rightmost (its top on the page, the image)."""
        boxes = []
        for x, y, img, (ax, ay, aw, ah) in self.images:
            left, top = max(x, ax), max(y, ay)
            right, bottom = min(x + img.width, ax + aw), min(y + img.height, ay + ah)
            if right > left and bottom > top:
                boxes.append((x, y, img, (left, top, right, bottom)))
        if not boxes:
            return None
        top = min(box[1] for *_, box in boxes)
        width = max(box[2] for *_, box in boxes)  # from the paper's left edge: the image keeps its place
        height = max(1, max(box[3] for *_, box in boxes) - top)
        stride = (width + 7) // 8
        canvas = bytearray(stride * height)
        for x, y, img, (left, ctop, right, bottom) in boxes:
            for py in range(ctop, bottom):
                row_at = (py - top) * stride
                for px in range(left, right):
                    if img.pixel(px - x, py - y):
                        canvas[row_at + px // 8] |= 0x80 >> (px % 8)
        merged = Image(
            width=width,
            height=height,
            bitmap=bytes(canvas),
            source="page mode",
            start=min(img.start for _, _, img, _ in boxes),
            end=end,
            align="left",
        )
        return top, merged


def _row_line(items: list[tuple[int, _Placed]]) -> Line:
    """One printed row: the items at their columns, blanks between (an item that would overlap the
    one before it starts right after it)."""
    spans: list[Span] = []
    col = 0
    for at, item in items:
        if at > col:
            spans.append(Span(" " * (at - col), PLAIN, item.start, item.start))
            col = at
        spans.append(Span(item.text, item.style, item.start, item.end, item.glyphs))
        col += cells(item.text) * item.style.width
    printed = sum(cells(s.text) * s.style.width for s in spans)
    return Line(spans, "left", min(s.start for s in spans), max(s.end for s in spans), printed)
