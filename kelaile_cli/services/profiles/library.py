"""Finding and loading profiles: the bundled set, ``--profiles DIR`` and ``KLX_PROFILES_PATH``.

Validated profiles come from a cache keyed by each file's content (``services.profiles.cache``): with
hundreds of profiles a start reads and hashes the files but parses only the new or changed ones.
``load_detection`` is lighter still, for commands that only detect (``klx parse``): the detection rules
of the whole set come from one cached file while the files stat as recorded, and the full profile is
built only for a receipt's winner.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import DEFAULT_THRESHOLD, Detector, ProfileRules
from kelaile_cli.services.profiles.cache import ProfileCache, RulesCache, profile_files

if TYPE_CHECKING:  # the profile model (and the extraction it imports) is loaded only to build a profile
    from kelaile_cli.core.profiles.profile import Profile, ProfileError

__all__ = ["ENV_PATH", "DetectionSet", "ProfileSet", "bundled_dir", "load_detection", "load_profiles", "profile_dirs"]

ENV_PATH = "KLX_PROFILES_PATH"


def bundled_dir() -> Path:
    """The profiles shipped with klx: packaged as ``kelaile_cli.profiles`` when installed, the
    repository's ``profiles/`` when klx runs from a source checkout."""
    import kelaile_cli

    package = Path(kelaile_cli.__file__).resolve().parent
    installed = package / "profiles"
    return installed if installed.is_dir() else package.parent / "profiles"


def profile_dirs(extra: Sequence[str | Path] = ()) -> list[Path]:
    """Bundled profiles first, then ``--profiles`` directories, then ``KLX_PROFILES_PATH`` (colon-separated)."""
    env = [p for p in os.environ.get(ENV_PATH, "").split(os.pathsep) if p]
    return [bundled_dir(), *(Path(p) for p in extra), *(Path(p) for p in env)]


class ProfileSet:
    """The profiles found: each with the file it came from, the files that failed, the overrides.

    A plain class, not a dataclass (a dataclass costs every start of ``klx`` the ``dataclasses`` module and
    the code its decorator writes); equality and repr as the dataclass had.
    """

    __slots__ = ("digests", "errors", "files", "overridden", "profiles")

    def __init__(
        self,
        profiles: list[Profile] | None = None,
        files: dict[str, Path] | None = None,
        errors: list[ProfileError] | None = None,
        overridden: list[str] | None = None,
        digests: dict[str, str] | None = None,
    ) -> None:
        self.profiles: list[Profile] = [] if profiles is None else profiles
        self.files: dict[str, Path] = {} if files is None else files  # id -> file it came from
        self.errors: list[ProfileError] = [] if errors is None else errors
        self.overridden: list[str] = [] if overridden is None else overridden  # "id: a.yaml replaced by b.yaml"
        #: path -> digest of the content read (cache._digest)
        self.digests: dict[str, str] = {} if digests is None else digests

    def _fields(self) -> tuple[Any, ...]:
        return (self.profiles, self.files, self.errors, self.overridden, self.digests)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, ProfileSet)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return (
            f"ProfileSet(profiles={self.profiles!r}, files={self.files!r}, errors={self.errors!r}, "
            f"overridden={self.overridden!r}, digests={self.digests!r})"
        )

    def get(self, profile_id: str) -> Profile:
        for p in self.profiles:
            if p.id == profile_id:
                return p
        known = ", ".join(sorted(self.files)) or "none"
        raise InputError(f"no profile '{profile_id}'", remedy=f"known: {known}")


def _read_profile(path: Path, cache: ProfileCache | None, digests: dict[str, str] | None = None) -> Profile:
    """One profile file, from the cache when its content was validated before (its hash into ``digests``)."""
    content = path.read_bytes()
    key = ProfileCache.key(content) if cache is not None or digests is not None else ""
    if digests is not None:
        digests[str(path)] = key
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    from kelaile_cli.core.profiles.profile import parse_profile

    profile = parse_profile(content.decode("utf-8"), str(path))
    if cache is not None:
        cache.put(key, profile)
    return profile


