"""klx insights as a user runs it: real subprocesses, a real sandbox cloud, the labelled recordings."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest

from kelaile_cli.services.cloud.sandbox import running_cloud
from tests.cli.test_app import ROOT, klx
from tests.services.insights.conftest import store_day

RECORDINGS = ROOT / "recordings"
LABELLED = sorted({p.parent for p in RECORDINGS.glob("*/*.expected.json")})


def _expected_quantities() -> dict[str, Decimal]:
    """Quantity per item over the recordings' expected sales, refunds taken off."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for label in RECORDINGS.glob("*/*.expected.json"):
        for receipt in json.loads(label.read_text(encoding="utf-8"))["receipts"]:
            sign = {"sale": 1, "refund": -1}.get(receipt["kind"])
            for item in (receipt.get("transaction") or {}).get("items", []) if sign else []:
                out[item["name"]] += sign * abs(Decimal(item.get("quantity", "1")))
    return dict(out)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """The labelled recordings replayed by `klx replay` into a sandbox cloud's database."""
    db = tmp_path_factory.mktemp("replayed") / "s.sqlite"
    with running_cloud(db) as cloud:
        r = klx("replay", *map(str, LABELLED), "--cloud", cloud.url, "--speed", "1000", "--json")
        assert r.returncode == 0, r.stderr[-2000:]
    return db


