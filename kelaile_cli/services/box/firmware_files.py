"""Firmware files: signing keys (PEM), trusted key directories, and reading/writing ``.kfw`` images.

Keys are Ed25519 in PEM: ``firmware.key`` (PKCS#8, unencrypted, mode 0600) and ``firmware.pub``
(SubjectPublicKeyInfo) — the formats ``openssl pkey`` reads, so a key can be inspected or made with
standard tools. A trust directory holds any number of ``*.pub`` files.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from kelaile_cli.core.box.firmware import DEFAULT_TARGET, FirmwareImage, build_image, key_id, verify
from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.files import write_atomic

__all__ = [
    "PRIVATE_NAME",
    "PUBLIC_NAME",
    "KeyPair",
    "build_file",
    "image_info",
    "keygen",
    "load_signing_key",
    "load_trusted",
    "read_image",
    "sign_file",
    "verify_file",
]

PRIVATE_NAME = "firmware.key"
PUBLIC_NAME = "firmware.pub"


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    key_id: str


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def keygen(out: Path, force: bool = False) -> KeyPair:
    """A new signing key in ``out``; refuses to overwrite an existing key unless ``force``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the key directory ({exc.strerror or exc})") from None
    private_path, public_path = out / PRIVATE_NAME, out / PUBLIC_NAME
    if private_path.exists() and not force:
        raise InputError(
            f"{private_path}: a key is already there", remedy="use another --out, or --force to replace it"
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:  # 0600 even over an older, wider file; a symbolic link in its place is replaced, never followed
        write_atomic(private_path, pem, private=True)
    except OSError as exc:
        raise InputError(f"{private_path}: cannot write ({exc.strerror or exc})") from None
    _write(public_path, key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return KeyPair(private_path, public_path, key_id(key.public_key()).hex())


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path`` (a ``firmware.key`` file or the directory holding it)."""
    if path.is_dir():
        path = path / PRIVATE_NAME
    data = _read(path, "private key")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: not an unencrypted PEM private key ({exc})", remedy="make one: klx firmware keygen"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key", remedy="make one: klx firmware keygen")
    return key


def _public(path: Path) -> Ed25519PublicKey:
    data = _read(path, "public key")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a PEM public key ({exc})", remedy="use the .pub file keygen wrote") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: not an Ed25519 public key", remedy="use the .pub file keygen wrote")
    return key


def load_trusted(path: Path) -> dict[bytes, Ed25519PublicKey]:
    """Key id → public key for ``path``: one ``.pub`` file or every ``*.pub`` in a directory."""
    if not path.exists():
        raise InputError(f"{path}: no such key file or directory", remedy="give the directory keygen wrote")
    files = sorted(path.glob("*.pub")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no *.pub public key in this directory", remedy="copy the firmware.pub of the signer")
    return {key_id(k): k for k in map(_public, files)}


def read_image(path: Path) -> FirmwareImage:
    return FirmwareImage.parse(_read(path, "firmware image"), str(path))


def build_file(
    payload: Path, version: str, key: Path, out: Path, target: str = DEFAULT_TARGET, built: int | None = None
) -> FirmwareImage:
    """Sign ``payload`` into the image ``out``; ``built`` defaults to now (or SOURCE_DATE_EPOCH)."""
    data = _read(payload, "payload")
    private = load_signing_key(key)
    if built is None:
        built = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    image = build_image(data, version, private, built, target)
    _write(out, image.to_bytes())
    return image


def sign_file(path: Path, key: Path, out: Path | None = None) -> FirmwareImage:
    """Re-sign an existing image with ``key`` (e.g. a release key after a CI build), in place or to ``out``."""
    image = read_image(path)
    signed = FirmwareImage(image.header.signed_by(load_signing_key(key)), image.payload)
    _write(out or path, signed.to_bytes())
    return signed


def verify_file(
    path: Path, trust: Path, target: str | None = None, current: str | None = None, allow_downgrade: bool = False
) -> FirmwareImage:
    """Parse and verify ``path`` against the keys in ``trust``; ``ImageRejected``/``InputError`` say why not."""
    image = read_image(path)
    verify(image, load_trusted(trust), target, current, allow_downgrade, str(path))
    return image


def image_info(image: FirmwareImage) -> dict[str, Any]:
    h = image.header
    return {
        "format": h.format,
        "target": h.target,
        "version": str(h.version),
        "length": h.length,
        "sha256": h.sha256.hex(),
        "built": h.built,
        "built_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h.built)),
        "key_id": h.key_id.hex(),
    }
