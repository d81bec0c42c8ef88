"""The device ↔ cloud contract, pure: request signing, idempotency keys, paths and headers.

Shared by the sandbox cloud (which verifies), the box emulator and ``klx replay`` (which sign).
No I/O and no clock: callers pass the timestamp in.

A device request carries these headers::

    X-Klx-Device:      the device id returned by the claim
    X-Klx-Timestamp:   Unix seconds (integer) when the request was signed
    X-Klx-Nonce:       a fresh random string per attempt (optional, but see below)
    X-Klx-Signature:   hex HMAC-SHA256(secret, canonical_request(...))
    Idempotency-Key:   on transaction ingest only: idempotency_key(...)

``canonical_request`` is ``METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n IDEMPOTENCY-KEY \\n hex SHA-256(body)``
(an absent nonce or key is the empty string); the path includes the query string if any. The cloud
refuses a signature older or newer than ``MAX_SKEW_S`` and a signature it has already seen (replay).
Because of that, a retry of the same request within the same second must carry a new nonce, or it
is refused as replayed: the nonce is what makes every attempt's signature unique. Covering the
idempotency key means a captured request cannot be re-sent under another key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

__all__ = [
    "API_PREFIX",
    "HEADER_DEVICE",
    "HEADER_IDEMPOTENCY",
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "MAX_SKEW_S",
    "PAYMENT_METHODS",
    "RECEIPT_KINDS",
    "SignedHeaders",
    "body_digest",
    "canonical_request",
    "idempotency_key",
    "parse_timestamp",
    "receipt_digest",
    "sign",
    "signed_headers",
    "verify",
]

API_PREFIX = "/v1"
HEADER_DEVICE = "X-Klx-Device"
HEADER_TIMESTAMP = "X-Klx-Timestamp"
HEADER_SIGNATURE = "X-Klx-Signature"
HEADER_IDEMPOTENCY = "Idempotency-Key"
HEADER_NONCE = "X-Klx-Nonce"
MAX_SKEW_S = 300
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds up to the year 33658: anything longer is not a timestamp
RECEIPT_KINDS = ("sale", "refund", "pre_bill", "kitchen", "shift_report", "other")
PAYMENT_METHODS = ("cash", "card", "mobile", "wechat", "alipay", "unionpay", "other")


def body_digest(body: bytes) -> str:
    """Hex SHA-256 of a request body (of ``b""`` for a request without one)."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str, path: str, timestamp: int, body: bytes, nonce: str = "", idempotency: str | None = None
) -> bytes:
    """The exact bytes a signature covers."""
    return f"{method.upper()}\n{path}\n{int(timestamp)}\n{nonce}\n{idempotency or ''}\n{body_digest(body)}".encode()


def sign(
    secret: str, method: str, path: str, timestamp: int, body: bytes, nonce: str = "", idempotency: str | None = None
) -> str:
    """Hex HMAC-SHA256 of the canonical request under the device secret."""
    message = canonical_request(method, path, timestamp, body, nonce, idempotency)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_timestamp(text: str) -> int | None:
    """``X-Klx-Timestamp`` as Unix seconds, or ``None`` unless it is 1–12 ASCII digits (no sign, no spaces)."""
    if not (0 < len(text) <= MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        return None
    return int(text)


def verify(
    secret: str,
    method: str,
    path: str,
    timestamp: int,
    body: bytes,
    signature: str,
    now: float,
    nonce: str = "",
    idempotency: str | None = None,
) -> str | None:
    """``None`` when the signature is good and fresh, else the reason it is refused."""
    if abs(now - int(timestamp)) > MAX_SKEW_S:
        return "stale timestamp"
    expected = sign(secret, method, path, timestamp, body, nonce, idempotency)
    if not hmac.compare_digest(expected, signature.lower()):
        return "bad signature"
    return None


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    device: str
    timestamp: int
    signature: str
    idempotency_key: str | None = None
    nonce: str = ""

    def as_dict(self) -> dict[str, str]:
        headers = {HEADER_DEVICE: self.device, HEADER_TIMESTAMP: str(self.timestamp), HEADER_SIGNATURE: self.signature}
        if self.nonce:
            headers[HEADER_NONCE] = self.nonce
        if self.idempotency_key is not None:
            headers[HEADER_IDEMPOTENCY] = self.idempotency_key
        return headers


def signed_headers(
    device_id: str,
    secret: str,
    method: str,
    path: str,
    timestamp: int,
    body: bytes,
    idempotency: str | None = None,
    nonce: str = "",
) -> dict[str, str]:
    """All headers of a signed device request (pass a fresh ``nonce`` per attempt; see the module notes)."""
    signature = sign(secret, method, path, timestamp, body, nonce, idempotency)
    return SignedHeaders(device_id, int(timestamp), signature, idempotency, nonce).as_dict()


def receipt_digest(raw: bytes) -> str:
    """Hex SHA-256 of a receipt's raw print bytes: what the device hashes to recognise a re-print."""
    return hashlib.sha256(raw).hexdigest()


def idempotency_key(device_id: str, receipt_sha256: str, occurrence: int = 0) -> str:
    """The key a device derives for one upload; retries of the same upload reuse it.

    ``occurrence`` tells apart distinct printings of byte-identical receipts (a replay loop's pass,
    a re-printed copy the device chose to count); it is 0 for the first.
    """
    material = f"{device_id}\n{receipt_sha256}\n{int(occurrence)}".encode()
    return hashlib.sha256(material).hexdigest()[:32]