def test_best_sellers_equal_the_sum_over_the_expected_transactions(replayed, tmp_path):
    r = klx("insights", "--db", str(replayed), "--json", "--top", "1000", "--html", str(tmp_path / "i.html"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    got = {s["name"]: Decimal(s["quantity"]) for s in doc["sellers"]["best_by_quantity"]}
    want = _expected_quantities()
    assert got == want and len(want) > 50
    best = max(want.values())
    assert Decimal(doc["sellers"]["best_by_quantity"][0]["quantity"]) == best
    page = (tmp_path / "i.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 5 and doc["sellers"]["best_by_revenue"][0]["name"] in page
    assert "<script" not in page and "http" not in page  # self-contained


def test_bundled_shift_reports_are_reconciled(replayed):
    doc = json.loads(klx("insights", "--db", str(replayed), "--json").stdout)
    reports = {}
    for label in RECORDINGS.glob("*/*.expected.json"):
        for receipt in json.loads(label.read_text(encoding="utf-8"))["receipts"]:
            if receipt["kind"] == "shift_report":
                reports[receipt["transaction"]["report"]["number"]] = receipt["transaction"]
    assert {s["number"] for s in doc["shifts"]} == set(reports) and len(reports) == 3
    for shift in doc["shifts"]:
        want = reports[shift["number"]]
        assert {m["method"]: m["reported"] for m in shift["methods"] if m["reported"]} == {
            p["method"]: p["amount"] for p in want["payments"]
        }
        assert shift["receipts"]["reported"] == want["report"]["receipts"]
        for m in shift["methods"]:
            assert Decimal(m["difference"]) == Decimal(m["reported"] or 0) - Decimal(m["captured"] or 0)
        assert Decimal(shift["difference"]) == Decimal(want["total"]) - Decimal(shift["captured_total"])


def test_recordings_give_the_same_sellers_as_the_cloud(replayed):
    from_db = json.loads(klx("insights", "--db", str(replayed), "--json", "--top", "1000").stdout)
    direct = klx("insights", *map(str, LABELLED), "--json", "--top", "1000")
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["sellers"] == from_db["sellers"]


def test_tables_on_the_terminal_and_the_cloud_url(tmp_path):
    db = store_day(tmp_path / "day.sqlite")
    with running_cloud(db) as cloud:
        r = klx("insights", "--cloud", cloud.url, "--store", "S1", "--to", "2026-11-23")
    assert r.returncode == 0, r.stderr
    assert "Noodles" in r.stdout and "Z1" in r.stdout and "8.00" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of"),
        (("--db", "missing.sqlite"), "missing.sqlite: no such database"),
        (("--db", "README.md"), "README.md: not a klx cloud database"),
        (("--db", "x", "--cloud", "http://127.0.0.1:9"), "give exactly one of"),
        (("--cloud", "ftp://x"), "expected an http:// or https:// URL"),
        (("--db", "README.md", "--from", "2026-02-30"), "--from 2026-02-30: not a date"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = klx("insights", *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr


def _slip_rows(job: bytes) -> tuple[list[str], dict[str, list[str]]]:
    """The lines of each printed slip (decoded back by the library) and its table rows by first word."""
    from kelaile_cli.core.stream.printstream import read_receipts

    lines = [["".join(s.text for s in line.spans) for line in r.lines] for r in read_receipts(job)]
    assert len(lines) == 1, lines
    return lines[0], {ln.split()[0]: ln.split()[1:] for ln in lines[0] if ln.split()}


def test_print_sends_the_shift_reconciliation_to_a_tcp_printer_and_a_file(tmp_path):
    from tests.helpers import FakePrinter

    db = store_day(tmp_path / "day.sqlite")
    scope = ("--db", str(db), "--store", "S1", "--to", "2026-11-23")
    want = json.loads(klx("insights", *scope, "--json").stdout)["shifts"]
    assert [s["number"] for s in want] == ["Z1"]
    printer = FakePrinter()
    try:
        r = klx("insights", *scope, "--print", f"tcp://127.0.0.1:{printer.port}", "--json")
        jobs = printer.wait_for(1)
    finally:
        printer.close()
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["shifts"] == want and "printed 1 shift" in r.stderr  # stdout stays JSON
    slip = tmp_path / "slip.bin"
    r = klx("insights", *scope, "--print", str(slip), "--print-width", "42")
    assert r.returncode == 0, r.stderr
    for job in (jobs[0], slip.read_bytes()):
        lines, rows = _slip_rows(job)
        for m in want[0]["methods"]:
            assert rows[m["method"]] == [m["reported"] or "-", m["captured"] or "-", m["difference"]]
        assert rows["TOTAL"] == [want[0]["reported_total"], want[0]["captured_total"], want[0]["difference"]]
        assert rows["cash"][2] == "8.00"  # the planted difference
        explained = [ln for ln in lines if ln[:4] in ("1002", "1004")]
        assert [e.split()[-1] for e in explained] == [x["total"] for x in want[0]["explaining_receipts"]]
        assert "#Z1" in " ".join(lines)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--print", "listen://127.0.0.1:0"), 2, "a print job goes to tcp://HOST:PORT"),
        (("--print", "tcp://127.0.0.1:9"), 1, "tcp://127.0.0.1:9: cannot connect"),
        (("--print", "slip.bin", "--print-width", "5"), 2, "--print-width 5"),
        (("--print", "slip.bin", "--print-encoding", "klingon"), 2, "--print-encoding klingon: unknown"),
        (("--print", "slip.bin", "--from", "2030-01-01"), 2, "no shift report in the selection"),
    ],
)
def test_print_errors_are_one_line(tmp_path, args, code, message):
    db = store_day(tmp_path / "day.sqlite")
    r = klx("insights", "--db", str(db), *args, cwd=tmp_path)
    assert r.returncode == code, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_print_to_a_serial_port(tmp_path):
    import os
    import select

    db = store_day(tmp_path / "day.sqlite")
    master, slave = os.openpty()
    got = b""
    try:
        r = klx("insights", "--db", str(db), "--store", "S1", "--to", "2026-11-23", "--print", os.ttyname(slave))
        assert r.returncode == 0, r.stderr
        while select.select([master], [], [], 1.0)[0]:  # bounded: stops after a second without bytes
            got += os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)
    lines, rows = _slip_rows(got)
    assert rows["cash"] == ["44.20", "36.20", "8.00"] and "#Z1" in " ".join(lines)
