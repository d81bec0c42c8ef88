"""Printer real-time status bytes and the model answer, read as the box reads them."""

from __future__ import annotations

import pytest

from kelaile_cli.core.escpos.status import (
    PORT_NOT_ERROR,
    PORT_PAPER_EMPTY,
    PORT_SELECTED,
    PrinterHealth,
    parse_model,
    status_answer,
    usb_port_status,
)


def _answers(**state) -> bytes:
    return bytes(status_answer(n, **state) for n in (1, 2, 3, 4))


@pytest.mark.parametrize(
    ("state", "online", "paper", "cover"),
    [
        ({}, True, "ok", "closed"),
        ({"offline": True}, False, "ok", "closed"),
        ({"cover_open": True}, True, "ok", "open"),
        ({"paper": "end"}, True, "end", "closed"),
        ({"paper": "near_end"}, True, "near_end", "closed"),
    ],
)
def test_each_state_reads_back(state: dict, online: bool, paper: str, cover: str) -> None:
    health = PrinterHealth.from_answers(_answers(**state))
    assert (health.online, health.paper, health.cover) == (online, paper, cover)


def test_documented_bits() -> None:
    assert PrinterHealth.from_answers(bytes([0x1A, 0x12, 0x12, 0x12])).online is False  # n=1 bit 3
    assert PrinterHealth.from_answers(bytes([0x12, 0x12, 0x1A, 0x12])).error == "cutter"  # n=3 bit 3
    assert PrinterHealth.from_answers(bytes([0x12, 0x12, 0x12, 0x72])).paper == "end"  # n=4 bits 5,6


def test_silence_or_a_short_answer_is_offline() -> None:
    assert PrinterHealth.from_answers(b"").online is False
    assert PrinterHealth.from_answers(b"\x12\x12").online is False


def test_model_answer() -> None:
    assert parse_model(b"_TM-T88VI\x00") == "TM-T88VI"
    assert parse_model(b"garbage") is None


@pytest.mark.parametrize(
    ("health", "port"),
    [
        (PrinterHealth(online=True), PORT_SELECTED | PORT_NOT_ERROR),
        (PrinterHealth(online=True, paper="near_end"), PORT_SELECTED | PORT_NOT_ERROR),
        (PrinterHealth(online=True, paper="end"), PORT_SELECTED | PORT_PAPER_EMPTY),
        (PrinterHealth(online=True, cover="open"), PORT_SELECTED),
        (PrinterHealth(online=True, error="cutter"), PORT_SELECTED),
        (PrinterHealth(online=False), 0),
    ],
)
def test_the_usb_port_status_says_what_a_usb_printer_s_driver_shows(health, port):
    assert usb_port_status(health) == port
