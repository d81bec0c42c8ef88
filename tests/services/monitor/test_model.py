"""The fleet model without a screen: the health rules, rates, backlog, filter and sort."""

from __future__ import annotations

import pytest

from kelaile_cli.services.monitor.events import MonitorEvent
from kelaile_cli.services.monitor.model import (
    BACKLOG_LIMIT,
    DASH,
    DEGRADED_AFTER,
    MISSED_WINDOW,
    OFFLINE_AFTER,
    FleetModel,
    age_text,
)

T0 = 1_800_000_000.0


def fed(*events: MonitorEvent) -> FleetModel:
    model = FleetModel()
    for ev in events:
        model.apply(ev)
    return model


def ev(kind: str, serial: str = "KLB1", t: float = T0, **data) -> MonitorEvent:
    return MonitorEvent(kind, serial, t, data)


def test_a_box_heard_from_is_online_and_ages_into_degraded_then_offline():
    model = fed(ev("heartbeat"))
    box = model.boxes["KLB1"]
    assert box.status(T0 + 3) == ("online", "seen 3s ago")
    assert box.status(T0 + DEGRADED_AFTER + 1)[0] == "degraded"
    assert box.status(T0 + OFFLINE_AFTER + 1) == ("offline", "silent, seen 1m ago")


def test_a_link_down_is_offline_with_its_reason_and_up_again_online():
    model = fed(ev("heartbeat"), ev("link", t=T0 + 1, up=False, reason="port vanished"))
    assert model.boxes["KLB1"].status(T0 + 2) == ("offline", "port vanished")
    model.apply(ev("link", t=T0 + 5, up=True, reason="connected"))
    assert model.boxes["KLB1"].status(T0 + 6)[0] == "online"


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ({"links": {"printer": {"health": "paper out"}}}, "printer: paper out"),
        ({"printer": "cover open"}, "printer: cover open"),
        ({"cloud": {"status": "unreachable"}}, "cloud: unreachable"),
        ({"queue": BACKLOG_LIMIT}, f"backlog {BACKLOG_LIMIT}"),
        ({"counters": {"missed_answers": 2}}, "2 QR missed"),
        # what the box itself reports in STATE (printer health, cloud link, answers above the cut)
        ({"printer": {"online": True, "paper": "end", "cover": "closed"}}, "printer: paper out"),
        ({"printer": {"online": False, "paper": None, "cover": None}}, "printer: offline"),
        ({"printer": {"online": True, "paper": "ok", "cover": "open"}}, "printer: cover open"),
        ({"cloud": {"url": "http://c", "claimed": True, "last_error": {"code": "CLOUD_DNS"}}}, "cloud: CLOUD_DNS"),
        ({"cloud": {"url": "http://c", "claimed": False, "last_error": None}}, "cloud: not claimed"),
        ({"answers": {"missed": 3, "late": 3, "printed": 0}}, "3 QR missed"),
    ],
)
def test_problems_the_box_reports_make_it_degraded(state, why):
    model = fed(ev("state", **state))
    assert model.boxes["KLB1"].status(T0 + 1) == ("degraded", why)


def test_missed_answers_stop_degrading_after_the_window():
    model = fed(ev("missed"), ev("heartbeat", t=T0 + MISSED_WINDOW + 1))
    box = model.boxes["KLB1"]
    assert box.status(T0 + 1)[0] == "degraded"
    assert box.status(T0 + MISSED_WINDOW + 2)[0] == "online" and box.missed_total == 1


def test_unknown_fields_show_a_dash_and_odd_types_are_ignored():
    model = fed(ev("state", queue="many", counters=[1, 2], links="?", printer=None))
    row = model.boxes["KLB1"].row(T0 + 1)
    cols = dict(zip(FleetModel.COLUMNS, row, strict=True))
    assert cols["store"] == cols["POS"] == cols["printer"] == cols["backlog"] == cols["fw"] == DASH
    assert cols["state"] == "online: seen 1s ago"


