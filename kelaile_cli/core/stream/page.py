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
paper, and marked ``rotated``; in direction 2 it is marked ``upside_down`` and kept in reading order.
"""

from __future__ import annotations

from dataclasses import replace

from kelaile_cli.core.render.text import cells
from kelaile_cli.core.stream.receipt import PLAIN, Element, Feed, Image, Line, Span, Style

__all__ = ["COL_DOTS", "DEFAULT_AREA", "ROW_DOTS", "Page"]

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


class Page:
    """The page buffer of one page-mode session (see the module docstring)."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.area = DEFAULT_AREA
        self.direction = 0
        self.x = 0  # print position in the area, in the area's direction
        self.y = 0
        self.placed: list[_Placed] = []
        self.images: list[tuple[int, int, Image]] = []

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
        user-defined characters, these their bitmaps)."""
        if not text:
            return
        along = cells(text) * COL_DOTS * style.width
        across = ROW_DOTS * style.height
        px, py = self._to_page(self.x, self.y, along, across)
        d = self.direction
        if d == 2:
            style = replace(style, upside_down=True)
        elif d in (1, 3):
            style = replace(style, rotated=True)
            if d == 1:  # read bottom to top: seen top to bottom it is reversed
                text = text[::-1]
                glyphs = glyphs[::-1] if glyphs else glyphs
        self.placed.append(_Placed(px, py, text, style, start, end, d in (1, 3), glyphs))
        self.x += along

    def image(self, img: Image) -> None:
        """Place an image with its top left at the print position (not rotated)."""
        px, py = self._to_page(self.x, self.y, img.width * img.scale_x, img.height * img.scale_y)
        self.images.append((px, py, img))
        self.x += img.width * img.scale_x

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
        """All images of the page drawn into one, as wide as from the left edge of the page to the right
        of the rightmost (its top on the page, the image)."""
        if not self.images:
            return None
        left = 0  # from the paper's left edge: the image keeps its place across the line
        top = min(y for _, y, _ in self.images)
        right = max(x + img.width * img.scale_x for x, _, img in self.images)
        bottom = max(y + img.height * img.scale_y for _, y, img in self.images)
        width, height = max(1, right - left), max(1, bottom - top)
        stride = (width + 7) // 8
        canvas = bytearray(stride * height)
        for x, y, img in self.images:
            src_stride = (img.width + 7) // 8
            for r in range(img.height * img.scale_y):
                src = img.bitmap[(r // img.scale_y) * src_stride : (r // img.scale_y + 1) * src_stride]
                if not src:
                    break
                row_at = (y - top + r) * stride
                for c in range(img.width * img.scale_x):
                    sc = c // img.scale_x
                    if sc // 8 < len(src) and src[sc // 8] & (0x80 >> (sc % 8)):
                        dc = x - left + c
                        canvas[row_at + dc // 8] |= 0x80 >> (dc % 8)
        merged = Image(
            width=width,
            height=height,
            bitmap=bytes(canvas),
            source="page mode",
            start=min(img.start for _, _, img in self.images),
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