def load_profiles(extra: Sequence[str | Path] = (), cache: ProfileCache | bool | None = True) -> ProfileSet:
    """Every profile in every profile directory. A broken file is reported, the others still load;
    a later directory's profile replaces an earlier one with the same id (a draft beats the bundle).

    ``cache``: ``True`` the user's profile cache, ``False``/``None`` none, or a ``ProfileCache``.
    """
    from kelaile_cli.core.profiles.profile import ProfileError

    store = ProfileCache() if cache is True else (cache or None)
    found = ProfileSet()
    by_id: dict[str, Profile] = {}
    for directory in profile_dirs(extra):
        names = profile_files(directory)
        if names is None:
            if directory != bundled_dir():
                found.errors.append(ProfileError(f"{directory}: not a directory of profiles"))
            continue
        for path in (directory / name for name in names):
            try:
                profile = _read_profile(path, store, found.digests)
            except ProfileError as exc:
                found.errors.append(exc)
                continue
            except (OSError, UnicodeDecodeError) as exc:
                found.errors.append(ProfileError(f"{path}: cannot read ({exc})"))
                continue
            if profile.id in by_id:
                found.overridden.append(f"{profile.id}: {found.files[profile.id]} replaced by {path}")
            by_id[profile.id] = profile
            found.files[profile.id] = path
    found.profiles = list(by_id.values())
    if store is not None:
        store.save()
    return found


class DetectionSet:
    """The profiles as detection sees them: rules for all, a full ``Profile`` only when asked for one.

    A plain class, not a dataclass (see ``ProfileSet``); equality and repr as the dataclass had.
    """

    __slots__ = ("cached", "errors", "files", "models", "overridden", "rules")

    def __init__(
        self,
        rules: list[ProfileRules],
        files: dict[str, Path],
        errors: list[ProfileError],
        overridden: list[str],
        cached: bool = False,
        models: ProfileCache | bool | None = True,
    ) -> None:
        self.rules = rules
        self.files = files  # id -> file it came from
        self.errors = errors
        self.overridden = overridden
        self.cached = cached  # the rules came from the rules cache
        self.models = models  # where full profiles come from (as ``load_profiles``'s cache)

    def _fields(self) -> tuple[Any, ...]:
        return (self.rules, self.files, self.errors, self.overridden, self.cached, self.models)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, DetectionSet)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return (
            f"DetectionSet(rules={self.rules!r}, files={self.files!r}, errors={self.errors!r}, "
            f"overridden={self.overridden!r}, cached={self.cached!r}, models={self.models!r})"
        )

    def detector(self, threshold: float = DEFAULT_THRESHOLD) -> Detector:
        """A detector over every profile; it builds the winner's ``Profile`` when a receipt needs it."""
        return Detector(threshold=threshold, rules=self.rules, load=self.profile)

    def profile(self, profile_id: str) -> Profile:
        """The full profile with this id, read from its file (or the content-keyed cache)."""
        from kelaile_cli.core.profiles.profile import ProfileError

        path = self.files[profile_id]
        store = ProfileCache() if self.models is True else (self.models or None)
        try:
            profile = _read_profile(path, store)
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: cannot read ({exc})", remedy="run the command again") from None
        finally:
            if store is not None:
                store.save()
        if profile.id != profile_id:
            raise ProfileError(f"{path}: changed while klx ran (now '{profile.id}')", remedy="run the command again")
        return profile


def load_detection(extra: Sequence[str | Path] = (), cache: bool = True) -> DetectionSet:
    """The detection rules of every profile (the same set, order, errors and overrides as ``load_profiles``).

    With ``cache``, a set whose files all stat as when it was last built comes from one read of the
    rules cache, without YAML or pydantic; otherwise the profiles are loaded (through the content-keyed
    profile cache) and the rules cache rewritten.
    """
    directories = profile_dirs(extra)
    rules_cache = RulesCache(directories) if cache else None
    if rules_cache is not None:
        payload = rules_cache.load()
        if payload is not None:
            try:
                return _from_plain(payload)
            except (TypeError, ValueError):  # a cache of the right layout but wrong content: build again
                pass
    models = ProfileCache() if cache else None
    found = load_profiles(extra, cache=models or False)
    result = DetectionSet(
        [ProfileRules.of(p) for p in found.profiles], found.files, found.errors, found.overridden, models=models
    )
    if rules_cache is not None:
        rules_cache.save(_to_plain(result), found.digests)
    return result


def _to_plain(found: DetectionSet) -> tuple[Any, ...]:
    """A detection set as marshal-able tuples (errors keep their message and remedy)."""
    return (
        tuple(tuple(r) for r in found.rules),
        tuple((pid, str(path)) for pid, path in found.files.items()),
        tuple((e.message, e.remedy) for e in found.errors),
        tuple(found.overridden),
    )


def _from_plain(payload: Any) -> DetectionSet:
    rules, files, errors, overridden = payload
    if errors:  # the profile model is imported only when there is an error to give
        from kelaile_cli.core.profiles.profile import ProfileError
    return DetectionSet(
        [ProfileRules._make(r) for r in rules],
        {pid: Path(path) for pid, path in files},
        [ProfileError(message, remedy=remedy) for message, remedy in errors],
        list(overridden),
        cached=True,
    )
