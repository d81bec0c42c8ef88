"""A cache of validated profiles keyed by file content, so a start with many profiles skips YAML and validation.

Each profile file is read and hashed (SHA-256 of its bytes) on every load; a file whose hash is in the cache
gets the profile validated when that content was first seen, any other file is parsed and validated and
added. A changed, added or removed file is therefore seen at once — the cache can be slow to help, never
stale. The cache is one pickle under ``$KLX_CACHE_DIR`` (default ``$XDG_CACHE_HOME/klx``, else
``~/.cache/klx``), named after the klx version and a fingerprint of the profile model's source, written
atomically; a cache that cannot be read (corrupt, from another version) is ignored and one that cannot be
written (read-only home) is skipped. Each profile is pickled on its own inside it and unpickled only when a
load asks for it, so a cache that also holds hundreds of other folders' profiles costs a small load little. ``KLX_CACHE_DIR=off`` turns it off. A cache file not owned by the
user, or writable by others, is ignored (it is a pickle: loading it runs code).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kelaile_cli.core.profiles.profile import Profile

__all__ = ["ENV_CACHE_DIR", "ProfileCache", "cache_dir"]

ENV_CACHE_DIR = "KLX_CACHE_DIR"
#: the layout of the file (a dict of per-profile pickles); a new layout gets a new file name
_FORMAT = "b"
#: entries kept beyond the ones used by the current load, so switching profile folders does not thrash
_KEEP = 4096


def cache_dir() -> Path | None:
    """Where klx caches (``None``: caching is off)."""
    chosen = os.environ.get(ENV_CACHE_DIR)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "klx"


def _fingerprint() -> str:
    """Changes whenever the meaning of a cached profile could: klx version, Python, the model's source."""
    from kelaile_cli import __version__
    from kelaile_cli.core.profiles import extract, profile

    digest = hashlib.sha256(f"{__version__}|{sys.version_info[:2]}".encode())
    for module in (profile, extract):
        with contextlib.suppress(OSError, TypeError):
            digest.update(Path(module.__file__ or "").with_suffix(".py").read_bytes())
    return digest.hexdigest()[:16]


class ProfileCache:
    """Validated profiles by the SHA-256 of their file's bytes; ``save()`` writes it back if it changed."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else cache_dir()
        self.path = self.directory / f"profiles-{_FORMAT}-{_fingerprint()}.pickle" if self.directory else None
        self._entries: dict[str, bytes] = {}  # key -> that profile's own pickle
        self._loaded: dict[str, Profile] = {}
        self._used: set[str] = set()
        self._dirty = False
        self.hits = self.misses = 0
        if self.path is not None:
            self._entries = self._read(self.path)

    @staticmethod
    def _read(path: Path) -> dict[str, bytes]:
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                if st.st_uid != os.getuid() or st.st_mode & 0o022:
                    return {}  # a pickle someone else could have written is never loaded
                data = pickle.load(f)
        except FileNotFoundError:
            return {}
        except Exception:  # corrupt, truncated, from another klx: start again
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, bytes) for v in data.values()):
            return {}
        return data

    @staticmethod
    def key(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def get(self, key: str) -> Profile | None:
        """The profile validated from content with this key, if cached."""
        profile = self._loaded.get(key) or self._unpickle(key)
        if profile is None:
            self.misses += 1
        else:
            self.hits += 1
            self._used.add(key)
        return profile

    def _unpickle(self, key: str) -> Profile | None:
        """The entry's profile (``None``, and the entry dropped, when it is missing or does not load)."""
        from kelaile_cli.core.profiles.profile import Profile

        blob = self._entries.get(key)
        if blob is None:
            return None
        try:
            profile = pickle.loads(blob)
        except Exception:  # a corrupt entry: parse the file again
            profile = None
        if not isinstance(profile, Profile):
            del self._entries[key]
            self._dirty = True
            return None
        self._loaded[key] = profile
        return profile

    def put(self, key: str, profile: Profile) -> None:
        self._entries[key] = pickle.dumps(profile, protocol=pickle.HIGHEST_PROTOCOL)
        self._loaded[key] = profile
        self._used.add(key)
        self._dirty = True

    def save(self) -> None:
        """Write the cache back (atomically) if anything was added; silently skipped when it cannot be written."""
        if self.path is None or not self._dirty:
            return
        entries = self._entries
        if len(entries) > len(self._used) + _KEEP:
            entries = {k: v for k, v in entries.items() if k in self._used}
        import tempfile  # only when writing: a warm start never imports it

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".profiles-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(entries, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, pickle.PicklingError):
            return
        self._dirty = False
