"""The box's journal lines: ``<N>`` syslog levels on stderr only when it is the journal (or forced)."""

from __future__ import annotations

import io

import pytest

from kelaile_cli.services.emulator.journal import Journal


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, False), ({"JOURNAL_STREAM": "8:99"}, True), ({"JOURNAL_STREAM": "8:99", "KLX_JOURNAL": "0"}, False),
     ({"KLX_JOURNAL": "1"}, True)],
)  # fmt: skip
def test_lines_are_written_only_to_a_journal(monkeypatch, env, expected):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("KLX_JOURNAL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    journal = Journal(out)
    journal.write("error", "printer /dev/ttyUSB0: gone\nsecond line")
    journal.write("info", "printer: online")
    journal.write("whatever", "unknown level")
    lines = ["<3>printer /dev/ttyUSB0: gone second line", "<6>printer: online", "<6>unknown level"]
    assert out.getvalue().splitlines() == (lines if expected else [])
