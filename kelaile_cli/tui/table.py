"""``FleetTable``: a row-keyed table that renders only the lines on screen, each from a cached strip.

Textual's DataTable re-renders every visible cell through Rich whenever any cell changes; with a
thousand boxes and a steady event stream that is most of a core. Here a row is one pre-formatted
line (fixed column widths), a changed row repaints only its own line (``refresh_line``), and a
row off screen costs nothing until it is scrolled to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["FleetTable"]

_STATE_STYLE = {"offline": Style(color="red", bold=True), "degraded": Style(color="yellow")}
_HEADER = Style(bold=True, reverse=True)
_CURSOR = Style(reverse=True)
_PLAIN = Style()  # every segment has a style: NO_COLOR's monochrome filter needs one


class FleetTable(ScrollView, can_focus=True):
    """Rows keyed by their first cell; ``set_rows`` replaces them, ``update_row`` changes one."""

    DEFAULT_CSS = "FleetTable { height: 1fr; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "cursor(-1000000)", "first", show=False),
        Binding("end", "cursor(1000000)", "last", show=False),
        Binding("enter", "select", "open", show=False),
    ]

    class RowSelected(Message):
        """``enter`` on a row."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, columns: Sequence[tuple[str, int]], *, middle_cut: int = 2, id: str | None = None) -> None:
        """``columns``: (name, width); the first ``middle_cut`` columns are shortened in the middle."""
        super().__init__(id=id)
        self.middle_cut = middle_cut
        self.columns = list(columns)  # (name, width)
        self._names = [c[0] for c in columns]
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._rows: dict[str, tuple[str, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._lines: dict[str, Strip] = {}  # rows cropped and padded to the view (new Strips are not cheap)
        self._lines_at = (0, 0)  # the (scroll x, width) those lines are for
        self.cursor = 0
        self.line_width = sum(w + 1 for _, w in columns)

    # -- data --------------------------------------------------------------------------------------
    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    def cell(self, key: str, column: str) -> str:
        return self._rows[key][self._names.index(column)]

    def set_rows(self, rows: Sequence[tuple[str, ...]]) -> None:
        """Replace every row (a new order or a new filter); the cursor stays on its box when it can."""
        keep = self.cursor_key
        self._keys = [r[0] for r in rows]
        self._index = {k: i for i, k in enumerate(self._keys)}
        self._rows = {r[0]: r for r in rows}
        self._strips = {k: s for k, s in self._strips.items() if k in self._rows}
        self._lines = {k: s for k, s in self._lines.items() if k in self._rows}
        self.cursor = self._index.get(keep, min(self.cursor, max(0, len(self._keys) - 1))) if keep else 0
        self.virtual_size = Size(self.line_width, len(self._keys) + 1)
        self.refresh()

    def update_row(self, row: tuple[str, ...]) -> None:
        """Change one row's cells; only its line is repainted, and only when it is on screen."""
        key = row[0]
        if self._rows.get(key) == row or key not in self._index:
            return
        self._rows[key] = row
        self._strips.pop(key, None)
        self._lines.pop(key, None)
        y = self._index[key] + 1 - self.scroll_offset.y
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    # -- drawing -----------------------------------------------------------------------------------
    def _format(self, cells: Sequence[str]) -> str:
        out = []
        for i, ((_, width), cell) in enumerate(zip(self.columns, cells, strict=False)):
            if len(cell) <= width:
                text = cell
            elif i < self.middle_cut:  # identifiers differ at the end: "replay-7f…-0001"
                head = (width - 1) // 2
                text = cell[:head] + "…" + cell[len(cell) - (width - 1 - head) :]
            else:
                text = cell[: width - 1] + "…"
            out.append(text.ljust(width))
        return " ".join(out)

    def _row_strip(self, key: str) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            row = self._rows[key]
            text = self._format(row)
            style = _STATE_STYLE.get(row[2].split(":", 1)[0] if len(row) > 2 else "", _PLAIN)
            strip = self._strips[key] = Strip([Segment(text, style)], len(text))
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x = self.scroll_offset.x
        if y == 0:
            text = self._format(self._names)
            return self._frozen(Strip([Segment(text, _HEADER)], len(text)), x, width, _HEADER)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._keys):
            return Strip.blank(width, _PLAIN)
        if self._lines_at != (x, width):
            self._lines, self._lines_at = {}, (x, width)
        key = self._keys[index]
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._frozen(self._row_strip(key), x, width, _PLAIN)
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(_CURSOR)
        return strip

    def _frozen(self, line: Strip, x: int, width: int, pad: Style) -> Strip:
        """``line`` scrolled ``x`` columns to the right in ``width``, its first column (the serial) kept."""
        if x:
            fixed = self.columns[0][1] + 1
            line = Strip.join([line.crop(0, fixed), line.crop(fixed + x, fixed + x + max(0, width - fixed))])
        return line.crop(0, width).extend_cell_length(width, pad)

    # -- keys --------------------------------------------------------------------------------------
    def _move(self, to: int) -> None:
        if not self._keys:
            return
        self.cursor = max(0, min(len(self._keys) - 1, to))
        top = self.scroll_offset.y
        visible = max(1, self.size.height - 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)
        self.refresh()

    def move_cursor_to(self, key: str) -> None:
        if key in self._index:
            self._move(self._index[key])

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.size.height - 2))

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(key))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
