"""Every figure of ``klx insights`` on the known day of conftest.py, worked out by hand there."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from kelaile_cli.services.insights import Scope, insights_from_db

D = Decimal


@pytest.fixture(scope="module")
def ins(day_db):
    return insights_from_db(day_db, Scope())


def test_stores(ins):
    s1, s2 = ins["stores"]
    # S1 sales 31.00 + 53.40 + 28.20 + 6.00; items 4 + 5 + 4 + 2
    assert s1 == {"store": "S1", "transactions": 4, "gross_sales": D("118.60"), "refunds": D("-3.00"),
                  "revenue": D("115.60"), "average_ticket": D("29.65"), "items": D("15"),
                  "items_per_ticket": D("3.75"), "first": datetime(2026, 11, 23, 12),
                  "last": datetime(2026, 11, 24, 9, 15)}  # fmt: skip
    assert (s2["store"], s2["transactions"], s2["revenue"], s2["average_ticket"]) == ("S2", 1, D("12.50"), D("12.50"))
    assert ins["documents"] == 10


def test_payment_mix_is_net_of_change_and_refunds(ins):
    mix = {m["method"]: (m["amount"], m["receipts"], m["share_pct"]) for m in ins["payment_mix"]}
    assert mix == {
        "card": (D("65.90"), 2, D("51.44")),  # 53.40 + 12.50 of 128.10
        "cash": (D("36.20"), 3, D("28.26")),  # 50.00 - 19.00 + 10.00 - 1.80 - 3.00
        "wechat": (D("20.00"), 1, D("15.61")),
        "alipay": (D("6.00"), 1, D("4.68")),
    }
    assert sum(m[0] for m in mix.values()) == sum(s["revenue"] for s in ins["stores"])


def test_sellers_net_of_refunds(ins):
    best = [(s["name"], s["quantity"], s["revenue"], s["receipts"]) for s in ins["sellers"]["best_by_quantity"]]
    assert best == [("Noodles", D(7), D("87.50"), 3), ("Dumplings", D(4), D("33.60"), 2), ("Tea", D(4), D("12.00"), 3)]
    assert [s["name"] for s in ins["sellers"]["best_by_revenue"]] == ["Noodles", "Dumplings", "Tea"]
    assert [s["name"] for s in ins["sellers"]["worst_by_quantity"]] == ["Tea", "Dumplings", "Noodles"]
    assert [s["name"] for s in ins["sellers"]["worst_by_revenue"]] == ["Tea", "Dumplings", "Noodles"]


def test_traffic(ins):
    hours = [(h["hour"], h["transactions"], h["revenue"]) for h in ins["traffic"]["by_hour"]]
    assert hours == [(9, 1, D("6.00")), (10, 1, D("12.50")), (12, 1, D("31.00")), (13, 1, D("53.40")),
                     (19, 1, D("28.20"))]  # fmt: skip
    days = [(d["weekday"], d["transactions"], d["revenue"]) for d in ins["traffic"]["by_weekday"]]
    assert days == [(1, 3, D("112.60")), (2, 2, D("18.50"))]  # Monday, Tuesday


def test_covers_tables_and_dwell(ins):
    assert ins["covers"] == {"covers": 9, "transactions": 3, "revenue": D("112.60"), "revenue_per_cover": D("12.51")}
    tables = ins["tables"]
    assert (tables["seatings"], tables["tables"], tables["days"], tables["turnover"]) == (3, 2, 1, D("1.50"))
    assert [(p["order_no"], p["dwell_s"]) for p in tables["pairs"]] == [("1001", 900), ("1002", 1200)]
    assert tables["dwell"] == {"pairs": 2, "mean_s": D("1050.00"), "max_s": 1200}


def test_refunds_and_discounts(ins):
    rd = ins["refunds_and_discounts"]
    assert (rd["refunds"], rd["refund_total"], rd["discounted"], rd["discount_total"]) == (1, D("-3.00"), 1, D("5.00"))
    assert [r["order_no"] for r in rd["refund_receipts"]] == ["1004"]


def test_shift_reconciliation_finds_the_planted_difference(ins):
    (z,) = ins["shifts"]
    assert (z["number"], z["start"], z["end"]) == ("Z1", datetime(2026, 11, 23, 10), datetime(2026, 11, 23, 22))
    assert [(m["method"], m["reported"], m["captured"], m["difference"]) for m in z["methods"]] == [
        ("card", D("53.40"), D("53.40"), D("0.00")),
        ("cash", D("44.20"), D("36.20"), D("8.00")),
        ("wechat", D("20.00"), D("20.00"), D("0.00")),
    ]
    assert (z["reported_total"], z["captured_total"], z["difference"]) == (D("117.60"), D("109.60"), D("8.00"))
    assert z["receipts"] == {"reported": 5, "captured": 4, "missing": 1}
    assert z["refunds"] == {"reported": 1, "captured": 1, "reported_total": D("-3.00"), "captured_total": D("-3.00")}
    assert [(r["order_no"], r["why"]) for r in z["explaining_receipts"]] == [("1002", "checks failed"),
                                                                            ("1004", "refund")]  # fmt: skip


def test_scope_by_store_and_period(day_db):
    s2 = insights_from_db(day_db, Scope(store="S2"))
    assert [s["store"] for s in s2["stores"]] == ["S2"]
    assert [(m["method"], m["amount"]) for m in s2["payment_mix"]] == [("card", D("12.50"))]
    assert s2["shifts"] == []
    tuesday = insights_from_db(day_db, Scope(start=datetime(2026, 11, 24)))
    assert [(s["store"], s["transactions"], s["revenue"]) for s in tuesday["stores"]] == [
        ("S2", 1, D("12.50")),
        ("S1", 1, D("6.00")),
    ]
    monday = insights_from_db(day_db, Scope(end=datetime(2026, 11, 24)))
    assert [(s["store"], s["revenue"]) for s in monday["stores"]] == [("S1", D("109.60"))]
    assert [z["difference"] for z in monday["shifts"]] == [D("8.00")]


def test_sellers_trend_against_the_previous_period(day_db):
    tuesday = insights_from_db(day_db, Scope(start=datetime(2026, 11, 24), end=datetime(2026, 11, 25)))
    trend = {s["name"]: (s["quantity"], s["previous_quantity"], s["quantity_change"], s["revenue_change"])
             for s in tuesday["sellers"]["best_by_quantity"]}  # fmt: skip
    # Tuesday: Tea 2 (1005), Noodles 1 (2001); Monday: Noodles 2 + 4, Tea 2 + 1 - 1 refunded (6.00), Dumplings 4
    assert trend == {
        "Tea": (D(2), D(2), D(0), D("0.00")),
        "Noodles": (D(1), D(6), D(-5), D("-62.50")),
    }
    assert "previous_quantity" not in insights_from_db(day_db, Scope())["sellers"]["best_by_quantity"][0]
