"""Signed image format: round trip, and every kind of damage refused with a precise reason."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.box.firmware import (
    HEADER_SIZE,
    FirmwareHeader,
    FirmwareImage,
    ImageRejected,
    Version,
    build_image,
    key_id,
    target_matches,
    verify,
)
from kelaile_cli.core.errors import InputError

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TRUST = {key_id(KEY.public_key()): KEY.public_key()}
PAYLOAD = hashlib.sha256(b"seed").digest() * 64  # 2 KiB
IMAGE = build_image(PAYLOAD, "1.4.0", KEY, 1_700_000_000, "K1")
DATA = IMAGE.to_bytes()


def test_round_trip_keeps_every_field():
    parsed = FirmwareImage.parse(DATA, "fw.kfw")
    h = parsed.header
    assert (h.target, str(h.version), h.length, h.built) == ("K1", "1.4.0", len(PAYLOAD), 1_700_000_000)
    assert h.sha256 == hashlib.sha256(PAYLOAD).digest() and h.key_id == key_id(KEY.public_key())
    assert parsed.payload == PAYLOAD and len(DATA) == HEADER_SIZE + len(PAYLOAD)
    verify(parsed, TRUST, target="K1-r2", current_version="1.3.9")
    verify(parsed, None)  # intact and signed by the key it carries


def _rejected(data: bytes, trusted=TRUST) -> str:
    """The reason ``data`` is refused (parse error text or verify reason); fails the test if accepted."""
    try:
        verify(FirmwareImage.parse(data, "fw.kfw"), trusted, target="K1-r2")
    except ImageRejected as exc:
        return exc.reason
    except InputError as exc:
        return exc.message
    pytest.fail("a damaged image was accepted")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(DATA) - 1), st.integers(1, 255))
def test_a_changed_byte_anywhere_is_refused(pos, flip):
    data = bytearray(DATA)
    data[pos] ^= flip
    reason = _rejected(bytes(data))
    assert reason  # header fields, signature, hash and payload are all covered


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(DATA) - 1))
def test_truncated_anywhere_is_refused_with_the_offset(cut):
    reason = _rejected(DATA[:cut])
    assert "truncated" in reason or "not a Kelaile firmware image" in reason


def test_precise_messages():
    assert "offset 0: not a Kelaile firmware image" in _rejected(b"PK\x03\x04" + DATA[4:])
    assert "the header alone is 192" in _rejected(DATA[:100])
    assert f"the payload has 10 of {len(PAYLOAD)} bytes" in _rejected(DATA[: HEADER_SIZE + 10])
    assert "4 bytes after the payload" in _rejected(DATA + b"junk")
    tampered = bytearray(DATA)
    tampered[-1] ^= 1
    assert "does not match its SHA-256" in _rejected(bytes(tampered))


def test_resigned_header_without_matching_payload_hash_is_refused():
    h = IMAGE.header
    forged = FirmwareImage(h, PAYLOAD[:-1] + b"\0")  # the hash no longer matches
    assert "SHA-256" in _rejected(forged.to_bytes())


def test_bad_signature_unknown_key_wrong_target():
    sig = bytearray(DATA)
    sig[HEADER_SIZE - 1] ^= 0x40  # inside the signature
    assert _rejected(bytes(sig)) == "bad-signature"
    assert _rejected(bytes(sig), trusted=None) == "bad-signature"
    other = build_image(PAYLOAD, "1.4.0", OTHER, 1_700_000_000).to_bytes()
    assert _rejected(other) == "unknown-key"
    verify(FirmwareImage.parse(other), None)  # valid, just not trusted
    r2 = build_image(PAYLOAD, "1.4.0", KEY, 1, "K2").to_bytes()
    assert _rejected(r2) == "wrong-target"


def test_swapped_public_key_is_refused():
    """An attacker re-signs with their key but claims a trusted key id: the embedded key must match."""
    h = build_image(PAYLOAD, "9.9.9", OTHER, 1).header
    from dataclasses import replace

    forged = replace(h, key_id=key_id(KEY.public_key()))
    with pytest.raises(ImageRejected) as info:
        verify(FirmwareImage(forged, PAYLOAD), TRUST)
    assert info.value.reason == "unknown-key"
    with pytest.raises(ImageRejected) as info:
        verify(FirmwareImage(forged, PAYLOAD), None)
    assert info.value.reason == "bad-signature"


def test_downgrade_refused_unless_allowed():
    parsed = FirmwareImage.parse(DATA)
    with pytest.raises(ImageRejected, match=r"older than the running 1\.10\.0") as info:
        verify(parsed, TRUST, current_version="1.10.0")
    assert info.value.reason == "downgrade"
    verify(parsed, TRUST, current_version="1.10.0", allow_downgrade=True)
    verify(parsed, TRUST, current_version="1.4.0")  # the same version is a reinstall, not a downgrade
    verify(parsed, TRUST, current_version="1.4.0-rc.1")  # a release is newer than its pre-release


def test_target_family_matching():
    assert target_matches("K1", "K1-r2") and target_matches("K1-r2", "K1-r2") and target_matches("K1", "K1")
    assert not target_matches("K1-r2", "K1-r3") and not target_matches("K1", "K10")


def test_version_parsing_and_precedence():
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11"]
    order += ["1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"]
    parsed = [Version.parse(v) for v in order]
    assert parsed == sorted(parsed) and [str(v) for v in parsed] == order
    for bad in ("1.4", "01.2.3", "1.2.3.4", "v1.2.3", "1.2.3-", "12345.12345.12345"):
        with pytest.raises(InputError):
            Version.parse(bad)


@given(st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)), st.tuples(*[st.integers(0, 99)] * 3))
def test_version_order_is_numeric(a, b):
    va, vb = Version.parse(".".join(map(str, a))), Version.parse(".".join(map(str, b)))
    assert (va < vb) == (a < b) and (va == vb) == (a == b)


def test_header_alone_parses_for_the_box():
    h = FirmwareHeader.parse(DATA[:HEADER_SIZE], "FLASH_BEGIN")
    assert h == IMAGE.header and h.to_bytes() == DATA[:HEADER_SIZE]


def test_build_refuses_bad_input():
    with pytest.raises(InputError, match="payload is empty"):
        build_image(b"", "1.0.0", KEY, 0)
    with pytest.raises(InputError, match="target"):
        build_image(b"x", "1.0.0", KEY, 0, "K 1")
    with pytest.raises(InputError, match=r"not MAJOR\.MINOR\.PATCH"):
        build_image(b"x", "1.0", KEY, 0)
