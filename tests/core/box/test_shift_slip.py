"""The shift reconciliation slip: composed as ESC/POS, decoded back by the library's own reader."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kelaile_cli.core.box.shift_slip import compose_shift_slip, compose_shift_slips
from kelaile_cli.core.stream.printstream import read_receipts

SHIFT = {
    "store": "S1", "profile": "bistro", "number": "Z7", "start": "2026-11-23T10:00:00", "end": "2026-11-23T22:00:00",
    "methods": [
        {"method": "card", "reported": Decimal("53.40"), "captured": Decimal("53.40"), "difference": Decimal("0")},
        {"method": "现金", "reported": Decimal("44.2"), "captured": Decimal("36.20"), "difference": Decimal("8.00")},
        {"method": "alipay", "reported": None, "captured": Decimal("6.00"), "difference": Decimal("-6.00")},
    ],
    "reported_total": Decimal("97.60"), "captured_total": Decimal("95.60"), "difference": Decimal("2.00"),
    "receipts": {"reported": 5, "captured": 4, "missing": 1},
    "explaining_receipts": [{"order_no": "1004", "kind": "refund", "ts": "2026-11-23T19:30:00", "total": "-3.00",
                             "why": "refund"}],
}  # fmt: skip


def _lines(job: bytes) -> list[str]:
    (receipt,) = read_receipts(job)
    return ["".join(span.text for span in line.spans) for line in receipt.lines]


@pytest.mark.parametrize("width", [32, 42, 48])
def test_every_figure_reads_back_from_the_bytes(width: int) -> None:
    job = compose_shift_slip(SHIFT, width=width, encoding="gb18030")
    assert job.startswith(b"\x1b@") and job.endswith(b"\x1dV\x01")  # a whole job with its cut
    lines = _lines(job)
    assert all(sum(2 if "\u4e00" <= c <= "\u9fff" else 1 for c in line) <= width for line in lines)
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.split()}
    assert rows["card"] == ["53.40", "53.40", "0.00"]
    assert rows["现金"] == ["44.20", "36.20", "8.00"]  # the code page's own characters survive
    assert rows["alipay"] == ["-", "6.00", "-6.00"]  # nothing reported for it
    assert rows["TOTAL"] == ["97.60", "95.60", "2.00"]
    assert any(line.startswith("1004 19:30 refund") and line.endswith("-3.00") for line in lines)
    assert "bistro #Z7" in lines and "SHIFT RECONCILIATION" in lines


def test_an_unexplained_difference_is_said_and_shifts_are_separate_jobs() -> None:
    bare = {**SHIFT, "explaining_receipts": [], "number": "Z8"}
    receipts = read_receipts(compose_shift_slips([SHIFT, bare], width=48))
    assert len(receipts) == 2
    text = ["\n".join("".join(s.text for s in line.spans) for line in r.lines) for r in receipts]
    assert "#Z7" in text[0] and "explained by:" in text[0]
    assert "#Z8" in text[1] and "no captured receipt explains the difference" in text[1]
    balanced = {**bare, "difference": Decimal("0")}
    assert "explains" not in "".join(_lines(compose_shift_slip(balanced)))
