"""Reports: keys, differences from labels and from a baseline, plots."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.faults import Faults
from kelaile_cli.services.replay import Progress, replay, report_lines, write_report
from kelaile_cli.services.replay.compare import Thresholds, diff_values, load_baseline, regressions
from kelaile_cli.services.replay.plot import write_plot
from kelaile_cli.services.replay.session import auto_workers
from tests.services.replay.conftest import copy_recording, options

KEYS = {"requested_rate", "achieved_rate", "sent", "succeeded", "failed", "retries", "unique_transactions",
        "latency_ms", "errors", "differences", "problems", "receipts", "timeline", "histogram"}  # fmt: skip


def test_report_keys_and_a_clean_run(tree, tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        report = replay([tree], options(cloud.url, rate=50))
    assert set(report) >= KEYS and {"p50", "p90", "p99", "max"} <= set(report["latency_ms"])
    assert report["ok"] and report["sent"] == report["succeeded"] == report["unique_transactions"] == 3
    assert report["requested_rate"] == 50 and report["achieved_rate"] > 0
    assert [r["answer_kind"] for r in report["receipts"]] == ["loyalty", "payment", "loyalty"]
    assert report["differences"] == [] and report["problems"] == []


def test_expected_and_baseline_differences_per_receipt_and_field(tree, tmp_path):
    label = tree / "meiwei-pos-01.expected.json"
    doc = json.loads(label.read_text(encoding="utf-8"))
    doc["receipts"][1]["transaction"]["total"] = "999.99"
    label.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        first = replay([tree], options(cloud.url, rate=50))
        [diff] = first["differences"]
        assert diff["receipt"].endswith("meiwei-pos-01.klr#1") and diff["field"] == "transaction.total"
        assert (diff["against"], diff["expected"], diff["actual"]) == ("expected", "999.99", "312.40")
        assert not first["ok"]
        # a baseline that remembers another table for the café receipt and a receipt gone since
        first["receipts"][0]["transaction"]["table"] = "T9"
        first["receipts"].append({**first["receipts"][0], "receipt": "old.klr#0"})
        write_report(first, tmp_path / "base.json")
        second = replay([tree], options(cloud.url, rate=50), baseline=tmp_path / "base.json")
    against = [d for d in second["differences"] if d["against"] == "baseline"]
    assert {(d["receipt"].rsplit("/", 1)[-1], d["field"]) for d in against} == {
        ("chenguang-cafe-01.klr#0", "transaction.table"), ("old.klr#0", "(receipt)")
    }  # fmt: skip


def test_diff_values_walks_lists_and_reports_both_ways():
    got = diff_values({"a": [{"x": 1}, {"x": 2}], "b": 1}, {"a": [{"x": 1}], "b": 1, "c": 3}, both_ways=True)
    assert got == [("a (count)", 2, 1), ("a[1]", {"x": 2}, "<missing>"), ("c", "<missing>", 3)]


def test_bad_baseline_is_an_input_error(tmp_path):
    (tmp_path / "r.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a klx replay report"):
        load_baseline(tmp_path / "r.json")


def test_plots_png_and_html(tmp_path):
    report = {"cloud": "http://x", "requested_rate": 10, "achieved_rate": 9.9, "succeeded": 3, "failed": 0,
              "retries": 0, "latency_ms": {"p50": 1, "p99": 2, "max": 3},
              "timeline": [{"t": 0, "count": 10, "p50": 1.0, "p99": 2.0, "max": 3.0},
                           {"t": 1, "count": 9, "p50": 1.5, "p99": 2.5, "max": 8.0}]}  # fmt: skip
    write_plot(report, tmp_path / "p.png")
    write_plot(report, tmp_path / "p.html")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.count("<polyline") == 4 and "stroke-dasharray" in page  # 3 latency series, uploads, asked rate
    with pytest.raises(InputError):
        write_plot(report, tmp_path / "p.jpg")


def test_a_slow_cloud_misses_every_cut_and_fails_against_a_fast_baseline(tree, tmp_path):
    """Support's question: would the QR have printed? A cloud slower than the box's cut wait says no."""
    with running_cloud(tmp_path / "fast.sqlite") as cloud:
        fast = replay([tree], options(cloud.url, rate=50))
    assert fast["ok"] and fast["missed_cuts"] == 0 and fast["cut_wait_s"] == 1.5
    assert [r["missed_cut"] for r in fast["receipts"]] == [False, False, False]
    assert all(r["latency_ms"] is not None and r["attempts_ms"] == [r["latency_ms"]] for r in fast["receipts"])
    write_report(fast, tmp_path / "fast.json")
    with running_cloud(tmp_path / "slow.sqlite", faults=Faults(latency_ms=400)) as cloud:
        slow = replay([tree], dataclasses.replace(options(cloud.url, rate=50), cut_wait_s=0.2),
                      baseline=tmp_path / "fast.json")  # fmt: skip
    assert slow["succeeded"] == 3 and slow["missed_cuts"] == 3
    assert [r["missed_cut"] for r in slow["receipts"]] == [True, True, True]
    assert all(r["latency_ms"] >= 400 for r in slow["receipts"])
    metrics = {r["metric"] for r in slow["regressions"]}
    assert "missed_cuts" in metrics and "latency_ms.p50" in metrics
    assert not slow["ok"]
    missed = [d for d in slow["differences"] if d["field"] == "missed_cut"]
    assert len(missed) == 3 and {(d["expected"], d["actual"]) for d in missed} == {(False, True)}
    lines = report_lines(slow)
    assert any(line.startswith("regression: missed_cuts 3 (baseline 0") for line in lines)


def test_retries_are_counted_per_attempt_and_compared_with_the_baseline(tree, tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        clean = replay([tree], options(cloud.url, rate=50))
    with running_cloud(tmp_path / "d.sqlite", faults=Faults(error_rate=0.5, seed=3)) as cloud:
        noisy = replay([tree], options(cloud.url, rate=50))
    assert noisy["ok"] and noisy["retries"] > 0  # retried to success: fine on its own
    retried = [r for r in noisy["receipts"] if r["retries"]]
    assert retried and all(len(r["attempts_ms"]) == r["retries"] + 1 for r in retried)
    assert all(a <= b for r in retried for a, b in itertools.pairwise(r["attempts_ms"]))
    found = regressions(clean, noisy, Thresholds())
    assert [r.metric for r in found if r.metric == "retry_rate"] == ["retry_rate"]
    assert regressions(clean, noisy, Thresholds(retry_rate_increase=100.0, latency_slack_ms=1e6)) == []


def test_unrecognised_receipts_are_reported_and_fail_only_when_strict(tree, tmp_path):
    copy_recording("unknown/diner-01", tree)  # a POS with no profile
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        lenient = replay([tree], options(cloud.url, rate=50))
        strict = replay([tree], options(cloud.url, rate=50), strict=True)
    assert lenient["unrecognised"] and lenient["ok"] and lenient["problems"] == []
    assert not report_lines(lenient)
    assert strict["unrecognised"] == lenient["unrecognised"] and not strict["ok"]
    assert report_lines(strict)


def test_one_receipt_by_its_order_number(tree, tmp_path):
    label = json.loads((tree / "meiwei-pos-01.expected.json").read_text(encoding="utf-8"))
    order = label["receipts"][1]["transaction"]["order_no"]
    wanted = sum(r["transaction"].get("order_no") == order for r in label["receipts"])  # a pre-bill and its sale
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        one = replay([tree], options(cloud.url, rate=50), receipt=order)
        with pytest.raises(InputError, match="no replayable receipt has this order number"):
            replay([tree], options(cloud.url, rate=50), receipt="no-such-order")
    assert [r["transaction"]["order_no"] for r in one["receipts"]] == [order] * wanted and one["sent"] == wanted


def test_stop_ends_the_run_with_a_partial_report(tree, tmp_path):
    stop = threading.Event()

    def progress(p: Progress) -> None:
        if p.succeeded >= 3:
            stop.set()  # as Ctrl-C does, once a few uploads went through

    with running_cloud(tmp_path / "c.sqlite") as cloud:
        report = replay([tree], options(cloud.url, rate=5, duration=60, loop=True), stop=stop, progress=progress)
    assert report["interrupted"] and not report["ok"]
    assert 3 <= report["succeeded"] <= report["sent"] < 300


def test_auto_workers_leaves_half_the_cores_to_the_cloud():
    assert auto_workers(1_500, cores=2) == 1
    assert auto_workers(1_500, cores=8) == 2
    assert auto_workers(10_000, cores=8) == 4
    assert auto_workers(None, cores=8) == 1


def test_html_report_has_the_receipts_table_and_the_baseline_beside_the_run(tree, tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        first = replay([tree], options(cloud.url, rate=50))
        write_report(first, tmp_path / "base.json")
        second = replay([tree], options(cloud.url, rate=50), baseline=tmp_path / "base.json")
    write_plot(second, tmp_path / "r.html", load_baseline(tmp_path / "base.json").report)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("<tr data-profile=") == len(second["receipts"]) == 3
    assert 'data-profile="meiwei-pos"' in page and 'data-kind="pre_bill"' in page
    assert "This run beside the baseline" in page and "answers after the cut wait" in page
    assert 'id="f-missed"' in page or "id=f-missed" in page
