"""Re-print counting survives a power cycle, so a re-printed receipt gets a fresh idempotency key."""

from __future__ import annotations

from pathlib import Path

from kelaile_cli.services.emulator.state import BoxState


def test_occurrences_count_per_receipt_and_persist(tmp_path: Path) -> None:
    state = BoxState(tmp_path)
    assert [state.next_occurrence("a"), state.next_occurrence("a"), state.next_occurrence("b")] == [0, 1, 0]
    again = BoxState(tmp_path)  # power cycle
    assert again.next_occurrence("a") == 2 and again.next_occurrence("b") == 1
