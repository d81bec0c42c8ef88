"""Conformance corpus: jobs made by independent encoders (receiptline, receipt-printer-encoder; see
tools/make_conformance.mjs), checked against the text that was fed to them (expected.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kelaile_cli.core.escpos.events import Truncated, Unknown
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import decode_events, read_receipts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conformance"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))["jobs"]

#: jobs not decoded right yet (issue 14), per test: strict, so a fix shows up as XPASS
KNOWN_BAD_TEXT: dict[str, str] = {}
KNOWN_BAD_COMMANDS: dict[str, str] = {}


def _params(names: list[str], known_bad: dict[str, str]) -> list:
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=known_bad[n], strict=True)) if n in known_bad else n
        for n in names
    ]


JOBS = sorted(EXPECTED)


def _line_pattern(columns: list[str]) -> re.Pattern[str]:
    """A printed line holding these columns in order, at least one blank between two columns."""
    return re.compile(r"\s+".join(re.escape(c) for c in columns))


def test_every_fixture_has_expectations():
    assert sorted(p.name for p in FIXTURES.glob("*.bin")) == JOBS


@pytest.mark.parametrize("name", _params(JOBS, KNOWN_BAD_TEXT))
def test_text_laid_out_as_printed(name):
    want = EXPECTED[name]
    receipts = read_receipts((FIXTURES / name).read_bytes())
    assert len(receipts) == want["receipts"]
    assert {r.dialect for r in receipts} == {want["dialect"]}
    lines = [line for r in receipts for line in render_text(r, markers=False).splitlines() if line.strip()]
    at = 0
    for columns in want["lines"]:
        pattern = _line_pattern(columns)
        found = next((i for i in range(at, len(lines)) if pattern.search(lines[i])), None)
        assert found is not None, f"{columns} not printed after line {at}: {lines[at:]}"
        at = found + 1
    codes = [[c.symbology, c.data] for r in receipts for c in r.codes]
    assert codes == want["codes"]


@pytest.mark.parametrize("name", _params(JOBS, KNOWN_BAD_COMMANDS))
def test_every_command_known_and_every_byte_kept(name):
    data = (FIXTURES / name).read_bytes()
    events, dialect = decode_events(data)
    assert dialect == EXPECTED[name]["dialect"]
    assert b"".join(e.raw for e in events) == data
    assert not [e for e in events if isinstance(e, Unknown | Truncated)]
