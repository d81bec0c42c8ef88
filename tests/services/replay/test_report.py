"""Reports: keys, differences from labels and from a baseline, plots."""

from __future__ import annotations

import json

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.replay import replay, write_report
from kelaile_cli.services.replay.compare import diff_values, load_baseline
from kelaile_cli.services.replay.plot import write_plot
from tests.services.replay.conftest import options

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
