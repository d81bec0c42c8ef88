"""Signed firmware images (``.kfw``): a fixed 160-byte header, then the payload. Pure: no files, no clock.

Header (little-endian, docs/firmware-image.md)::

    magic      4s   b"KFWI"
    format     u16  FORMAT_VERSION
    hdr_len    u16  HEADER_SIZE (160)
    target     16s  hardware id, ASCII, NUL-padded ("K1" matches every K1 revision, "K1-r2" only that one)
    version    16s  firmware version, semver MAJOR.MINOR.PATCH[-PRE], ASCII, NUL-padded
    length     u64  payload length
    sha256     32s  SHA-256 of the payload
    built      u64  build time, Unix seconds (given by the builder, not read here)
    key_id     8s   first 8 bytes of SHA-256 of the raw 32-byte Ed25519 public key
    public_key 32s  the signer's raw Ed25519 public key
    signature  64s  Ed25519 signature over the 128 bytes above

The signature covers the payload through its hash, so a box can check the header alone (``FLASH_BEGIN``)
before a single payload byte arrives, and the payload hash once the slot is written. The signer's public
key travels with the image so any host can check that the image is intact and signed (``verify`` without
trusted keys); the box (and ``verify`` with trusted keys) also requires that key to be one it trusts.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import total_ordering

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kelaile_cli.core.errors import InputError

__all__ = [
    "DEFAULT_TARGET",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAGIC",
    "FirmwareHeader",
    "FirmwareImage",
    "ImageRejected",
    "Version",
    "build_image",
    "key_id",
    "target_matches",
    "verify",
    "verify_header",
]

MAGIC = b"KFWI"
FORMAT_VERSION = 1
DEFAULT_TARGET = "K1"
_SIGNED = struct.Struct("<4sHH16s16sQ32sQ8s32s")
SIG_SIZE = 64
HEADER_SIZE = _SIGNED.size + SIG_SIZE
_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?")
_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}")


class ImageRejected(InputError):  # noqa: N818  (a verdict, named like Refused)
    """An image that parses but must not be installed; ``reason`` is a short machine word."""

    def __init__(self, reason: str, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message, remedy=remedy)
        self.reason = reason


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A semantic version (semver 2.0 precedence; build metadata is not supported)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.fullmatch(text)
        if m is None or len(text) > 16:
            raise InputError(f"version {text!r} is not MAJOR.MINOR.PATCH[-PRE] (at most 16 characters)")
        return cls(int(m[1]), int(m[2]), int(m[3]), tuple(m[4].split(".")) if m[4] else ())

    def _key(self) -> tuple:
        # a release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, not self.pre, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}.{self.patch}"
        return f"{base}-{'.'.join(self.pre)}" if self.pre else base


def key_id(public: Ed25519PublicKey) -> bytes:
    """The 8-byte fingerprint of a public key carried in headers."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8]


def target_matches(target: str, hardware: str) -> bool:
    """``K1`` fits hardware ``K1`` and every revision ``K1-rN``; ``K1-r2`` fits only ``K1-r2``."""
    return hardware == target or hardware.startswith(target + "-")


def _text(raw: bytes, what: str, name: str) -> str:
    try:
        return raw.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise InputError(f"{name}: header field '{what}' is not ASCII", remedy="the file is damaged") from None


@dataclass(frozen=True, slots=True)
class FirmwareHeader:
    target: str
    version: Version
    length: int
    sha256: bytes
    built: int
    key_id: bytes
    public_key: bytes = b"\0" * 32
    signature: bytes = b"\0" * SIG_SIZE
    format: int = FORMAT_VERSION

    def signed_bytes(self) -> bytes:
        return _SIGNED.pack(
            MAGIC,
            self.format,
            HEADER_SIZE,
            self.target.encode("ascii"),
            str(self.version).encode("ascii"),
            self.length,
            self.sha256,
            self.built,
            self.key_id,
            self.public_key,
        )

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature

    @classmethod
    def parse(cls, data: bytes, name: str = "image") -> FirmwareHeader:
        """The header at the start of ``data``; ``InputError`` naming the offset of what is wrong."""
        if len(data) < 4 or data[:4] != MAGIC:
            raise InputError(
                f"{name}: offset 0: not a Kelaile firmware image (magic {data[:4]!r}, expected {MAGIC!r})",
                remedy="build one with `klx firmware build`",
            )
        if len(data) < HEADER_SIZE:
            raise InputError(
                f"{name}: truncated: {len(data)} bytes, the header alone is {HEADER_SIZE}",
                remedy="copy the file again",
            )
        _magic, fmt, hdr_len, target, version, length, sha, built, kid, pub = _SIGNED.unpack_from(data)
        if fmt != FORMAT_VERSION or hdr_len != HEADER_SIZE:
            raise InputError(
                f"{name}: offset 4: image format {fmt} (header {hdr_len} bytes); this klx reads format "
                f"{FORMAT_VERSION}",
                remedy="update klx",
            )
        target_s = _text(target, "target", name)
        if not _TARGET.fullmatch(target_s):
            raise InputError(f"{name}: offset 8: bad target hardware id {target_s!r}", remedy="the file is damaged")
        try:
            ver = Version.parse(_text(version, "version", name))
        except InputError as exc:
            raise InputError(f"{name}: offset 24: {exc.message}", remedy="the file is damaged") from None
        sig = bytes(data[_SIGNED.size : HEADER_SIZE])
        return cls(target_s, ver, length, sha, built, kid, pub, sig, fmt)

    def signed_by(self, private: Ed25519PrivateKey) -> FirmwareHeader:
        """This header with ``private``'s key id and signature."""
        public = private.public_key()
        unsigned = replace(self, key_id=key_id(public), public_key=public.public_bytes(Encoding.Raw, PublicFormat.Raw))
        return replace(unsigned, signature=private.sign(unsigned.signed_bytes()))


