"""The fleet screen: one row per box keyed by serial, a text filter, a sort key and a summary strip."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from kelaile_cli.services.monitor.model import SORT_KEYS, FleetModel

if TYPE_CHECKING:
    from kelaile_cli.tui.app import MonitorApp

__all__ = ["FleetScreen"]


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
        self._shown: dict[str, tuple[str, ...]] = {}
        self._order: list[str] = []

    @property
    def monitor(self) -> MonitorApp:
        from kelaile_cli.tui.app import MonitorApp

        assert isinstance(self.app, MonitorApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("", id="banner")
        yield Static("", id="summary")
        yield Input(placeholder="filter: any text (serial, store, state, POS…); esc clears", id="filter")
        table: DataTable[str] = DataTable(id="fleet", cursor_type="row", zebra_stripes=True)
        for name in FleetModel.COLUMNS:
            table.add_column(name, key=name)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.ready = True
        self.query_one("#fleet", DataTable).focus()
        self.redraw()

    # -- drawing -----------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Bring the table, the summary and the banner up to date with the model."""
        model, now = self.monitor.model, self.monitor.clock()
        rows = model.rows(now, self.filter_text, self.sort)
        table = self.query_one("#fleet", DataTable)
        order = [r[0] for r in rows]
        if order != self._order:
            cursor = self._cursor_key()
            table.clear()
            for r in rows:
                table.add_row(*r, key=r[0])
            self._order = order
            self._shown = {r[0]: r for r in rows}
            if cursor in self._shown:
                table.move_cursor(row=order.index(cursor), animate=False)
        else:
            columns = FleetModel.COLUMNS
            for r in rows:
                old = self._shown.get(r[0])
                if old == r:
                    continue
                for i, (cell, before) in enumerate(zip(r, old or (), strict=False)):
                    if cell != before:
                        table.update_cell(r[0], columns[i], cell)
                self._shown[r[0]] = r
        summary = model.summary(now)
        shown = f" · showing {len(rows)} of {len(model.boxes)}" if self.filter_text else ""
        self.query_one("#summary", Static).update(f"{summary.text()} · sort: {self.sort}{shown}")
        banner = self.query_one("#banner", Static)
        banner.set_class(model.cloud_ok is False, "shown")
        banner.update(f"⚠ {model.cloud_reason}; retrying" if model.cloud_ok is False else "")

    def _cursor_key(self) -> str | None:
        table = self.query_one("#fleet", DataTable)
        if not self._order or table.cursor_row >= len(self._order) or table.cursor_row < 0:
            return None
        return self._order[table.cursor_row]

    # -- keys --------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.query_one("#fleet", DataTable).focus()

    def action_sort(self) -> None:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self.redraw()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and goes back to the rows."""
        self.query_one("#fleet", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.monitor.open_box(str(event.row_key.value))
