"""The device cloud client: async concurrency with retries, credentials file, typed errors, backoff bounds."""

from __future__ import annotations

import asyncio
import json
import random
import socket

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.client import (
    AsyncCloudClient,
    CloudClient,
    CloudUnreachableError,
    Credentials,
    RetryEvent,
    RetryPolicy,
)
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.faults import Faults
from tests.services.cloud.sandbox.conftest import body, key_of


def test_async_uploads_from_many_stores_under_errors_and_drops_store_each_receipt_once(tmp_path) -> None:
    events: list[RetryEvent] = []

    async def run(url: str) -> list:
        policy = RetryPolicy(attempts=40, base_s=0.001, cap_s=0.01)
        async with AsyncCloudClient(url, retry=policy, on_retry=events.append) as cloud:
            stores = [cloud.for_device(await cloud.claim(f"SN-{i}", "klx-test", f"store-{i}")) for i in range(4)]
            jobs = [store.upload(body(n), key_of(store.credentials, n)) for store in stores for n in range(25)]
            return await asyncio.gather(*jobs)

    faults = Faults(error_rate=0.1, drop_rate=0.1, seed=3)
    with running_cloud(tmp_path / "c.sqlite", faults=faults) as cloud:
        results = asyncio.run(run(cloud.url))
        stats = cloud.storage.stats()
    assert stats["transactions"] == 100 and stats["devices"] == 4
    assert len({r.transaction_id for r in results}) == 100
    reasons = {e.reason for e in events}
    assert reasons <= {"http 503", "dropped"} and "dropped" in reasons and "http 503" in reasons
    assert sum(r.attempts - 1 for r in results) == len(events)  # every retry reported, none invented
    assert all(e.idempotency_key for e in events)


def test_unreachable_cloud_is_a_typed_error_with_a_remedy() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    events: list[RetryEvent] = []
    client = CloudClient(f"http://127.0.0.1:{port}", retry=RetryPolicy(3, 0.001, 0.002), on_retry=events.append)
    with client, pytest.raises(CloudUnreachableError) as info:
        client.claim("SN", "m")
    assert "unreachable" in str(info.value) and "klx cloud serve" in str(info.value) and "3 attempts" in str(info.value)
    assert [e.reason for e in events] == ["connect", "connect"] and client.retries == 2


def test_credentials_round_trip_through_a_private_file(tmp_path) -> None:
    creds = Credentials("dev_1", "s3cret", "store-9", "SN-9", "http://127.0.0.1:8787")
    path = tmp_path / "box" / "credentials.json"
    creds.save(path)
    assert Credentials.load(path) == creds
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["device_id"] == "dev_1"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="not a credentials file"):
        Credentials.load(path)
    with pytest.raises(InputError, match="cannot read credentials"):
        Credentials.load(tmp_path / "missing.json")


def test_backoff_grows_and_stays_bounded() -> None:
    policy, rng = RetryPolicy(attempts=10, base_s=0.1, cap_s=1.0), random.Random(1)
    delays = [[policy.delay(n, rng) for n in range(1, 10)] for _ in range(50)]
    for row in delays:
        for n, d in enumerate(row, start=1):
            ceiling = min(1.0, 0.1 * 2 ** (n - 1))
            assert ceiling / 2 <= d <= ceiling
    assert len({round(row[3], 6) for row in delays}) > 1  # jittered
