"""Claim codes, install records and ticket scans against the real sandbox server (HTTP on loopback)."""

from __future__ import annotations

import json
import time

import httpx

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.cloud.claim_code import check_symbol, format_code
from kelaile_cli.services.cloud.sandbox import RunningCloud
from kelaile_cli.services.cloud.sandbox.provisioning import issue_claim_code, read_devices


def _claim(cloud: RunningCloud, code: str, serial: str) -> httpx.Response:
    return httpx.post(
        f"{cloud.url}/v1/provision/claim", json={"code": code, "serial": serial, "model": "K1"}, timeout=5
    )


def _signed(cloud: RunningCloud, creds: dict, method: str, path: str, body: bytes = b"") -> httpx.Response:
    headers = cp.signed_headers(creds["device_id"], creds["secret"], method, path, int(time.time()), body,
                                nonce=str(time.monotonic_ns()))  # fmt: skip
    return httpx.request(method, cloud.url + path, content=body, headers=headers, timeout=5)


def test_admin_endpoint_issues_a_code_bound_to_the_store(cloud: RunningCloud) -> None:
    doc = httpx.post(f"{cloud.url}/v1/sandbox/claim-codes", json={"store": "S-1", "ttl_s": 60}, timeout=5).json()
    assert doc["store"] == "S-1"
    assert len(doc["code"]) == 11 and doc["code"][4] == "-"
    assert doc["expires"] > time.time() + 50
    claimed = _claim(cloud, doc["code"], "SN-A")
    assert claimed.status_code == 201
    assert claimed.json()["store"] == "S-1"


def test_same_box_again_is_success_with_the_same_identity_another_box_is_refused(cloud: RunningCloud) -> None:
    code = issue_claim_code(cloud.config.db, "S-0042", 3600, time.time())["code"]
    first = _claim(cloud, code, "SN-A")
    again = _claim(cloud, code.lower(), "SN-A")
    other = _claim(cloud, code, "SN-B")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["device_id"] == first.json()["device_id"]
    assert again.json()["secret"] == first.json()["secret"]
    assert again.json()["reused"] is True
    assert other.status_code == 409
    assert other.json()["error"] == "CLAIM_CODE_USED"
    assert "SN-A" in other.json()["detail"]


def test_expired_unknown_and_mistyped_codes_are_refused_and_nothing_is_claimed(cloud: RunningCloud) -> None:
    expired = issue_claim_code(cloud.config.db, "S-1", 1, time.time() - 10)["code"]
    unknown = format_code("23456789" + check_symbol("23456789"))
    answers = [_claim(cloud, c, "SN-X") for c in (expired, unknown, "ABCD-EFGH-J")]
    assert [a.json()["error"] for a in answers] == ["CLAIM_CODE_EXPIRED", "CLAIM_CODE_UNKNOWN", "CLAIM_CODE_MALFORMED"]
    assert [a.status_code for a in answers] == [410, 404, 422]
    assert all(d["serial"] != "SN-X" for d in read_devices(cloud.config.db))


def test_ticket_scan_and_install_record(cloud: RunningCloud) -> None:
    code = issue_claim_code(cloud.config.db, "S-7", 3600, time.time())["code"]
    creds = _claim(cloud, code, "SN-T").json()
    ticket = _signed(cloud, creds, "POST", "/v1/provision/tickets")
    assert ticket.status_code == 201
    url, token = ticket.json()["url"], ticket.json()["token"]
    assert url.endswith(f"/v1/provision/{token}")
    status = httpx.get(f"{url}/status", timeout=5).json()
    assert status["scans"] == 0
    page = httpx.get(url, timeout=5)
    assert page.status_code == 200 and "SN-T" in page.text
    status = httpx.get(f"{url}/status", timeout=5).json()
    assert status["scans"] == 1 and status["first_scan_at"] is not None
    # the same device asking again gets the same ticket (a re-run reprints the same QR)
    assert _signed(cloud, creds, "POST", "/v1/provision/tickets").json()["token"] == token
    report = json.dumps({"ok": True, "store": "S-7"}).encode()
    assert httpx.put(f"{url}/install", content=report, timeout=5).status_code == 204
    assert httpx.put(f"{cloud.url}/v1/provision/guess/install", content=report, timeout=5).status_code == 404
    assert httpx.put(f"{url}/install", content=b"[1]", timeout=5).status_code == 422
    rows = {d["serial"]: d for d in read_devices(cloud.config.db)}
    assert rows["SN-T"]["store"] == "S-7"
    assert rows["SN-T"]["install"] == {"ok": True, "store": "S-7"}
    listed = httpx.get(f"{cloud.url}/v1/sandbox/installs", timeout=5).json()["devices"]
    assert any(d["install"] for d in listed)


def test_unknown_ticket_is_404(cloud: RunningCloud) -> None:
    assert httpx.get(f"{cloud.url}/v1/provision/nope", timeout=5).status_code == 404


def test_a_box_claimed_with_a_code_has_its_secret_sealed_and_signs(cloud: RunningCloud) -> None:
    """A claim code's device is stored like any other: its secret sealed, and its signatures accepted."""
    import sqlite3

    code = issue_claim_code(cloud.config.db, "S-0042", 3600, time.time())["code"]
    creds = _claim(cloud, code, "SN-SEALED").json()
    with sqlite3.connect(cloud.config.db) as db:
        [stored] = db.execute("SELECT secret FROM devices WHERE serial='SN-SEALED'").fetchone()
    assert creds["secret"] not in stored
    assert _signed(cloud, creds, "POST", "/v1/provision/tickets").status_code == 201
