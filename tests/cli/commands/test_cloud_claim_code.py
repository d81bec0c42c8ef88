"""klx cloud claim-code and klx cloud devices --db, as a user runs them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from kelaile_cli.core.cloud.claim_code import normalise_code
from kelaile_cli.services.cloud.sandbox import running_cloud
from tests.cli.test_app import klx


def test_claim_code_json_then_claim_then_devices_lists_the_box(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    r = klx("cloud", "claim-code", "--db", str(db), "--store", "S-0042", "--ttl", "2h", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["store"] == "S-0042"
    assert normalise_code(doc["code"])[0] is not None
    assert 7100 < doc["expires"] - time.time() <= 7200
    with running_cloud(db) as cloud:  # the code written to the file is known to the server
        answer = httpx.post(f"{cloud.url}/v1/provision/claim",
                            json={"code": doc["code"], "serial": "SN-9", "model": "K1"}, timeout=5)  # fmt: skip
        assert answer.status_code == 201
    listed = klx("cloud", "devices", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(d["serial"], d["store"], d["install"]) for d in rows] == [("SN-9", "S-0042", None)]


def test_bad_ttl_and_missing_db_are_one_line_errors(tmp_path: Path) -> None:
    r = klx("cloud", "claim-code", "--db", str(tmp_path / "c.sqlite"), "--store", "S-1", "--ttl", "soon")
    assert r.returncode == 2
    assert "--ttl soon" in r.stderr and "Traceback" not in r.stderr
    r = klx("cloud", "devices", "--db", str(tmp_path / "none.sqlite"))
    assert r.returncode == 2
    assert "no such database" in r.stderr
