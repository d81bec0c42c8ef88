"""Online orders go to the backup printer (config ``backup_printer``) while the main printer is offline, out of
paper or open, or when printing on it fails; back to the main printer once it is well again."""

from __future__ import annotations

import time

import pytest

from kelaile_cli.core.box.errors import Refused
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.printer import NetworkPrinter, SerialPrinter

ORDER = b"\x1b@ONLINE ORDER #17\nKung pao chicken x1\n\x1dVA\x00"


def _box(tmp_path, boxes, **config) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "state", listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0",
                            printer=config.pop("printer")))  # fmt: skip
    box.state.update_config(config)
    box.start()
    boxes.append(box)
    return box


def _arrived(printer: NetworkPrinter, data: bytes) -> bool:
    deadline = time.monotonic() + 5
    while printer.jobs() != data and time.monotonic() < deadline:
        time.sleep(0.01)
    return printer.jobs() == data


def _print_order(box: BoxSim) -> int:
    with box.pipeline.turns.box_turn(5):  # as the order printer does
        return box.order_printers.print_job(ORDER)


def test_orders_go_to_the_backup_while_the_main_printer_is_offline_and_back_after(tmp_path, boxes):
    backup = tmp_path / "backup.bin"
    with NetworkPrinter() as main:
        box = _box(tmp_path, boxes, printer=main.url, backup_printer=str(backup))
        watch = box.provisioning.printer
        main.offline = True  # it answers its status with the offline bit
        health = watch.check()
        assert health is not None and not health.online
        assert _print_order(box) == len(ORDER)
        assert backup.read_bytes() == ORDER and main.jobs() == b""
        main.offline = False
        watch.check()
        _print_order(box)
        assert _arrived(main, ORDER) and backup.read_bytes() == ORDER  # the main printer again
        assert box.order_printers.on_backup == 1


def test_paper_out_on_the_main_printer_sends_orders_to_a_serial_backup(tmp_path, boxes):
    with NetworkPrinter() as main, SerialPrinter() as backup:
        box = _box(tmp_path, boxes, printer=main.url, backup_printer=backup.url)
        main.paper = "end"
        box.provisioning.printer.check()
        _print_order(box)
        assert backup.wait_for(len(ORDER)) == ORDER and main.jobs() == b""


def test_a_main_printer_that_refuses_the_job_sends_it_to_the_backup(tmp_path, boxes):
    backup = tmp_path / "backup.bin"
    with NetworkPrinter() as main:
        box = _box(tmp_path, boxes, printer=main.url, backup_printer=str(backup))
        main.stop()  # gone before the watch noticed: the print itself fails
        _print_order(box)
        assert backup.read_bytes() == ORDER


def test_without_a_backup_an_offline_main_printer_fails_the_order_as_before(tmp_path, boxes):
    with NetworkPrinter() as main:
        box = _box(tmp_path, boxes, printer=main.url)
        main.stop()
        with pytest.raises(Refused, match="unreachable"):
            _print_order(box)


def test_when_the_backup_fails_too_the_error_names_both(tmp_path, boxes):
    with NetworkPrinter() as main:
        box = _box(tmp_path, boxes, printer=main.url, backup_printer="tcp://127.0.0.1:1")
        main.offline = True
        box.provisioning.printer.check()
        with pytest.raises(Refused, match=r"the main printer is offline; the backup printer tcp://127.0.0.1:1 failed"):
            _print_order(box)


def test_a_bad_backup_printer_is_refused_like_a_bad_printer(tmp_path):
    from kelaile_cli.core.errors import InputError
    from kelaile_cli.services.emulator.state import BoxState

    BoxState(tmp_path / "state").update_config({"backup_printer": "usb://1"})
    with pytest.raises(InputError, match=r"--backup-printer usb://1: expected usb://VID:PID"):
        BoxSim(SimOptions(state=tmp_path / "state", listen="socket://127.0.0.1:0"))