@dataclass(frozen=True, slots=True)
class FirmwareImage:
    header: FirmwareHeader
    payload: bytes

    def to_bytes(self) -> bytes:
        return self.header.to_bytes() + self.payload

    @classmethod
    def parse(cls, data: bytes, name: str = "image") -> FirmwareImage:
        """Header, length and payload hash checked; the signature is ``verify``'s job (it needs keys)."""
        header = FirmwareHeader.parse(data, name)
        have = len(data) - HEADER_SIZE
        if have < header.length:
            raise InputError(
                f"{name}: truncated at offset {len(data)}: the payload has {have} of {header.length} bytes",
                remedy="copy the file again",
            )
        if have > header.length:
            raise InputError(
                f"{name}: offset {HEADER_SIZE + header.length}: {have - header.length} bytes after the payload "
                f"(the header says {header.length})",
                remedy="the file is damaged or not a single image",
            )
        payload = bytes(data[HEADER_SIZE:])
        if hashlib.sha256(payload).digest() != header.sha256:
            raise InputError(
                f"{name}: payload (offset {HEADER_SIZE}..{len(data)}) does not match its SHA-256: altered or damaged",
                remedy="get the image again from its builder",
            )
        return cls(header, payload)


def build_image(
    payload: bytes, version: str, private: Ed25519PrivateKey, built: int, target: str = DEFAULT_TARGET
) -> FirmwareImage:
    """A signed image of ``payload`` (``built``: Unix seconds, from the caller's clock)."""
    if not _TARGET.fullmatch(target):
        raise InputError(f"target {target!r}: 1-16 letters, digits, '.', '_' or '-'", remedy="e.g. K1 or K1-r2")
    if not payload:
        raise InputError("the payload is empty", remedy="give the firmware binary to package")
    header = FirmwareHeader(
        target=target,
        version=Version.parse(version),
        length=len(payload),
        sha256=hashlib.sha256(payload).digest(),
        built=built,
        key_id=b"\0" * 8,
    )
    return FirmwareImage(header.signed_by(private), payload)


def verify_header(
    header: FirmwareHeader,
    trusted: Mapping[bytes, Ed25519PublicKey] | None,
    target: str | None = None,
    current_version: str | None = None,
    allow_downgrade: bool = False,
    name: str = "image",
) -> None:
    """Refuse (``ImageRejected``) an unknown key, a bad signature, another target or a downgrade.

    ``trusted`` maps key ids to public keys (None: any signer, checked against the key the header
    carries — proves the image intact, not who made it); ``target`` is the box's hardware id and
    ``current_version`` the version it runs (None: not checked)."""
    kid = header.key_id.hex()
    embedded = header.public_key
    if trusted is None:
        try:
            public = Ed25519PublicKey.from_public_bytes(embedded)
        except ValueError:
            raise ImageRejected("bad-signature", f"{name}: the header's public key is malformed") from None
        if key_id(public) != header.key_id:
            raise ImageRejected("bad-signature", f"{name}: key id {kid} is not the fingerprint of the header's key")
    else:
        found = trusted.get(header.key_id)
        if found is None or found.public_bytes(Encoding.Raw, PublicFormat.Raw) != embedded:
            raise ImageRejected(
                "unknown-key",
                f"{name}: signed by key {kid}, which is not trusted ({len(trusted)} trusted key(s))",
                remedy="sign it with a trusted key, or trust its public key (--trust DIR)",
            )
        public = found
    try:
        public.verify(header.signature, header.signed_bytes())
    except InvalidSignature:
        raise ImageRejected(
            "bad-signature",
            f"{name}: the header's signature (key {kid}) is not valid: the image was altered after signing",
            remedy="get the image again from its builder",
        ) from None
    if target is not None and not target_matches(header.target, target):
        raise ImageRejected(
            "wrong-target",
            f"{name}: built for hardware {header.target}, this box is {target}",
            remedy="build the image with --target for this hardware",
        )
    if current_version is not None and not allow_downgrade:
        try:
            current = Version.parse(current_version)
        except InputError:
            return  # a box reporting a non-semver version cannot be downgraded from
        if header.version < current:
            raise ImageRejected(
                "downgrade",
                f"{name}: version {header.version} is older than the running {current}",
                remedy="pass --allow-downgrade if you mean it",
            )


def verify(
    image: FirmwareImage,
    trusted: Mapping[bytes, Ed25519PublicKey] | None,
    target: str | None = None,
    current_version: str | None = None,
    allow_downgrade: bool = False,
    name: str = "image",
) -> None:
    """``verify_header`` for a whole image (its payload hash was checked by ``FirmwareImage.parse``)."""
    verify_header(image.header, trusted, target, current_version, allow_downgrade, name)
