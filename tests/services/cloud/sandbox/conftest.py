"""A real sandbox cloud (uvicorn in a thread, SQLite file in tmp_path) and device clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kelaile_cli.core.cloud.protocol import idempotency_key, receipt_digest
from kelaile_cli.services.cloud.client import CloudClient, Credentials, RetryEvent, RetryPolicy
from kelaile_cli.services.cloud.sandbox import RunningCloud, running_cloud


@pytest.fixture
def cloud(tmp_path) -> Iterator[RunningCloud]:
    with running_cloud(tmp_path / "cloud.sqlite") as running:
        yield running


@pytest.fixture
def retries() -> list[RetryEvent]:
    return []


@pytest.fixture
def device(cloud: RunningCloud, retries: list[RetryEvent]) -> Iterator[CloudClient]:
    fast = RetryPolicy(attempts=30, base_s=0.001, cap_s=0.01)
    with CloudClient(cloud.url, retry=fast, on_retry=retries.append, timeout=5.0) as client:
        client.claim("SN-TEST-1", "klx-test", store="store-1")
        yield client


def body(n: int = 0, kind: str = "sale", total: str = "12.50") -> dict:
    """An upload document as ``core.analysis.upload_body`` makes it."""
    return {
        "receipt_sha256": receipt_digest(f"receipt {n}".encode()),
        "printed_at": "2026-11-25T08:00:00",
        "profile": "meiwei-pos",
        "confidence": 0.93,
        "kind": kind,
        "transaction": {"kind": kind, "order_no": f"B{n:04d}", "total": total, "currency": "CNY"},
        "checks": [{"name": "total", "ok": True, "detail": ""}],
    }


def key_of(creds: Credentials | None, n: int, occurrence: int = 0) -> str:
    assert creds is not None
    return idempotency_key(creds.device_id, receipt_digest(f"receipt {n}".encode()), occurrence)
