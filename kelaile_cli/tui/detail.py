"""The box screen: its receipts as on paper with their fate, the stored transactions, links, log, firmware, config."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from kelaile_cli.services.monitor.model import DASH, BoxView

if TYPE_CHECKING:
    from kelaile_cli.tui.app import MonitorApp

__all__ = ["BoxScreen", "describe_box", "describe_receipt"]


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%H:%M:%S")


def _yes(value: Any) -> str:
    return DASH if value is None else ("yes" if value else "no")


def describe_receipt(r: dict[str, Any]) -> str:
    """One receipt's header (recognised, uploaded, answered, answer printed) and its text as on paper."""
    profile = r.get("profile") or "unknown POS"
    marks = [
        f"{_clock(r['t'])}",
        f"recognised: {profile}" if r.get("recognised") else "unknown",
        f"kind {r.get('kind') or DASH}",
        f"uploaded {_yes(r.get('uploaded'))}",
        f"answered {_yes(r.get('answered'))}",
        f"QR before cut {_yes(r.get('answer_printed'))}",
    ]
    return "── " + " · ".join(marks) + "\n" + str(r.get("text") or "").rstrip()


def describe_box(box: BoxView, now: float) -> str:
    """The side panel (plain text): status, identity, links, firmware slots, config, last stored transaction, log."""
    state, why = box.status(now)
    out = [
        f"{box.serial}  {state}: {why}",
        f"store {box.store or DASH} · model {box.model or DASH}",
        f"firmware {box.firmware or DASH} · POS {box.profile or DASH}",
        f"receipts {box.receipt_count} (recognised {box.recognised_reported if box.recognised_reported is not None else DASH})",  # noqa: E501
        f"backlog {box.backlog if box.backlog is not None else DASH} · missed QR {box.missed_total}",
        "",
        "── links",
        f"host {box.link_name or DASH}: {'up' if box.link_up else 'down' if box.link_up is False else DASH}",
    ]
    for name in ("pos", "printer", "cloud"):
        link = box.links.get(name)
        if isinstance(link, dict):
            detail = ", ".join(f"{k} {v}" for k, v in link.items() if v not in (None, ""))
            out.append(f"{name} {(detail or DASH)}")
    out.append(f"printer health {box.printer or DASH} · cloud {box.cloud or DASH}")
    out += _orders_lines(box, now)
    if box.slots:
        out += ["", "── firmware slots"]
        for slot in box.slots:
            if isinstance(slot, dict):
                out.append(f"{slot.get('name', '?')}: {slot.get('state', DASH)} {slot.get('version') or ''}")
    if box.config:
        out += ["", "── config"]
        out += [f"{k} = {v}" for k, v in sorted(box.config.items())]
    if box.transactions:
        tx = box.transactions[-1]
        out += [
            "",
            "── last stored transaction",
            (f"{tx.get('transaction_id', DASH)} {tx.get('kind') or ''}"),
        ]
        if tx.get("transaction"):
            out.append(json.dumps(tx["transaction"], ensure_ascii=False)[:400])
        out.append(f"answer {_yes(tx.get('answer'))}")
    out += ["", "── events and log"]
    out += [(line) for line in list(box.log)[-12:]] or [DASH]
    return "\n".join(out)


def _orders_lines(box: BoxView, now: float) -> list[str]:
    """The online orders: the box's counters (STATE ``orders``) and the cloud's queue for it."""
    o = box.orders
    if not o and box.orders_queued is None:
        return []
    out = ["", "── online orders"]
    if o:
        count = lambda key: o.get(key) if isinstance(o.get(key), int) else DASH  # noqa: E731
        out.append(f"printed {count('printed')} · received {count('received')} · failed prints {count('failed')}")
        out.append(f"waiting for the POS: {_yes(bool(o['waiting']) if isinstance(o.get('waiting'), int) else None)}")
        if o.get("last_error"):
            out.append(f"last error: {o['last_error']}")
    if box.orders_queued is not None:
        out.append(f"in the cloud: {box.orders_queued} not printed, {box.orders_failing or 0} of them failed")
    failing = box.orders_not_printed(now)
    if failing:
        out.append(f"! {failing} order{'s' if failing > 1 else ''} not printed")
    return out


class BoxScreen(Screen[None]):
    """One box, live. Write actions need ``--write`` and a confirmation."""

    DEFAULT_CSS = """
    #detail { height: 1fr; }
    #receipts { width: 1fr; min-width: 52; border: round $accent; }  /* 48 columns of 80 mm paper */
    #side { width: 1fr; border: round $accent; }
    #status { height: 1; padding: 0 1; background: $boost; }
    #progress { height: 1; padding: 0 1; display: none; }
    #progress.shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("t", "act('test-print')", "test"),  # short descriptions: the footer fits 80 columns
        Binding("r", "act('reboot')", "reboot"),
        Binding("c", "act('config-set')", "config"),
        Binding("u", "act('upload-profile')", "profile"),
        Binding("f", "act('flash')", "flash"),
    ]

    def __init__(self, serial: str) -> None:
        super().__init__()
        self.ready = False  # composed and mounted: the timer may redraw it
        self.serial = serial
        self._shown_receipts = -1

    @property
    def monitor(self) -> MonitorApp:
        from kelaile_cli.tui.app import MonitorApp

        assert isinstance(self.app, MonitorApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static(f"box {self.serial} · esc back · {'--write: actions on' if self.monitor.write else 'read-only'}",
                     id="status")  # fmt: skip
        yield ProgressBar(total=None, show_eta=False, id="progress")
        with Horizontal(id="detail"):
            with VerticalScroll(id="receipts"):
                yield Static("no receipt yet", id="paper", markup=False)
            with VerticalScroll(id="side"):
                yield Static("", id="info", markup=False)
        yield Footer(compact=True)  # every key fits 80 columns

    def on_mount(self) -> None:
        self.ready = True
        self.query_one("#receipts").border_title = "receipts, as printed"
        self.redraw()

    def redraw(self) -> None:
        self._show_progress()
        box = self.monitor.model.boxes.get(self.serial)
        if box is None:
            return
        self.query_one("#info", Static).update(describe_box(box, self.monitor.clock()))
        stamp = box.receipts_counted + len(box.transactions) * 100_000
        if stamp != self._shown_receipts:  # the paper only changes with a new receipt
            self._shown_receipts = stamp
            text = "\n\n".join(describe_receipt(r) for r in box.receipts) or "no receipt yet"
            self.query_one("#paper", Static).update(text)
            self.query_one("#receipts", VerticalScroll).scroll_end(animate=False)

    def _show_progress(self) -> None:
        """A flash under way on this box: its bar (image bytes acknowledged) and phase in the status line."""
        action = self.monitor.running.get(self.serial)
        bar = self.query_one("#progress", ProgressBar)
        busy = action is not None and action.name == "flash" and not action.done.is_set()
        bar.set_class(busy, "shown")
        if not busy or action is None:
            return
        if action.progress is not None:
            done, total = action.progress
            bar.update(total=max(total, 1), progress=done)
            self.say(f"flash: {action.phase or 'starting'} · {done * 100 // max(total, 1)} % of {total} bytes")
        else:
            self.say(f"flash: {action.phase or 'starting'}…")

    def say(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_act(self, name: str) -> None:
        self.monitor.request_action(self.serial, name)
