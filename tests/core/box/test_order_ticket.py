"""The online-order ticket decodes back to its order: number, items, note, total, QR, whole job with a cut."""

from __future__ import annotations

import pytest

from kelaile_cli.core.box.order_ticket import compose_order_ticket, text_width
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts

ORDER = {"platform": "meituan", "number": "MT-8812", "items": [
    {"name": "宫保鸡丁", "qty": 1, "price": "38", "amount": "38.00", "options": ["少辣"]},
    {"name": "米饭", "qty": 2, "price": "3", "amount": "6.00"}], "note": "不要葱", "total": "44.00",
    "subtotal": "44.00", "paid": True, "phone": "138****5678", "mode": "delivery"}  # fmt: skip


@pytest.mark.parametrize("width", [32, 48])
def test_customer_copy_decodes_to_the_order_with_its_qr(width):
    job = compose_order_ticket(ORDER, width=width, encoding="gb18030", qr_url="http://127.0.0.1/o/MT-8812")
    assert job.startswith(b"\x1b@") and job.endswith(b"\x1dV\x01")  # a whole job: reset … cut
    [receipt] = read_receipts(job, DecodeOptions(encoding="gb18030", width=width))
    text = render_text(receipt, markers=False)
    for part in ("MT-8812", "宫保鸡丁", "米饭", "少辣", "不要葱", "44.00", "138****5678"):
        assert part in text
    assert [c.data for c in receipt.codes] == ["http://127.0.0.1/o/MT-8812"]
    assert receipt.cut
    assert all(text_width(line) <= width for line in text.splitlines())


def test_kitchen_copy_has_no_prices_and_no_qr():
    job = compose_order_ticket(ORDER, width=48, encoding="gb18030", copy="kitchen", qr_url="http://x/o/1")
    [receipt] = read_receipts(job, DecodeOptions(encoding="gb18030"))
    text = render_text(receipt, markers=False)
    assert "KITCHEN" in text and "宫保鸡丁" in text and "44.00" not in text and not receipt.codes


def test_text_the_code_page_cannot_print_becomes_question_marks():
    job = compose_order_ticket({**ORDER, "note": "€ ok"}, encoding="cp437")
    assert "宫".encode("gb18030") not in job and b"?" in job
    with pytest.raises(ValueError, match="copy"):
        compose_order_ticket(ORDER, copy="bar")
