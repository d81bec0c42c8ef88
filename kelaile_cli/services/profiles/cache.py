"""Two caches that let a start with many profiles skip YAML, validation and most of the unpickling.

``RulesCache``: what detection needs of a whole profile set (``ProfileRules`` of every profile, which file
each id came from, the errors and overrides of the load) in one marshal file of plain tuples per list of
profile directories, keyed by every profile file's path, size, mtime, ctime and inode. A start whose files
all stat as recorded reads that one file and builds no model at all (``library.load_detection``). The ctime
cannot be set by a user, so an edit is seen even when size and mtime are restored; a file changed within
``RACY_NS`` of the cache being written (when a second edit could share its timestamp) is recorded with its
digest and re-hashed on every load until it is older (git's "racily clean" rule). Anything else (an added,
removed or changed file, another klx, a corrupt or untrusted cache file) rebuilds the set from the files.

``ProfileCache``: validated profiles keyed by file content, for the profiles a command needs in full.

Each profile file is read and hashed (BLAKE2b-256 of its bytes, ``_digest``) on every load; a file whose hash is in the cache
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
import marshal
import os
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kelaile_cli.core.profiles.profile import Profile

__all__ = ["ENV_CACHE_DIR", "RACY_NS", "ProfileCache", "RulesCache", "cache_dir", "profile_files"]

ENV_CACHE_DIR = "KLX_CACHE_DIR"
#: the layout of the file (a dict of per-profile pickles); a new layout gets a new file name
_FORMAT = "c"
#: entries kept beyond the ones used by the current load, so switching profile folders does not thrash
_KEEP = 4096


def cache_dir() -> Path | None:
    """Where klx caches (``None``: caching is off)."""
    chosen = os.environ.get(ENV_CACHE_DIR)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "klx"


#: a file whose ctime is this close to the writing of the rules cache is also checked by content
RACY_NS = 2_000_000_000
#: the layout of the rules cache; a new layout gets a new file name
_RULES_FORMAT = "r2"


def _digest(data: bytes) -> str:
    """A 256-bit digest of ``data`` in hex, keying profile contents: BLAKE2b from CPython's built-in
    ``_blake2`` (``hashlib`` would load OpenSSL, ~4 % of a ``klx parse`` start), else SHA-256. The
    cache files are per Python version (``_fingerprint``), so one file never mixes the two."""
    try:
        from _blake2 import blake2b
    except ImportError:  # a Python built without it
        import hashlib

        return hashlib.sha256(data).hexdigest()
    return blake2b(data, digest_size=32).hexdigest()


def _checksum(data: bytes) -> str:
    """A 64-bit checksum of ``data`` in hex (CRC-32 and Adler-32): names a cache file after what it
    depends on. Not a security measure (a cache file is trusted by its owner and mode, ``_trusted``);
    a collision would only make two keys share one file, each rebuilding it in turn."""
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _fingerprint(*modules: str) -> str:
    """Changes whenever the meaning of a cached entry could: klx version, Python, the sources of ``modules``
    (read as files next to the package, so computing it imports nothing)."""
    import kelaile_cli

    parts = [f"{kelaile_cli.__version__}|{sys.version_info[:2]}".encode()]
    package = Path(kelaile_cli.__file__).parent
    for module in modules:
        with contextlib.suppress(OSError):
            parts.append((package / "core" / "profiles" / f"{module}.py").read_bytes())
    return _checksum(b"\0".join(parts))


def _trusted(fd: int) -> bool:
    """A cache file is used only when it is the user's own and nobody else can write it."""
    st = os.fstat(fd)
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _write_atomic(path: Path, data: bytes, prefix: str) -> bool:
    """Replace ``path`` with ``data`` (0600, via a temporary file); False when it cannot be written."""
    import tempfile  # only when writing: a warm start never imports it

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    return True


def profile_files(directory: Path) -> list[str] | None:
    """The names of the profile files (``*.yaml``, ``*.yml``) in ``directory``, sorted; None if it is not one."""
    try:
        with os.scandir(directory) as entries:
            return sorted(e.name for e in entries if e.name.endswith((".yaml", ".yml")))
    except OSError:
        return None


#: one file as a rules-cache key sees it: (name, size, mtime_ns, ctime_ns, inode, device); None: cannot stat
_FileStat = tuple[str, int, int, int, int, int] | tuple[str, None]


