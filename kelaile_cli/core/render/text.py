"""Plain-text rendering at the paper's width in columns (32 = 58 mm, 42/48 = 80 mm).

Characters are kept as printed (a double-width "TOTAL" stays "TOTAL", so the text can be searched),
but alignment and wrapping count the columns they really take on paper: East Asian wide characters
take two, and a width multiplier multiplies.
"""

from __future__ import annotations

from kelaile_cli.core.stream.cells import cells, char_cells
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Element, Feed, Image, Line, LineRun, Receipt

__all__ = ["MAX_FEED_LINES", "line_rows", "render_text", "render_text_unchecked"]

MAX_FEED_LINES = 10


def line_rows(line: Line, width: int) -> list[tuple[str, int]]:
    """The printed rows of a line as (text, columns used), hard-wrapped at ``width`` like a printer."""
    if 0 <= line.cols <= width:  # fits: one row (cols excludes trailing blanks, which _place drops)
        return [(line.text.rstrip(), line.cols)]
    total = sum(cells(s.text) * max(1, s.style.width) for s in line.spans)
    if total <= width:
        return [("".join(s.text for s in line.spans), total)]
    rows: list[tuple[str, int]] = []
    cur: list[str] = []
    used = 0
    for span in line.spans:
        mult = max(1, span.style.width)
        for ch in span.text:
            n = char_cells(ch) * mult
            if used + n > width and cur:
                rows.append(("".join(cur), used))
                cur, used = [], 0
            cur.append(ch)
            used += n
    rows.append(("".join(cur), used))
    return rows


def _place(text: str, used: int, align: str, width: int) -> str:
    text_r = text.rstrip()
    used -= len(text) - len(text_r)
    if align == "center":
        text_r = " " * max(0, (width - used) // 2) + text_r
    elif align == "right":
        text_r = " " * max(0, width - used) + text_r
    return text_r


def _marker(label: str, align: str, width: int) -> str:
    return _place(label, cells(label), align, width)


def render_text(receipt: Receipt, width: int | None = None, markers: bool = True) -> str:
    """The receipt as plain text lines (no trailing spaces), ending with a cut marker if ``markers``."""
    return _render(receipt, width or receipt.width, markers, None)


def render_text_unchecked(receipt: Receipt, markers: bool = True) -> tuple[str, list[str]]:
    """``render_text(receipt, markers=markers)``, and the parts of it that may hold a character JSON
    escapes, but the newline: all but the lines of runs known free of them (``LineRun.plain``), whose
    text then need not be searched again when it is written into a record."""
    unchecked: list[str] = []
    return _render(receipt, receipt.width, markers, unchecked), unchecked


def _render(receipt: Receipt, width: int, markers: bool, unchecked: list[str] | None) -> str:
    out: list[str] = []
    for el in receipt.blocks:
        start = len(out)
        if not isinstance(el, LineRun):
            _rows(el, width, markers, out)
        elif el.gap <= MAX_FEED_LINES and (el.widest <= width or el.settle() <= width):  # each line fits a row
            if el.align == "left":  # (most runs; the columns of a line may be a bound, see LineRun.exact)
                if not el.stripped:
                    out.append(el.joined)  # the lines as they were decoded: no line joined again
                else:
                    out.extend(el.printed)  # joined once, with the rest (a run has a line at least)
            else:  # an empty line (cols -1) is a line fed: no row of blanks
                el.settle()
                align = el.align
                rows = zip(el.printed, el.cols, strict=True)
                out.extend([_place(text, cols, align, width) if cols >= 0 else "" for text, cols in rows])
            if el.plain:  # its rows: its lines, and blanks
                continue
        else:
            lines: list[Element] = []
            el.expand(lines)
            for line in lines:
                _rows(line, width, markers, out)
        if unchecked is not None:
            unchecked.extend(out[start:])
    if markers and receipt.cut:
        out.append("--- cut ---" if receipt.cut == "full" else "- - cut - -")
    return "\n".join(out)


def _rows(el: Element, width: int, markers: bool, out: list[str]) -> None:
    """Append the text rows of one element."""
    if isinstance(el, Line):
        if 0 <= el.cols <= width:  # fits on one row (most lines): line_rows without the lists
            out.append(_place(el.text.rstrip(), el.cols, el.align, width))
        else:
            out.extend(_place(text, used, el.align, width) for text, used in line_rows(el, width))
    elif isinstance(el, Feed):
        out.extend([""] * min(MAX_FEED_LINES, int(el.lines)))
    elif isinstance(el, Image):
        label = f"[logo {el.key}]" if el.key and not el.bitmap else f"[image {el.width}x{el.height}]"
        out.append(_marker(label, el.align, width))
    elif isinstance(el, Code):
        out.append(_marker(f"[{el.symbology}: {el.data}]", el.align, width))
    elif isinstance(el, DrawerKick) and markers:
        out.append(f"[drawer kick pin {el.pin}]")
