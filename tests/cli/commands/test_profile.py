"""klx detect and klx profile … as a user runs them, including integrator drafts via KLX_PROFILES_PATH."""

from __future__ import annotations

import json

from tests.helpers import ROOT, SAMPLES, klx


def test_detect_json():
    r = klx("detect", str(SAMPLES / "zh-tw-cafe-58mm.bin"), str(SAMPLES / "eu-de-bakery-80mm.bin"), "--json")
    assert r.returncode == 0, r.stderr
    first, second = (json.loads(x) for x in r.stdout.splitlines())
    assert first["profile"] == "chenguang-cafe" and first["candidates"][0]["id"] == "chenguang-cafe"
    assert second == {"source": str(SAMPLES / "eu-de-bakery-80mm.bin"), "profile": None, "candidates": []}


def test_draft_profile_from_env_path(tmp_path):
    (tmp_path / "bakery.yaml").write_text(
        "id: moeller-kasse\nname: Möller Kasse\nvendor: Fictional GmbH\nprinter: {width: 42, encoding: cp858}\n"
        "detect:\n  signatures:\n    - text: Bäckerei Möller\n      weight: 2\n    - text: Grüße aus Köln\n",
        encoding="utf-8",
    )
    r = klx("detect", str(SAMPLES / "eu-de-bakery-80mm.bin"), "--json", env={"KLX_PROFILES_PATH": str(tmp_path)})
    assert json.loads(r.stdout)["profile"] == "moeller-kasse"
    r = klx("parse", str(SAMPLES / "eu-de-bakery-80mm.bin"), "--json", "--profiles", str(tmp_path))
    record = json.loads(r.stdout.splitlines()[0])
    assert (record["profile"], record["kind"]) == ("moeller-kasse", "other")


def test_lint_reports_file_line_key_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nname: x\nvendor: y\nprinter:\n  width: 40\ndetect:\n  signatures: []\n", encoding="utf-8")
    r = klx("profile", "lint", str(bad))
    assert r.returncode == 2
    assert f"{bad}:5: printer.width:" in r.stderr
    assert "Traceback" not in r.stderr
    r = klx("profile", "lint")
    assert r.returncode == 0 and "0 with problems" in r.stdout


def test_list_show_schema():
    r = klx("profile", "list", "--json")
    ids = {p["id"] for p in json.loads(r.stdout)}
    assert {"meiwei-pos", "chenguang-cafe", "greenleaf-till"} <= ids
    r = klx("profile", "show", "meiwei-pos")
    assert json.loads(r.stdout)["printer"] == {"width": 48, "encoding": "gb18030"}
    r = klx("profile", "show", "nope")
    assert r.returncode == 2 and "meiwei-pos" in r.stderr
    r = klx("profile", "schema")
    assert json.loads(r.stdout)["title"] == "klx POS profile"


def test_parse_gives_transaction_and_checks():
    r = klx("parse", "--json")  # the bundled sample: MeiWei POS pre-bill and final receipt
    pre_bill, sale = (json.loads(x) for x in r.stdout.splitlines())
    assert (pre_bill["kind"], sale["kind"]) == ("pre_bill", "sale")
    tx = sale["transaction"]
    assert (tx["order_no"], tx["table"], tx["covers"], tx["total"]) == ("20261125-0042", "A08", 4, "152.90")
    assert tx["payments"] == [{"method": "wechat", "amount": "152.90"}]
    assert sum(float(i["amount"]) for i in tx["items"]) == 139.0
    assert [c["ok"] for c in sale["checks"]] == [True, True, True]


def test_profile_test_passes_on_the_labelled_recordings():
    # CI runs `klx profile test` through this test
    r = klx("profile", "test", "--json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    rows = json.loads(r.stdout)
    bundled = {p.stem for p in (ROOT / "profiles").glob("*.yaml")}
    assert len(bundled) >= 12 and {row["profile"] for row in rows} == bundled
    per_profile = {pid: {row["recording"] for row in rows if row["profile"] == pid} for pid in bundled}
    assert min(len(recs) for recs in per_profile.values()) >= 5
    assert all(row["ok"] for row in rows)


def test_profile_test_names_the_failing_field(tmp_path):
    import shutil

    from tests.helpers import ROOT

    shutil.copytree(ROOT / "recordings" / "chenguang-cafe", tmp_path / "chenguang-cafe")
    label = tmp_path / "chenguang-cafe" / "chenguang-cafe-01.expected.json"
    data = json.loads(label.read_text(encoding="utf-8"))
    data["receipts"][0]["transaction"]["total"] = "999.00"
    label.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = klx("profile", "test", "chenguang-cafe", "--recordings", str(tmp_path))
    assert r.returncode == 1
    assert "transaction.total" in r.stdout and "999.00" in r.stdout
    r = klx("profile", "test", "greenleaf-till", "--recordings", str(tmp_path))
    assert r.returncode == 2 and "no labelled recordings" in r.stderr