def _stat(directory: str, name: str) -> _FileStat:
    try:
        st = os.stat(os.path.join(directory, name))
    except OSError:
        return (name, None)
    return (name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def snapshot(directories: Sequence[str]) -> tuple[tuple[str, tuple[_FileStat, ...] | None], ...]:
    """Every profile directory with the stat of each profile file in it (None: not a directory)."""
    out = []
    for directory in directories:
        names = profile_files(Path(directory))
        out.append((directory, None if names is None else tuple(_stat(directory, n) for n in names)))
    return tuple(out)


class RulesCache:
    """The detection rules of one profile set (one list of directories), valid while its files stat the same.

    ``load()`` gives the stored payload (plain tuples, see ``library.load_detection``) or None; ``save()``
    stores a payload built from the files as they were at ``load()``.
    """

    def __init__(self, directories: Sequence[str | Path], directory: Path | None = None) -> None:
        self.directories = [os.path.abspath(d) for d in directories]
        self.directory = directory if directory is not None else cache_dir()
        # the folders as given too: the payload names files as the load did (relative to the cwd, if given so)
        spelt = [*map(str, directories), *self.directories]
        name = _checksum("\0".join(spelt).encode())
        self.path = (
            self.directory
            / f"detect-{_RULES_FORMAT}-{_fingerprint('profile', 'extract', 'schema', 'detect')}-{name}.marshal"
            if self.directory
            else None
        )
        self.seen: tuple[Any, ...] | None = None  # the snapshot taken by load()

    def load(self) -> Any | None:
        """The payload stored for the files as they are now, or None (then ``save`` after building it)."""
        self.seen = snapshot(self.directories)
        if self.path is None:
            return None
        try:
            with self.path.open("rb") as f:
                if not _trusted(f.fileno()):
                    return None  # not ours, or writable by others: never trusted
                stored, digests, payload = marshal.loads(f.read())
            if stored != self.seen or not isinstance(digests, dict):
                return None
            for path, digest in digests.items():
                with open(path, "rb") as profile:
                    if _digest(profile.read()) != digest:
                        return None
        except Exception:  # missing, corrupt, truncated, another layout, a file gone: build again
            return None
        if digests:
            self._settle(digests, payload)
        return payload

    def save(self, payload: Any, digests: dict[str, str]) -> None:
        """Store ``payload`` (built from the files seen by ``load``) if the files did not change meanwhile.

        ``digests``: the digest (``_digest``) of each file's content as it was read for the payload (path -> hex).
        """
        if self.path is None or self.seen is None or snapshot(self.directories) != self.seen:
            return  # a file changed while the set was built: do not record a snapshot it does not match
        racy = self._racy()
        digests = {os.path.abspath(path): digest for path, digest in digests.items()}
        if any(path not in digests for path in racy):
            return  # a recent file that could not be read: nothing to check it against later
        data = marshal.dumps((self.seen, {p: digests[p] for p in racy}, payload))
        _write_atomic(self.path, data, ".detect-")

    def _racy(self) -> list[str]:
        """The files changed so recently that a later edit could leave their stat unchanged."""
        now = time.time_ns()
        return [
            os.path.join(directory, entry[0])
            for directory, entries in self.seen or ()
            for entry in entries or ()
            if entry[1] is None or entry[3] > now - RACY_NS
        ]

    def _settle(self, digests: dict[str, str], payload: Any) -> None:
        """Rewrite the cache without the content checks of files that are no longer recent."""
        racy = self._racy()
        if len(racy) < len(digests):
            self.save(payload, digests)


class ProfileCache:
    """Validated profiles by the digest of their file's bytes; ``save()`` writes it back if it changed."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else cache_dir()
        self.path = (
            self.directory / f"profiles-{_FORMAT}-{_fingerprint('profile', 'extract', 'schema')}.pickle"
            if self.directory
            else None
        )
        self._entries: dict[str, bytes] = {}  # key -> that profile's own pickle
        self._loaded: dict[str, Profile] = {}
        self._used: set[str] = set()
        self._dirty = False
        self.hits = self.misses = 0
        if self.path is not None:
            self._entries = self._read(self.path)

    @staticmethod
    def _read(path: Path) -> dict[str, bytes]:
        import pickle  # only a command that builds a full profile reads this cache

        try:
            with path.open("rb") as f:
                if not _trusted(f.fileno()):
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
        return _digest(content)

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
        import pickle

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
        import pickle

        self._entries[key] = pickle.dumps(profile, protocol=pickle.HIGHEST_PROTOCOL)
        self._loaded[key] = profile
        self._used.add(key)
        self._dirty = True

    def save(self) -> None:
        """Write the cache back (atomically) if anything was added; silently skipped when it cannot be written."""
        if self.path is None or not self._dirty:
            return
        import pickle

        entries = self._entries
        if len(entries) > len(self._used) + _KEEP:
            entries = {k: v for k, v in entries.items() if k in self._used}
        try:
            data = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)
        except pickle.PicklingError:
            return
        if _write_atomic(self.path, data, ".profiles-"):
            self._dirty = False
