"""The screens as SVG snapshots (pytest-textual-snapshot) at 80×24 and 160×48, from the committed recording.

Update after an intended change: ``python -m pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import time

import pytest

from tests.tui.conftest import recorded_app

SIZES = [(80, 24), (160, 48)]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Receipt times are shown in local time: pin it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet(snap_compare, size):
    assert snap_compare(recorded_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_filtered_and_sorted(snap_compare, size):
    assert snap_compare(recorded_app(), terminal_size=size, press=["s", "s", "slash", "S", "-", "0", "0", "0", "1"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_box_detail(snap_compare, size):
    async def open_box(pilot):
        pilot.app.open_box("KLB000004")
        await pilot.pause()

    assert snap_compare(recorded_app(), terminal_size=size, run_before=open_box)


def test_help(snap_compare):
    assert snap_compare(recorded_app(), terminal_size=(80, 24), press=["question_mark"])
