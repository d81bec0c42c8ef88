"""Drafting profiles, leave-one-out over the labelled corpus: a draft made from all but one of a
POS's recordings (with that POS's real profile taken away) must recognise the held-out recording
and read the same order number and total the label states."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector, receipt_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.core.profiles.profile import parse_profile
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.core.formats.recording import parse_recording
from kelaile_cli.core.profiles.draft import scaffold_profile

ROOT = Path(__file__).resolve().parents[3]
PROFILES = {p.stem: parse_profile(p.read_text(encoding="utf-8"), str(p)) for p in (ROOT / "profiles").glob("*.yaml")}
LABELLED = sorted(d.name for d in (ROOT / "recordings").iterdir() if d.name in PROFILES)


def _receipts(path: Path) -> list[Receipt]:
    return read_receipts(parse_recording(path.read_bytes(), str(path)).stream())


def _same(key: str, got: str | None, want: str) -> bool:
    """Order numbers as printed; totals by value (a draft reports TWD as the receipt prints it, '85', where
    the bundled labels say '85.00')."""
    if key != "total" or got is None:
        return got == want
    return Decimal(got) == Decimal(want)


def _leave_one_out(profile_id: str) -> tuple[int, int, int, int]:
    """(receipts, recognised, order-no/total values stated, read right) for one held-out recording."""
    recordings = sorted((ROOT / "recordings" / profile_id).glob("*.klr"))
    held_out, samples = recordings[-1], recordings[:-1]
    others = {pid: p for pid, p in PROFILES.items() if pid != profile_id}
    negatives = [
        receipt_text(r)
        for pid in others
        for rec in sorted((ROOT / "recordings" / pid).glob("*.klr"))
        for r in _receipts(rec)
    ]
    draft = scaffold_profile([r for rec in samples for r in _receipts(rec)], "draft", negatives=negatives)
    detector = Detector([*others.values(), draft.profile])
    expected = json.loads(held_out.with_name(held_out.stem + ".expected.json").read_text(encoding="utf-8"))["receipts"]
    receipts = recognised = stated = right = 0
    for receipt, want in zip(_receipts(held_out), expected, strict=True):
        analysis = analyse(receipt, detector)
        receipts += 1
        recognised += analysis.profile == "draft"
        for key in ("order_no", "total"):
            if (want.get("transaction") or {}).get(key) is not None:
                stated += 1
                got = getattr(analysis.transaction, key) if analysis.transaction is not None else None
                right += _same(key, got, want["transaction"][key])
    return receipts, recognised, stated, right


def test_leave_one_out_drafts_recognise_every_held_out_receipt_and_read_most_order_numbers_and_totals() -> None:
    totals = [_leave_one_out(pid) for pid in LABELLED]
    assert len(totals) >= 3
    receipts, recognised, stated, right = (sum(t[i] for t in totals) for i in range(4))
    assert recognised == receipts, {pid: t for pid, t in zip(LABELLED, totals, strict=True) if t[0] != t[1]}
    assert stated and right / stated >= 0.85, (right, stated)


def test_samples_that_share_nothing_are_refused() -> None:
    a = read_receipts(b"\x1b@Alpha shop one\nx 1.00\n\x1dV\x00")[0]
    b = read_receipts(b"\x1b@Beta place two\ny 2.00\n\x1dV\x00")[0]
    with pytest.raises(ValueError, match="no distinctive line"):
        scaffold_profile([a, b], "nothing")


def _job(*lines: str) -> bytes:
    return b"\x1b@" + "".join(f"{ln}\n" for ln in lines).encode() + b"\x1dV\x00"


def test_only_shop_lines_in_common_marks_the_draft_shop_bound() -> None:
    a = read_receipts(_job("Sunrise Bakery Harbour", "Quay Street Seven", "bread roll  1.20", "coffee  2.50"))[0]
    b = read_receipts(_job("Sunrise Bakery Harbour", "Quay Street Seven", "croissant  1.80", "tea  2.00"))[0]
    draft = scaffold_profile([a, b], "sunrise")
    assert draft.document["detect"].get("shop_bound") is True
    assert any("shop_bound" in note for note in draft.notes)


def test_a_layout_line_of_the_program_comes_before_the_shops_name() -> None:
    def job(item: str, order: str) -> bytes:
        return _job("Sunrise Bakery Harbour", "Quay Street Seven", "-" * 32, f"Order: {order}", f"{item}  1.20",
                    "-" * 32, "Goods cannot be exchanged after 7 days")  # fmt: skip

    receipts = [read_receipts(job(item, f"A-{n:04d}"))[0] for n, item in enumerate(["bun", "roll", "pie"])]
    draft = scaffold_profile(receipts, "sunrise")
    first = draft.document["detect"]["signatures"][0]
    assert first.get("text") == "Goods cannot be exchanged after 7 days", draft.document["detect"]
    assert "shop_bound" not in draft.document["detect"]
