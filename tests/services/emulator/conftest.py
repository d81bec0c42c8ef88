"""Fixtures shared by the emulated box's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kelaile_cli.services.emulator.box import BoxSim


@pytest.fixture
def boxes() -> Iterator[list[BoxSim]]:
    """Boxes a test starts; each is stopped at the end, whatever the test's outcome."""
    started: list[BoxSim] = []
    yield started
    for b in started:
        b.stop()
