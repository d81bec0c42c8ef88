"""The sandbox cloud over real HTTP: claim, signing, idempotent ingest, faults, payments, read endpoints."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.errors import JobError
from kelaile_cli.services.cloud.client import (
    CloudAuthError,
    CloudClient,
    CloudRefusedError,
    CloudUnavailableError,
    RetryEvent,
    RetryPolicy,
)
from kelaile_cli.services.cloud.sandbox import RunningCloud, running_cloud
from kelaile_cli.services.cloud.sandbox.faults import Faults
from kelaile_cli.services.cloud.sandbox.server import bind
from tests.services.cloud.sandbox.conftest import body, key_of


def _signed_post(cloud: RunningCloud, creds, raw: bytes, key: str, stamp: int | None = None, nonce: str = "n1"):
    stamp = int(time.time()) if stamp is None else stamp
    headers = cp.signed_headers(creds.device_id, creds.secret, "POST", "/v1/transactions", stamp, raw, key, nonce)
    headers["content-type"] = "application/json"
    return httpx.post(f"{cloud.url}/v1/transactions", content=raw, headers=headers, timeout=5)


def test_claim_gives_an_identity_and_reclaiming_rotates_the_secret(cloud: RunningCloud) -> None:
    with CloudClient(cloud.url) as client:
        first = client.claim("SN-1", "klx-emu", store="s1")
        again = client.claim("SN-1", "klx-emu", store="s1")
        other = client.claim("SN-2", "klx-emu")
    assert first.device_id == again.device_id and first.secret != again.secret
    assert other.device_id != first.device_id and other.store is None
    assert cloud.storage.stats()["devices"] == 2


def test_upload_is_answered_with_a_loyalty_qr_and_a_retry_gets_the_same_answer(device: CloudClient) -> None:
    key = key_of(device.credentials, 1)
    first = device.upload(body(1), key)
    again = device.upload(body(1), key)
    assert first.status == 201 and not first.duplicate
    assert again.status == 200 and again.duplicate
    assert again.transaction_id == first.transaction_id and again.answer == first.answer
    assert first.answer["kind"] == "loyalty" and first.answer["coupon"] in first.answer["qr"]
    assert any(first.answer["coupon"] in line for line in first.answer["text"])
    other = device.upload(body(1), key_of(device.credentials, 1, occurrence=1))  # a second printing
    assert other.transaction_id != first.transaction_id
    assert device.stats()["transactions"] == 2


def test_same_key_with_another_body_is_refused_409(device: CloudClient, cloud: RunningCloud) -> None:
    key = key_of(device.credentials, 2)
    device.upload(body(2), key)
    with pytest.raises(CloudRefusedError) as info:
        device.upload(body(2, total="99.00"), key)
    assert info.value.status == 409 and "different body" in str(info.value)
    assert cloud.storage.stats()["transactions"] == 1


def test_bad_stale_replayed_and_missing_signatures_are_refused(device: CloudClient, cloud: RunningCloud) -> None:
    creds = device.credentials
    raw = json.dumps(body(3)).encode()
    key = key_of(creds, 3)
    wrong = type(creds)(creds.device_id, "not-the-secret")
    bad = _signed_post(cloud, wrong, raw, key)
    assert bad.status_code == 401 and bad.json()["error"] == "bad signature"
    stale = _signed_post(cloud, creds, raw, key, stamp=int(time.time()) - cp.MAX_SKEW_S - 60)
    assert stale.status_code == 401 and stale.json()["error"] == "stale timestamp"
    now = int(time.time())
    assert _signed_post(cloud, creds, raw, key, stamp=now, nonce="same").status_code == 201
    replayed = _signed_post(cloud, creds, raw, key, stamp=now, nonce="same")  # byte-identical request
    assert replayed.status_code == 401 and replayed.json()["error"] == "replayed"
    unsigned = httpx.post(f"{cloud.url}/v1/transactions", content=raw, headers={cp.HEADER_IDEMPOTENCY: key})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "unsigned"
    tampered = cp.signed_headers(creds.device_id, creds.secret, "POST", "/v1/transactions", int(time.time()), raw,
                                 key, "n9")  # fmt: skip
    tampered[cp.HEADER_IDEMPOTENCY] = key_of(creds, 4)  # the signature covers the key
    tampered["content-type"] = "application/json"
    moved = httpx.post(f"{cloud.url}/v1/transactions", content=raw, headers=tampered)
    assert moved.status_code == 401 and moved.json()["error"] == "bad signature"
    assert cloud.storage.stats()["transactions"] == 1


def test_unknown_device_and_bad_credentials_are_typed_errors(cloud: RunningCloud, device: CloudClient) -> None:
    creds = device.credentials
    with CloudClient(cloud.url, type(creds)("dev_nobody", "x")) as ghost, pytest.raises(CloudAuthError) as info:
        ghost.upload(body(5), "k5")
    assert info.value.status == 404 and "claim" in str(info.value)
    with CloudClient(cloud.url, type(creds)(creds.device_id, "wrong")) as liar, pytest.raises(CloudAuthError):
        liar.heartbeat({"ok": True})


def test_invalid_body_is_422_with_the_field_named(device: CloudClient) -> None:
    broken = {**body(6), "kind": "lottery"}
    with pytest.raises(CloudRefusedError) as info:
        device.upload(broken, key_of(device.credentials, 6))
    assert info.value.status == 422 and "kind" in str(info.value)


def test_drop_commits_but_never_answers_and_the_client_retry_finds_the_row(
    device: CloudClient, cloud: RunningCloud, retries: list[RetryEvent]
) -> None:
    creds = device.credentials
    raw = json.dumps(body(7)).encode()
    cloud.config.faults.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        _signed_post(cloud, creds, raw, key_of(creds, 7))
    assert cloud.storage.stats()["transactions"] == 1  # committed although nobody heard the answer
    cloud.config.faults.drop_rate = 0.5
    results = [device.upload(body(n), key_of(creds, n)) for n in range(8, 28)]
    cloud.config.faults.drop_rate = 0.0
    assert {r.reason for r in retries} == {"dropped"}
    assert sum(r.attempts - 1 for r in results) == len(retries) == device.retries > 0
    dropped_then_found = [r for r in results if r.attempts > 1]
    assert all(r.duplicate and r.status == 200 for r in dropped_then_found)
    assert cloud.storage.stats()["transactions"] == 21  # one row per receipt, whatever the retries


def test_injected_errors_are_503_not_stored_and_retried(
    device: CloudClient, cloud: RunningCloud, retries: list[RetryEvent]
) -> None:
    creds = device.credentials
    cloud.config.faults.error_rate = 1.0
    answer = _signed_post(cloud, creds, json.dumps(body(30)).encode(), key_of(creds, 30))
    assert answer.status_code == 503 and answer.json()["error"] == "injected"
    assert cloud.storage.stats()["transactions"] == 0
    with pytest.raises(CloudUnavailableError) as info:
        CloudClient(cloud.url, creds, retry=RetryPolicy(attempts=3, base_s=0.001, cap_s=0.002)).upload(
            body(30), key_of(creds, 30)
        )
    assert "503" in str(info.value) and "3 attempts" in str(info.value)
    cloud.config.faults.error_rate = 0.5
    results = [device.upload(body(n), key_of(creds, n)) for n in range(31, 51)]
    cloud.config.faults.error_rate = 0.0
    assert retries and {r.reason for r in retries} == {"http 503"}
    assert not any(r.duplicate for r in results)  # an injected error stores nothing
    assert cloud.storage.stats()["transactions"] == 20


def test_latency_is_injected(device: CloudClient, cloud: RunningCloud) -> None:
    cloud.config.faults.latency_ms = 150
    started = time.perf_counter()
    device.heartbeat({"queue": 0})
    assert time.perf_counter() - started >= 0.15


def test_pre_bill_answers_a_payment_qr_which_pay_settles(device: CloudClient) -> None:
    result = device.upload(body(60, kind="pre_bill", total="88.00"), key_of(device.credentials, 60))
    answer = result.answer
    assert answer["kind"] == "payment" and answer["order_no"] in answer["qr"] and "amount=88.00" in answer["qr"]
    assert device.payment_status(answer["order_no"])["status"] == "pending"
    paid = device.pay(answer["order_no"])
    assert paid["status"] == "paid" and paid["paid_at"] is not None
    assert device.payment_status(answer["order_no"])["status"] == "paid"
    with pytest.raises(CloudRefusedError) as info:
        device.payment_status("PO-NO-SUCH")
    assert info.value.status == 404


def test_auto_pay_marks_orders_paid_after_the_delay(tmp_path) -> None:
    with running_cloud(tmp_path / "c.sqlite", auto_pay_s=0.3) as cloud, CloudClient(cloud.url) as client:
        client.claim("SN-AP", "m")
        order = client.upload(body(61, kind="pre_bill"), key_of(client.credentials, 61)).answer["order_no"]
        assert client.payment_status(order)["status"] == "pending"
        time.sleep(0.35)
        assert client.payment_status(order)["status"] == "paid"


def test_heartbeat_state_and_read_endpoints(device: CloudClient, cloud: RunningCloud) -> None:
    device.heartbeat({"queue": 3, "firmware": "1.2.0"})
    for n in range(70, 75):
        device.upload(body(n), key_of(device.credentials, n))
    [listed] = device.devices()
    assert listed["state"] == {"queue": 3, "firmware": "1.2.0"} and listed["heartbeats"] == 1
    assert listed["transactions"] == 5
    page = device.transactions(device.credentials.device_id, limit=3)
    rest = device.transactions(after=page["next_after"])
    assert len(page["transactions"]) == 3 and len(rest["transactions"]) == 2
    assert rest["transactions"][0]["seq"] > page["transactions"][-1]["seq"]
    assert page["transactions"][0]["body"]["receipt_sha256"] == body(70)["receipt_sha256"]


def test_openapi_document_lists_the_endpoints(cloud: RunningCloud) -> None:
    doc = httpx.get(f"{cloud.url}/openapi.json").json()
    assert {"/v1/devices/claim", "/v1/transactions", "/v1/payments/{order_no}"} <= set(doc["paths"])
    assert "UploadIn" in doc["components"]["schemas"]


def test_a_port_in_use_is_one_clear_error(cloud: RunningCloud) -> None:
    with pytest.raises(JobError) as info:
        bind("127.0.0.1", cloud.port)
    assert f"127.0.0.1:{cloud.port}" in str(info.value) and "--port" in str(info.value)


def test_faults_are_seeded_and_bounded() -> None:
    a, b = Faults(error_rate=0.3, seed=7), Faults(error_rate=0.3, seed=7)
    assert [a.error() for _ in range(50)] == [b.error() for _ in range(50)]
    assert Faults(latency_ms=10, jitter_ms=50, seed=1).delay_s() >= 0


def test_a_rotated_secret_stops_working_at_once(cloud: RunningCloud) -> None:
    with CloudClient(cloud.url) as client:
        old = client.claim("SN-ROT", "m")
        client.heartbeat({"n": 1})  # the server now knows (caches) the old secret
        new = client.claim("SN-ROT", "m")
        with CloudClient(cloud.url, old) as stale, pytest.raises(CloudAuthError) as info:
            stale.heartbeat({"n": 2})
        assert info.value.cloud_error == "bad signature" and info.value.code == "CLOUD_SIGNATURE"
        client.heartbeat({"n": 3})
    assert new.device_id == old.device_id
    assert cloud.storage.devices()[0]["heartbeats"] == 2


def test_concurrent_retries_of_one_upload_store_it_once_with_one_answer(
    device: CloudClient, cloud: RunningCloud
) -> None:
    import asyncio

    from kelaile_cli.services.cloud.client import AsyncCloudClient

    async def burst() -> list:
        async with AsyncCloudClient(cloud.url, device.credentials) as client:
            return await asyncio.gather(*(client.upload(body(80), key_of(device.credentials, 80)) for _ in range(8)))

    results = asyncio.run(burst())
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert len({(r.transaction_id, str(r.answer)) for r in results}) == 1
    assert cloud.storage.stats()["transactions"] == 1
    assert device.stats()["group_commit"]["ingests"] == 8


def test_missing_key_and_a_heartbeat_for_another_device_are_refused(device: CloudClient, cloud: RunningCloud) -> None:
    creds = device.credentials
    raw = json.dumps(body(90)).encode()
    headers = cp.signed_headers(creds.device_id, creds.secret, "POST", "/v1/transactions", int(time.time()), raw,
                                None, "n-nokey")  # fmt: skip
    answer = httpx.post(f"{cloud.url}/v1/transactions", content=raw, headers=headers)
    assert answer.status_code == 422 and answer.json()["error"] == "missing idempotency key"
    path = "/v1/devices/dev_someone_else/heartbeat"
    headers = cp.signed_headers(creds.device_id, creds.secret, "POST", path, int(time.time()), b"{}", None, "n-hb")
    answer = httpx.post(f"{cloud.url}{path}", content=b"{}", headers={**headers, "content-type": "application/json"})
    assert answer.status_code == 403 and answer.json()["error"] == "wrong device"


def test_timeouts_are_retried_and_the_slow_upload_is_still_stored_once(
    device: CloudClient, cloud: RunningCloud
) -> None:
    cloud.config.faults.latency_ms = 400
    events: list[RetryEvent] = []
    impatient = CloudClient(cloud.url, device.credentials, retry=RetryPolicy(3, 0.001, 0.002), timeout=0.1,
                            on_retry=events.append)  # fmt: skip
    with impatient, pytest.raises(CloudUnavailableError) as info:
        impatient.upload(body(91), key_of(device.credentials, 91))
    assert "timed out" in str(info.value) and [e.reason for e in events] == ["timeout", "timeout"]
    time.sleep(0.6)  # the server finishes the abandoned attempts
    assert cloud.storage.stats()["transactions"] == 1
    cloud.config.faults.latency_ms = 0
    result = device.upload(body(91), key_of(device.credentials, 91))
    assert result.duplicate and result.status == 200
