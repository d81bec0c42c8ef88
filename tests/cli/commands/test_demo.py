"""``klx demo``, the README's first command: the whole loop on an emulated box and a sandbox cloud."""

from __future__ import annotations

import json

from tests.helpers import klx


def test_demo_runs_the_loop_end_to_end(tmp_path):
    r = klx("demo", "--json", "--keep", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["passthrough_exact"] and report["bytes_sent"] > 0
    assert report["answers_printed"] == 2 and report["bytes_printed"] > report["bytes_sent"]
    assert report["cloud_stats"]["devices"] == 1 and report["cloud_stats"]["transactions"] == 2
    assert [u["body"]["kind"] for u in report["uploads"]] == ["pre_bill", "sale"]
    assert {u["body"]["profile"] for u in report["uploads"]} == {"meiwei-pos"}
    assert report["uploads"][0]["answer"]["kind"] == "payment" and report["uploads"][1]["answer"]["qr"]
    assert report["box"]["state"]["counters"]["recognised"] == 2 and report["box"]["state"]["queue"] == 0
    printed = (tmp_path / "run" / "printer.bin").read_bytes()  # kept
    for upload in report["uploads"]:  # each answer's QR printed just before a cut
        qr = upload["answer"]["qr"].encode()
        end = printed.index(qr) + len(qr)
        assert printed.index(b"\x1dV", end) - end < 20  # QR print command, a feed, alignment reset, the cut
    # a second run on the kept state is a power cycle: same box, no second registration
    r = klx("demo", "--json", "--keep", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    again = json.loads(r.stdout)
    assert again["box"]["identity"]["serial"] == report["box"]["identity"]["serial"]


def test_demo_human_output_names_each_step():
    r = klx("demo", "--no-receipts", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    for word in ("cloud", "box", "pos", "host", "print", "unchanged and in order", "transactions in the cloud"):
        assert word in r.stdout
    assert "\x1b[" not in r.stdout