def test_receipts_per_minute_counts_the_last_minute_only_and_the_summary_adds_up():
    events = [ev("receipt", "A", T0 + i, text="x", profile="meiwei-pos") for i in range(10)]
    events += [ev("receipt", "B", T0 + 50, text="y"), ev("state", "B", T0 + 50, queue=7)]
    model = fed(*events)
    assert model.boxes["A"].rate(T0 + 59) == 10 and model.boxes["A"].rate(T0 + 65.5) == 4  # 6..9 s
    summary = model.summary(T0 + 65.5)
    assert (summary.online, summary.degraded, summary.rate, summary.backlog) == (1, 1, 5, 7)  # A silent 56 s
    assert model.boxes["A"].profile == "meiwei-pos" and model.boxes["A"].receipt_count == 10


def test_the_box_counter_wins_over_receipts_seen_since_the_monitor_started():
    model = fed(ev("state", counters={"receipts": 40}), ev("receipt", text="x"))
    assert model.boxes["KLB1"].receipt_count == 40


def test_filter_and_sort():
    model = fed(
        ev("state", "KLB3", store="S-2", queue=1),
        ev("state", "KLB1", store="S-9", queue=30),
        ev("state", "KLB2", store="S-1", queue=5),
        ev("link", "KLB2", T0, up=False, reason="unplugged"),
    )
    now = T0 + 1
    assert [r[0] for r in model.rows(now)] == ["KLB1", "KLB2", "KLB3"]
    assert [r[0] for r in model.rows(now, sort="store")] == ["KLB2", "KLB3", "KLB1"]
    assert [r[0] for r in model.rows(now, sort="backlog")] == ["KLB1", "KLB2", "KLB3"]
    assert model.rows(now, sort="state")[0][0] == "KLB2"
    assert [r[0] for r in model.rows(now, "UNPLUG")] == ["KLB2"]
    assert [r[0] for r in model.rows(now, "s-9")] == ["KLB1"]
    assert [r[0] for r in model.rows(now, state="offline")] == ["KLB2"]
    assert [r[0] for r in model.rows(now, state="online", sort="store")] == ["KLB3", "KLB1"]
    assert model.rows(now, "S-9", state="offline") == []  # both filters apply


def test_dirty_names_changed_boxes_once_and_the_cloud_is_a_banner_not_a_box():
    model = fed(ev("heartbeat", "A"), ev("heartbeat", "B"), ev("cloud", "", ok=False, reason="cloud down"))
    assert model.take_dirty() == {"A", "B"} and model.take_dirty() == set()
    assert model.cloud_ok is False and model.cloud_reason == "cloud down" and set(model.boxes) == {"A", "B"}


@pytest.mark.parametrize(("age", "text"), [(None, DASH), (3.7, "3s"), (37, "30s"), (130, "2m"), (7300, "2h")])
def test_ages_are_coarse(age, text):
    assert age_text(age) == text


def test_a_box_seen_only_through_the_cloud_counts_stored_transactions_as_receipts():
    model = fed(ev("upload", "C", T0, transaction_id="tx1"), ev("upload", "C", T0 + 5, transaction_id="tx2"))
    model.apply(ev("link", "B", T0, up=True))
    model.apply(ev("receipt", "B", T0 + 1, text="x"))
    model.apply(ev("upload", "B", T0 + 2, transaction_id="tx3"))  # B's receipt, already counted from its tap
    assert (model.boxes["C"].receipt_count, model.boxes["C"].rate(T0 + 6)) == (2, 2)
    assert model.boxes["B"].receipt_count == 1 and len(model.boxes["B"].transactions) == 1


def test_a_stored_transaction_marks_its_receipt_uploaded_by_digest_whichever_comes_first():
    model = fed(
        ev("receipt", t=T0, text="a", sha256="d1"),
        ev("upload", t=T0 + 1, transaction_id="tx1", receipt_sha256="d1", answer=True),
        ev("upload", t=T0 + 2, transaction_id="tx2", receipt_sha256="d2", answer=False),
        ev("receipt", t=T0 + 3, text="b", sha256="d2"),
        ev("receipt", t=T0 + 4, text="c", sha256="d3"),
    )
    marks = [(r["text"], r.get("uploaded"), r.get("answered")) for r in model.boxes["KLB1"].receipts]
    assert marks == [("a", True, True), ("b", True, False), ("c", None, None)]


