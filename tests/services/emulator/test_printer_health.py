"""The box's printer watch against a network printer on real TCP: status, model, faults, change events."""

from __future__ import annotations

from kelaile_cli.services.emulator.faults import Faults
from kelaile_cli.services.emulator.printer import NetworkPrinter
from kelaile_cli.services.emulator.printer_health import PrinterWatch


def _watch(url: str, faults: Faults, changes: list[str]) -> PrinterWatch:
    return PrinterWatch(lambda: url, lambda: 0.0, faults, changes.append)


def test_status_model_and_a_change_is_an_event() -> None:
    changes: list[str] = []
    with NetworkPrinter() as printer:
        watch = _watch(printer.url, Faults(), changes)
        health = watch.check()
        assert health is not None and health.online and health.model == "TM-T88VI (emulated)"
        watch.check()
        assert len(changes) == 1  # nothing changed: no second event
        printer.paper = "end"
        assert watch.check().paper == "end"  # type: ignore[union-attr]
        printer.cover_open = True
        assert watch.check().cover == "open"  # type: ignore[union-attr]
        assert printer.jobs() == b""  # status and model queries are not print data
    assert len(changes) == 3 and "paper end" in changes[1]
    report = watch.report()
    assert report["link"] == printer.url and report["checked_at"] > 0


def test_a_printer_that_is_gone_is_offline_with_the_reason() -> None:
    printer = NetworkPrinter()
    url = printer.url
    printer.stop()  # nothing listens there any more
    watch = _watch(url, Faults(), [])
    health = watch.check()
    assert health is not None and not health.online
    assert "no connection" in watch.detail


def test_fault_switches_stand_for_the_printer_state() -> None:
    with NetworkPrinter() as printer:
        for field, check in (("printer_offline", lambda h: not h.online), ("paper_out", lambda h: h.paper == "end"),
                             ("cover_open", lambda h: h.cover == "open")):  # fmt: skip
            faults = Faults()
            setattr(faults, field, True)
            assert check(_watch(printer.url, faults, []).check()), field


def test_no_printer_configured() -> None:
    watch = _watch("", Faults(), [])
    assert watch.check() is None
    assert watch.report()["online"] is False


def test_a_printer_never_asked_is_unknown_not_offline() -> None:
    watch = _watch("tcp://127.0.0.1:9", Faults(), [])  # configured, not asked yet
    report = watch.report()
    assert report["online"] is None and report["detail"] == "not checked yet" and report["checked_at"] == 0
