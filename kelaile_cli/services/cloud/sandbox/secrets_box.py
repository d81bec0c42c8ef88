"""Device secrets at rest: sealed with a server key kept in a separate 0600 file.

The cloud must hold each device's HMAC key to verify its signatures, so the key cannot be hashed
away like a password. It is stored sealed instead — AES-256-GCM under the server key, with the device
id as associated data (a sealed secret moved to another device's row does not open) — as
``v1:<base64(nonce ‖ ciphertext)>``. A copy of the database alone gives no secret away; the server key
lives beside it (``<db>.key`` by default, or ``--key-file`` on other storage) and both files are
created 0600, never through a symlink.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kelaile_cli.core.errors import InputError

__all__ = ["SEALED_PREFIX", "SecretBox", "load_or_create_key", "private_file"]

SEALED_PREFIX = "v1:"
_KEY_BYTES = 32
_NONCE_BYTES = 12


def private_file(path: Path, *, create: bool = True) -> None:
    """Make ``path`` a regular file readable by its owner only: created 0600 if missing (``create``),
    tightened to 0600 if it exists; a symlink in its place is refused."""
    try:
        if path.is_symlink():
            raise InputError(f"{path}: is a symbolic link; refusing to use it for cloud data",
                             remedy="give the real path")  # fmt: skip
        if create:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        if path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
            os.chmod(path, 0o600, follow_symlinks=False)
    except OSError as exc:
        raise InputError(f"{path}: cannot make it private ({exc.strerror or exc})",
                         remedy="pick a --db path you own") from None  # fmt: skip


def load_or_create_key(path: Path) -> bytes:
    """The server key in ``path`` (64 hex digits), created 0600 with a fresh random key if missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise InputError(f"{path}: cannot create the server key ({exc.strerror or exc})") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(_KEY_BYTES) + "\n")
    private_file(path, create=False)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, encoding="ascii") as fh:
            text = fh.read(4 * _KEY_BYTES).strip()
        key = bytes.fromhex(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the server key ({exc.strerror or exc})") from None
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise InputError(f"{path}: not a server key (want {2 * _KEY_BYTES} hex digits)",
                         remedy="restore the key file that belongs to this database")  # fmt: skip
    return key


class SecretBox:
    """Seals and opens device secrets under one server key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, device_id: str, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), device_id.encode())
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, device_id: str, stored: str) -> str | None:
        """The plain secret, or ``None`` when ``stored`` is not sealed under this key for this device."""
        if not stored.startswith(SEALED_PREFIX):
            return None
        try:
            raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX), validate=True)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], device_id.encode()).decode()
        except (ValueError, InvalidTag, UnicodeDecodeError):
            return None