def test_a_healthy_box_report_is_online_and_a_box_without_a_cloud_is_not_judged_on_it():
    state = {"printer": {"online": True, "paper": "ok", "cover": "closed"}, "answers": {"missed": 0},
             "cloud": {"url": "", "claimed": False, "last_error": None}}  # fmt: skip
    assert fed(ev("state", **state)).boxes["KLB1"].status(T0 + 1)[0] == "online"


def test_online_orders_the_box_counts_show_in_the_row_and_a_failed_print_degrades_for_a_while():
    model = fed(ev("state", orders={"received": 3, "printed": 3, "failed": 0, "waiting": 0, "last_error": None}))
    box = model.boxes["KLB1"]
    cols = dict(zip(FleetModel.COLUMNS, box.row(T0 + 1), strict=True))
    assert (cols["orders"], cols["state"]) == ("3", "online: seen 1s ago")
    failed = {"received": 4, "printed": 3, "failed": 1, "waiting": 1, "last_error": "printer offline"}
    model.apply(ev("state", t=T0 + 5, orders=failed))
    cols = dict(zip(FleetModel.COLUMNS, box.row(T0 + 6), strict=True))
    assert (cols["orders"], cols["state"]) == ("3 +1 !1", "degraded: 1 order not printed")
    assert "online order not printed: printer offline" in box.log
    model.apply(ev("state", t=T0 + 6, orders=failed))  # the same counters again: no new failure
    assert box.orders_not_printed(T0 + 7) == 1
    model.apply(ev("heartbeat", t=T0 + 5 + MISSED_WINDOW + 1))
    assert box.status(T0 + 5 + MISSED_WINDOW + 2)[0] == "online"


def test_online_orders_the_cloud_holds_for_a_box_and_they_are_not_a_sign_of_life():
    model = fed(ev("state", t=T0), ev("orders", t=T0 + 20, queued=3, failed=2))
    box = model.boxes["KLB1"]
    assert box.last_seen == T0  # the cloud's count says nothing about the box being alive
    cols = dict(zip(FleetModel.COLUMNS, box.row(T0 + 21), strict=True))
    assert (cols["orders"], cols["state"]) == ("+3 !2", "degraded: 2 orders not printed")
    model.apply(ev("orders", t=T0 + 25, queued=0, failed=0))  # printed at last
    cols = dict(zip(FleetModel.COLUMNS, box.row(T0 + 26), strict=True))
    assert (cols["orders"], cols["state"]) == (DASH, "online: seen 20s ago")


def test_a_cached_row_always_reads_as_a_fresh_one():
    """The row cache (what keeps a filter keystroke cheap) never shows a stale cell: at every step of a
    long walk through time, with events now and then, the cached row equals the row computed afresh."""
    import random

    rnd = random.Random(7)
    model = fed(ev("state", store="S-1", orders={"printed": 1, "failed": 0}))
    box = model.boxes["KLB1"]
    now = T0
    recomputed = 0
    for step in range(3000):
        now += rnd.choice((0.05, 0.3, 1.0, 4.0, 17.0))
        if step % 97 == 0:
            model.apply(ev(rnd.choice(("receipt", "missed", "heartbeat")), t=now - rnd.random() * 5))
        if step % 331 == 0:
            model.apply(ev("state", t=now, orders={"printed": 1, "failed": step // 331}))
        before = box.cached
        assert box.cached_row(now)[0] == box.row(now), f"stale at step {step}"
        recomputed += box.cached is not before
    assert recomputed < 3000 * 0.8  # and it is a cache: most steps reuse the row


def test_a_printer_the_box_never_checked_is_unknown_not_offline():
    never = {"link": "out.prn", "checked_at": 0.0, "detail": "", "online": False, "paper": None, "cover": None}
    model = fed(ev("state", printer=never))
    assert model.boxes["KLB1"].printer is None and model.boxes["KLB1"].status(T0 + 1)[0] == "online"
    model.apply(ev("state", printer={**never, "checked_at": T0}))  # checked, and it did not answer
    assert model.boxes["KLB1"].status(T0 + 1) == ("degraded", "printer: offline")
