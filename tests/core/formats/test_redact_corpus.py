"""Redaction measured on a corpus (catch rate, false positives) and on the labelled recordings.

Each corpus line is printed as a real job in its locale's encoding, redacted, and decoded again:
the datum counts as caught when none of its letters or digits survive (a card keeps its last four,
an IBAN its country code). Lines without personal data must come back unchanged. On the labelled
recordings every field their ``*.expected.json`` states must come out of the redacted copy exactly
as out of the original, with the same command structure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.formats.redact import redact_stream
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from kelaile_cli.services import jobs
from kelaile_cli.services.capture.redact_files import redact_file
from kelaile_cli.services.profiles.library import load_profiles

from .pii_corpus import CODEC, NEGATIVE, POSITIVE

RECORDINGS = Path(__file__).resolve().parents[3] / "recordings"
CATCH_TARGET = 0.97
PERSONAL = "member_id"  # the one labelled field that is personal data


def print_job(line: str, locale: str) -> bytes:
    """One line as the POS would print it: CJK mode for Chinese, code page 1252 (ESC t 16) otherwise."""
    setup = b"\x1c&" if locale.startswith("zh") else b"\x1bt\x10"
    return b"\x1b@" + setup + line.encode(CODEC[locale]) + b"\n" + b"\x1dV\x00"


def redacted_line(line: str, locale: str) -> str:
    data = print_job(line, locale)
    out, _ = redact_stream(data)
    assert len(out) == len(data)
    lines = [ln.text for r in read_receipts(out) for ln in r.lines]
    assert len(lines) == 1, lines
    return lines[0]


def survivors(line: str, out: str, value: str) -> str:
    """The letters and digits of ``value`` (where it stands in ``line``) still readable in ``out``."""
    at = line.index(value)
    assert len(out) == len(line), (line, out)
    return "".join(a for a, b in zip(line[at : at + len(value)], out[at : at + len(value)], strict=True)
                   if a == b and a.isalnum())  # fmt: skip


def allowed(value: str, out_survivors: str) -> bool:
    if any(ch.isdigit() for ch in value) and out_survivors.isdigit() and len(out_survivors) <= 4:
        digits = "".join(ch for ch in value if ch.isdigit())
        return digits.endswith(out_survivors) and len(digits) >= 13  # a card's last four
    return out_survivors in ("", value[:2]) and (out_survivors == "" or value[:2].isalpha())  # IBAN country


def test_corpus_is_big_and_covers_every_locale():
    assert len(POSITIVE) >= 200
    assert {loc for loc, _, _ in POSITIVE} == set(CODEC)
    assert {loc for loc, _ in NEGATIVE} == set(CODEC)


def test_catch_rate_on_the_corpus():
    missed = []
    for locale, line, value in POSITIVE:
        out = redacted_line(line, locale)
        if not allowed(value, survivors(line, out, value)):
            missed.append((locale, line, out))
    rate = 1 - len(missed) / len(POSITIVE)
    assert rate >= CATCH_TARGET, f"caught {rate:.1%}; missed: {missed}"


@pytest.mark.parametrize(("locale", "line"), NEGATIVE)
def test_no_false_positive(locale, line):
    assert redacted_line(line, locale) == line


@pytest.mark.parametrize(("locale", "line", "value"), [c for c in POSITIVE if c[2] != c[1]][::17])
def test_label_and_surrounding_text_survive(locale, line, value):
    out = redacted_line(line, locale)
    at = line.index(value)
    assert out[:at] == line[:at]
    assert out[at + len(value) :] == line[at + len(value) :]


def test_full_width_digits_masked_with_full_width_star_keeping_bytes():
    line = "手机：１３８１２３４５６７８"
    data = print_job(line, "zh-CN")
    out, found = redact_stream(data)
    assert len(out) == len(data)
    assert [f.kind for f in found] == ["phone"]
    assert [ln.text for r in read_receipts(out) for ln in r.lines] == ["手机：＊＊＊＊＊＊＊＊＊＊＊"]


def _structure(data: bytes) -> list[tuple[str, int, int]]:
    decoder = StreamDecoder()
    return [(type(ev).__name__, ev.offset, len(ev.raw)) for ev in decoder.feed(data) + decoder.close()]


LABELLED = sorted(RECORDINGS.glob("*/*.expected.json"))


def test_there_are_labelled_recordings():
    assert len(LABELLED) >= 40


def test_labelled_recordings_keep_every_expected_field(tmp_path):
    """False positives on real receipts: every labelled field (amounts, order numbers, dates, items)
    decodes the same from the redacted copy, and the command structure is unchanged."""
    detector = Detector(load_profiles().profiles)
    changed: list[str] = []
    masked = members = 0
    for label in LABELLED:
        rec = label.with_name(label.name.removesuffix(".expected.json") + ".klr")
        dest = tmp_path / rec.name
        report = redact_file(rec, dest)
        masked += len(report.masked)
        before, after = jobs.load_source(rec), jobs.load_source(dest)
        assert len(before.data) == len(after.data)
        assert _structure(before.data) == _structure(after.data)
        want = json.loads(label.read_text(encoding="utf-8"))["receipts"]
        got = [jobs.receipt_record(after, r, detector) for r in jobs.source_receipts(after, DecodeOptions())]
        for i, receipt in enumerate(want):
            tx = dict(receipt.get("transaction") or {})
            member = tx.pop(PERSONAL, None)
            if member is not None:  # personal: must not survive the redaction
                members += 1
                assert got[i]["transaction"][PERSONAL] != member
            for key, value in (("kind", receipt.get("kind")), ("transaction", tx)):
                if value != _pick(got[i].get(key), value):
                    changed.append(f"{rec.name}[{i}].{key}")
    assert changed == []
    assert masked == members  # every mask on these receipts was a member number


def _pick(actual: object, expected: object) -> object:
    """``actual`` cut down to the keys ``expected`` states (a label judges only what it states)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _pick(actual.get(k), v) for k, v in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [_pick(a, e) for a, e in zip(actual, expected, strict=True)]
    return actual
