"""Acceptance of issue 16: a POS program in a language and layout no bundled profile knows is profiled
with no hand edit, kept true by ``profile test``, and renewed by ``profile accept`` after a hand change.

The receipts are printed by python-escpos from data records (tools/labelled/katsuya_ja.py: Japanese
Shift_JIS with 消費税 10 %/8 %; tools/labelled/mildang_ko.py: Korean EUC-KR in FS & mode with 부가세
and card approval numbers) and the expected transactions come from the same records, never from klx.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import ENV_PATH, load_profiles
from tests.cli.test_app import ROOT, klx

FIXTURES = ROOT / "tests" / "fixtures" / "new-pos"
PROGRAMS = {"katsuya-register": ("ja", "JPY"), "mildang-pos": ("ko", "KRW")}
JUDGED = ("order_no", "datetime", "items", "total", "tax", "payments", "change", "currency")


def _wrong(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """The judged fields the draft read differently from the record (empty: read right)."""
    wrong = ["kind"] if want["kind"] != got["kind"] else []
    tx = got.get("transaction") or {}
    for key in JUDGED:
        expected, actual = want["transaction"].get(key), tx.get(key)
        if key == "items" and actual:
            actual = [{k: item.get(k) for k in ("name", "quantity", "unit_price", "amount")} for item in actual]
        if expected != actual and not (expected is None and actual in (None, [])):
            wrong.append(key)
    return wrong


def test_the_fixtures_are_unknown_to_the_bundled_profiles() -> None:
    detector = Detector(load_profiles().profiles)
    for klr in sorted(FIXTURES.glob("*/*.klr")):
        for receipt in jobs.source_receipts(jobs.load_source(klr), DecodeOptions()):
            assert detector.best(receipt) is None, klr


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_new_test_change_accept(program: str, tmp_path: Path) -> None:
    language, currency = PROGRAMS[program]
    sources = sorted(str(p) for p in (FIXTURES / program).glob("*.klr"))
    assert len(sources) == 6
    r = klx("profile", "new", "--from", *sources, "--id", program, "--out", "drafts", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] and report["samples_detected"] == 6 and report["samples_reading"] == 6
    assert any(note.startswith(f"language: {language} ") for note in report["notes"]), report["notes"]

    # read right with no hand edit: kind, order number, date-time, items, total, tax, payments, change
    drafts = tmp_path / "drafts"
    right = 0
    for label in sorted((FIXTURES / program).glob("*.expected.json")):
        want = json.loads(label.read_text(encoding="utf-8"))["receipts"][0]
        got = json.loads((drafts / program / label.name).read_text(encoding="utf-8"))["receipts"][0]
        right += not _wrong(want, got)
        # amounts in the receipt's precision: whole won and yen, the currency carried in the transaction
        assert got["transaction"]["currency"] == currency
        assert re.fullmatch(r"-?\d+", got["transaction"]["total"]), got["transaction"]["total"]
    assert right >= 5, right

    env = {ENV_PATH: str(drafts)}
    r = klx("profile", "test", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr

    # a hand change to the profile: the date-time is no longer read; the expected files go stale
    profile = drafts / f"{program}.yaml"
    text = profile.read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^  datetime:\n(    .*\n)+", "", text)
    assert changed != text
    profile.write_text(changed, encoding="utf-8")
    r = klx("profile", "test", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert r.returncode == 1 and "transaction.datetime" in r.stdout, r.stdout

    r = klx("profile", "accept", program, "--recordings", "drafts", "--dry-run", env=env, cwd=tmp_path)
    assert r.returncode == 0 and "would renew 6 of 6" in r.stdout, r.stdout + r.stderr
    assert '-        "datetime": "2026-11-25T' in r.stdout and '+        "datetime": null' in r.stdout
    r = klx("profile", "test", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert r.returncode == 1  # a dry run writes nothing

    r = klx("profile", "accept", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert r.returncode == 0 and "renewed 6 of 6" in r.stdout, r.stdout + r.stderr
    r = klx("profile", "test", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = klx("profile", "accept", program, "--recordings", "drafts", env=env, cwd=tmp_path)
    assert "renewed 0 of 6" in r.stdout and "up to date" in r.stdout


def test_accept_refuses_when_the_profile_no_longer_recognises_its_receipts(tmp_path: Path) -> None:
    sources = sorted(str(p) for p in (FIXTURES / "mildang-pos").glob("*.klr"))
    r = klx("profile", "new", "--from", *sources, "--id", "mildang-pos", "--out", "drafts", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    profile = tmp_path / "drafts" / "mildang-pos.yaml"
    doc = profile.read_text(encoding="utf-8")
    start = doc.index("  signatures:\n")
    end = doc.index("  habits:\n") if "  habits:\n" in doc else doc.index("kinds:\n")
    profile.write_text(doc[:start] + "  signatures:\n  - text: NOT ON ANY RECEIPT\n" + doc[end:], encoding="utf-8")
    before = {p: p.read_bytes() for p in (tmp_path / "drafts" / "mildang-pos").glob("*.json")}
    r = klx("profile", "accept", "mildang-pos", "--recordings", "drafts", env={ENV_PATH: "drafts"}, cwd=tmp_path)
    assert r.returncode == 1 and "recognised as unknown" in r.stderr and "Traceback" not in r.stderr
    assert before == {p: p.read_bytes() for p in before}


def test_a_draft_that_reads_nothing_is_not_green(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "mildang-pos", tmp_path / "recs" / "bare-pos")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bare-pos.yaml").write_text(
        "id: bare-pos\nname: Bare\nvendor: test\nprinter: {width: 42}\n"
        "detect: {signatures: [{text: 밀당제과}]}\nkinds: {sale: ['[영수증]']}\n",
        encoding="utf-8",
    )
    # labels that state only the profile and kind: every stated field passes, yet nothing is read
    for label in (tmp_path / "recs" / "bare-pos").glob("*.expected.json"):
        label.write_text(json.dumps({"receipts": [{"profile": "bare-pos"}]}), encoding="utf-8")
    r = klx("profile", "test", "bare-pos", "--recordings", "recs", "--profiles", "profiles", "--json", cwd=tmp_path)
    assert r.returncode == 1
    failed = {row["field"] for row in json.loads(r.stdout) if not row["ok"]}
    assert {"required for sale: total", "required for sale: items", "required for sale: payments"} <= failed
    assert "reads total, items or payments on some receipt" in failed


def test_profile_test_says_what_it_could_not_check(tmp_path: Path) -> None:
    (tmp_path / "recs").mkdir()
    r = klx("profile", "test", "--recordings", str(tmp_path / "recs"))
    assert r.returncode == 1
    assert "nothing checked" in r.stderr and "not checked: meiwei-pos" in r.stderr


def test_profile_new_says_when_it_could_not_check_other_profiles(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    sources = sorted(str(p) for p in (FIXTURES / "katsuya-register").glob("*.klr"))
    r = klx("profile", "new", "--from", *sources, "--id", "katsuya", "--out", "drafts", "--recordings", "empty",
            cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not checked whether it claims other profiles' receipts" in r.stdout and "claims 0 of 0" not in r.stdout


def test_a_user_label_table_replaces_the_bundled_language(tmp_path: Path) -> None:
    table = tmp_path / "ko.yaml"
    table.write_text(
        "language: ko\ncurrency: USD\namounts: {total: [합계금액], tax: [부가세]}\npayments: {cash: [현금]}\n"
        "kinds: {refund: [환불], sale: [영수증]}\n",
        encoding="utf-8",
    )
    sources = sorted(str(p) for p in (FIXTURES / "mildang-pos").glob("*.klr"))
    r = klx("profile", "new", "--from", *sources, "--id", "mildang", "--out", "drafts", "--labels", str(table),
            "--json", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    draft = (tmp_path / "drafts" / "mildang.yaml").read_text(encoding="utf-8")
    assert "currency: USD" in draft and "카카오페이" not in draft  # the user's table, not the bundled one
    table.write_text("language: ko\namounts: {totl: [합계]}\n", encoding="utf-8")
    r = klx("profile", "new", "--from", *sources, "--id", "mildang2", "--out", "drafts", "--labels", str(table),
            cwd=tmp_path)  # fmt: skip
    assert r.returncode == 2 and "ko.yaml" in r.stderr and "totl" in r.stderr and "Traceback" not in r.stderr


def test_recorded_over_tcp_with_klx_record_then_drafted(tmp_path: Path) -> None:
    """The issue's path: the POS prints six jobs over TCP into `klx record`; the draft is made from that file."""
    from kelaile_cli.core.formats.recording import parse_recording
    from tests.cli.commands.test_capture import start
    from tests.services.capture.test_live import FakePrinter, pos_print

    printer = FakePrinter()
    out = tmp_path / "bakery.klr"
    proc, port = start("record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer.port}",
                       "--max-jobs", "6", "-o", str(out))  # fmt: skip
    labels = sorted((FIXTURES / "mildang-pos").glob("*.expected.json"))
    for label in labels:
        stream = parse_recording(label.with_name(label.name.replace(".expected.json", ".klr")).read_bytes()).stream()
        pos_print(port, stream)
    assert len(printer.wait_for(6)) == 6
    _, stderr = proc.communicate(timeout=60)
    printer.close()
    assert proc.returncode == 0, stderr
    r = klx("profile", "new", "--from", str(out), "--id", "mildang-pos", "--out", "drafts", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads((tmp_path / "drafts" / "mildang-pos" / "bakery.expected.json").read_text("utf-8"))["receipts"]
    wants = [json.loads(label.read_text(encoding="utf-8"))["receipts"][0] for label in labels]
    assert len(got) == 6
    assert sum(not _wrong(want, have) for want, have in zip(wants, got, strict=True)) >= 5


def test_interactive_fix_by_pointing_at_a_line(tmp_path: Path) -> None:
    """The draft reads no member number (one sample prints it); pointing at that line makes it a rule."""
    import os
    import subprocess
    import sys

    sources = sorted(str(p) for p in (FIXTURES / "katsuya-register").glob("*.klr"))
    answers = "\n".join(["4", "member_id 4:99", "nonsense", "member_id 4:16", "done"]) + "\n"
    command = [sys.executable, "-m", "kelaile_cli", "profile", "new", "--from", *sources, "--id", "katsuya",
               "--out", "drafts", "--interactive"]  # fmt: skip
    r = subprocess.run(
        command, check=False, input=answers, capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "会員番号: " in r.stdout and "has lines 1–" in r.stderr and "expected FIELD N:LINE" in r.stderr
    assert "member_id: now read on 1/6 samples" in r.stdout and "renewed 6 expected files" in r.stdout
    assert "member_id:\n    pattern: 会員番号" in (tmp_path / "drafts" / "katsuya.yaml").read_text(encoding="utf-8")
    want = json.loads((FIXTURES / "katsuya-register" / "katsuya-register-04.expected.json").read_text("utf-8"))
    got = json.loads((tmp_path / "drafts" / "katsuya" / "katsuya-register-04.expected.json").read_text("utf-8"))
    assert got["receipts"][0]["transaction"]["member_id"] == want["receipts"][0]["transaction"]["member_id"]
    r = klx("profile", "test", "katsuya", "--recordings", "drafts", env={ENV_PATH: "drafts"}, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_rule_from_a_pointed_line() -> None:
    from kelaile_cli.core.profiles.pointing import rule_from_line

    key, rule = rule_from_line("total", "합계금액                          -31,500")
    assert key == "total" and re.search(rule["pattern"], "합계금액      15,700", re.M).group(1) == "15,700"
    key, rule = rule_from_line("payment:mobile", "PayPay                  ￥1,000")
    assert key == "payments" and rule["method"] == "mobile"
    assert re.search(rule["pattern"], "PayPay   -￥2,000", re.M).group(1) == "-￥2,000"
    key, rule = rule_from_line("order_no", "伝票番号: 0004-6338")
    assert re.search(rule["pattern"], "伝票番号: 0001-0042").group(1) == "0001-0042"
    assert rule_from_line("datetime", "판매일시: 2026-11-25 09:10:35")[1]["format"] == "%Y-%m-%d %H:%M:%S"
    with pytest.raises(ValueError, match="no amount"):
        rule_from_line("total", "감사합니다. 또 오세요!")
    with pytest.raises(ValueError, match="no label"):
        rule_from_line("total", "   15,700")


def test_the_fixtures_are_what_the_generators_print(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_labelled", ROOT / "tools" / "make_labelled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_new_pos(tmp_path)
    assert len(written) == 12
    for path in written:
        rel = path.relative_to(tmp_path)
        assert (FIXTURES / rel).read_bytes() == path.read_bytes(), rel
        label = rel.with_name(rel.name.removesuffix(".klr") + ".expected.json")
        assert (FIXTURES / label).read_bytes() == (tmp_path / label).read_bytes(), label
