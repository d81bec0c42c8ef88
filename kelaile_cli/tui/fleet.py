"""The fleet screen: one row per box keyed by serial, a text filter, a sort key and a summary strip."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from kelaile_cli.services.monitor.model import SORT_KEYS, FleetModel
from kelaile_cli.tui.table import FleetTable

if TYPE_CHECKING:
    from kelaile_cli.tui.app import MonitorApp

__all__ = ["COLUMN_WIDTHS", "FleetScreen"]

COLUMN_WIDTHS = (16, 8, 22, 4, 4, 5, 12, 7, 7, 6, 7, 6, 4)  # 120 columns with the separators


def _set(widget: Static, text: str) -> None:
    """Update a Static only when its text changes (an update repaints it)."""
    if getattr(widget, "_klx_text", None) != text:
        widget._klx_text = text  # type: ignore[attr-defined]
        widget.update(text)


class FleetScreen(Screen[None]):
    """Rows are updated cell by cell, by row key; the table is rebuilt only when the row order changes."""

    DEFAULT_CSS = """
    #banner { background: $error; color: $text; height: auto; display: none; padding: 0 1; }
    #banner.shown { display: block; }
    #summary { height: 1; padding: 0 1; background: $boost; }
    #filter { display: none; height: 3; }
    #filter:focus-within { display: block; }
    #filter.shown { display: block; }
    #fleet { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "filter", priority=True),
        Binding("s", "sort", "sort"),
        Binding("escape", "clear_filter", "clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ready = False  # composed and mounted: the timer may redraw it
        self.filter_text = ""
        self.sort = SORT_KEYS[0]
        self.state: str | None = None  # only boxes in this state (the palette's "show offline" …)
        self._order: list[str] = []
        self._summary = ""  # the summary strip as of the last full redraw (a keystroke does not redo it)
        self._shape: tuple[object, ...] = ()  # what decides the rows besides the boxes: filter, sort, state, count

    @property
    def monitor(self) -> MonitorApp:
        from kelaile_cli.tui.app import MonitorApp

        assert isinstance(self.app, MonitorApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("", id="banner")
        yield Static("", id="summary")
        search = Input(placeholder="filter: any text (serial, store, state, POS…); esc clears", id="filter")
        search.cursor_blink = False  # a steady cursor: the same screen every time it is drawn (snapshots)
        yield search
        yield FleetTable(list(zip(FleetModel.COLUMNS, COLUMN_WIDTHS, strict=True)), id="fleet")
        yield Footer()

    def on_mount(self) -> None:
        self.ready = True
        self.query_one("#fleet", FleetTable).focus()
        self.redraw()

    # -- drawing -----------------------------------------------------------------------------------
    def redraw(self, rows_only: bool = False) -> None:
        """Bring the table, the summary and the banner up to date with the model (``rows_only``: a filter
        keystroke: the rows and the "showing N of M", from the model's cached rows)."""
        model, now = self.monitor.model, self.monitor.clock()
        table = self.query_one("#fleet", FleetTable)
        # a keystroke filters the rows as last drawn (at most one tick old); the tick brings them up to date
        changed = set() if rows_only else model.changed_rows(now)
        shape = (self.filter_text, self.sort, self.state, len(model.boxes))
        if shape == self._shape and (not changed or shape[:3] == ("", "serial", None)):
            # the same rows in the same order (nothing changed, or every box shown by serial): by row key
            for serial in changed:
                table.update_row(model.boxes[serial].cached_row(now)[0])
            shown_count = len(self._order)
        else:
            rows = model.rows(now, self.filter_text, self.sort, self.state, fresh=not rows_only)
            order = [r[0] for r in rows]
            if order != self._order:
                table.set_rows(rows)
                self._order = order
            else:
                for r in rows:
                    table.update_row(r)
            self._shape, shown_count = shape, len(rows)
        if changed or not self._summary:
            self._summary = model.summary(now).text()
        only = f" · only {self.state}" if self.state else ""
        filtered = self.filter_text or self.state
        shown = f"{only} · showing {shown_count} of {len(model.boxes)}" if filtered else ""
        _set(self.query_one("#summary", Static), f"{self._summary} · sort: {self.sort}{shown}")
        if rows_only:
            return
        banner = self.query_one("#banner", Static)
        banner.set_class(model.cloud_ok is False, "shown")
        _set(banner, f"⚠ {model.cloud_reason}; retrying" if model.cloud_ok is False else "")

    def on_screen_resume(self) -> None:
        """Back from a box screen or a dialog: rows changed meanwhile were not drawn; redraw them all."""
        self._shape = ()
        if self.ready:
            self.redraw()

    # -- keys --------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.query_one("#fleet", FleetTable).focus()

    def action_sort(self) -> None:
        self.set_sort(SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)])

    def set_sort(self, key: str) -> None:
        self.sort = key
        if self.ready:
            self.redraw()

    def set_state(self, state: str | None) -> None:
        self.state = state
        if self.ready:
            self.redraw()

    def cursor_box(self) -> str | None:
        return self.query_one("#fleet", FleetTable).cursor_key if self.ready else None

    def point_at(self, serial: str) -> None:
        """The cursor on ``serial`` (when it is among the rows shown)."""
        if self.ready:
            self.query_one("#fleet", FleetTable).move_cursor_to(serial)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.redraw(rows_only=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and goes back to the rows."""
        self.query_one("#fleet", FleetTable).focus()

    def on_fleet_table_row_selected(self, event: FleetTable.RowSelected) -> None:
        self.monitor.open_box(event.key)
