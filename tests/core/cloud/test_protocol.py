"""The device ↔ cloud contract: signatures and idempotency keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.cloud import protocol as cp


def test_signature_verifies_and_any_change_breaks_it() -> None:
    body = b'{"total": "12.00"}'
    sig = cp.sign("s3cret", "POST", "/v1/transactions", 1_700_000_000, body)
    assert cp.verify("s3cret", "POST", "/v1/transactions", 1_700_000_000, body, sig, now=1_700_000_010) is None
    assert cp.verify("other", "POST", "/v1/transactions", 1_700_000_000, body, sig, 1_700_000_010) == "bad signature"
    assert cp.verify("s3cret", "POST", "/v1/transactionz", 1_700_000_000, body, sig, 1_700_000_010) == "bad signature"
    assert cp.verify("s3cret", "POST", "/v1/transactions", 1_700_000_000, body + b" ", sig, 1_700_000_010) is not None
    assert cp.verify("s3cret", "POST", "/v1/transactions", 1_700_000_000, body, sig, now=1_700_001_000) == (
        "stale timestamp"
    )


def test_signed_headers_carry_the_idempotency_key_only_when_given() -> None:
    plain = cp.signed_headers("dev1", "k", "GET", "/v1/devices", 5, b"")
    assert set(plain) == {cp.HEADER_DEVICE, cp.HEADER_TIMESTAMP, cp.HEADER_SIGNATURE}
    keyed = cp.signed_headers("dev1", "k", "POST", "/v1/transactions", 5, b"{}", idempotency="abc")
    assert keyed[cp.HEADER_IDEMPOTENCY] == "abc"


@given(st.text(min_size=1, max_size=20), st.binary(max_size=64), st.integers(0, 1000))
def test_idempotency_key_is_stable_and_separates_devices_receipts_and_occurrences(
    device: str, raw: bytes, occurrence: int
) -> None:
    digest = cp.receipt_digest(raw)
    key = cp.idempotency_key(device, digest, occurrence)
    assert key == cp.idempotency_key(device, digest, occurrence)
    assert key != cp.idempotency_key(device + "x", digest, occurrence)
    assert key != cp.idempotency_key(device, cp.receipt_digest(raw + b"\0"), occurrence)
    assert key != cp.idempotency_key(device, digest, occurrence + 1)


def test_nonce_and_idempotency_key_are_covered_by_the_signature() -> None:
    body, path, ts = b"{}", "/v1/transactions", 1_700_000_000
    sig = cp.sign("k", "POST", path, ts, body, "n1", "key-1")
    assert cp.verify("k", "POST", path, ts, body, sig, ts, "n1", "key-1") is None
    assert cp.verify("k", "POST", path, ts, body, sig, ts, "n2", "key-1") == "bad signature"
    assert cp.verify("k", "POST", path, ts, body, sig, ts, "n1", "key-2") == "bad signature"
    headers = cp.signed_headers("dev", "k", "POST", path, ts, body, "key-1", nonce="n1")
    assert headers[cp.HEADER_NONCE] == "n1" and headers[cp.HEADER_SIGNATURE] == sig


@given(
    st.sampled_from(["method", "path", "timestamp", "body", "nonce", "idempotency"]),
    st.text(max_size=8),
    st.binary(max_size=64),
)
def test_changing_any_signed_part_breaks_the_signature(part: str, text: str, body: bytes) -> None:
    parts = {"method": "POST", "path": "/v1/transactions", "timestamp": 1_700_000_000, "body": body,
             "nonce": "n" + text, "idempotency": "k" + text}  # fmt: skip
    sig = cp.sign("secret", **parts)  # type: ignore[arg-type]
    changed = dict(parts)
    changed[part] = {"method": "PUT", "path": "/v1/transactions/", "timestamp": 1_700_000_001, "body": body + b"x",
                     "nonce": "m" + text, "idempotency": "j" + text}[part]  # fmt: skip
    assert cp.sign("secret", **changed) != sig  # type: ignore[arg-type]
    assert cp.verify("secret", signature=sig, now=1_700_000_000, **parts) is None  # type: ignore[arg-type]
