"""Finding and loading profiles: the bundled set, ``--profiles DIR`` and ``KLX_PROFILES_PATH``.

Validated profiles come from a cache keyed by each file's content (``services.profiles.cache``): with
hundreds of profiles a start reads and hashes the files but parses only the new or changed ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.profile import Profile, ProfileError, parse_profile
from kelaile_cli.services.profiles.cache import ProfileCache

__all__ = ["ENV_PATH", "ProfileSet", "bundled_dir", "load_profiles", "profile_dirs"]

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


@dataclass(slots=True)
class ProfileSet:
    profiles: list[Profile] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # id -> file it came from
    errors: list[ProfileError] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)  # "id: a.yaml replaced by b.yaml"

    def get(self, profile_id: str) -> Profile:
        for p in self.profiles:
            if p.id == profile_id:
                return p
        known = ", ".join(sorted(self.files)) or "none"
        raise InputError(f"no profile '{profile_id}'", remedy=f"known: {known}")


def _read_profile(path: Path, cache: ProfileCache | None) -> Profile:
    """One profile file, from the cache when its content was validated before."""
    content = path.read_bytes()
    key = ProfileCache.key(content) if cache is not None else ""
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    profile = parse_profile(content.decode("utf-8"), str(path))
    if cache is not None:
        cache.put(key, profile)
    return profile


def load_profiles(extra: Sequence[str | Path] = (), cache: ProfileCache | bool | None = True) -> ProfileSet:
    """Every profile in every profile directory. A broken file is reported, the others still load;
    a later directory's profile replaces an earlier one with the same id (a draft beats the bundle).

    ``cache``: ``True`` the user's profile cache, ``False``/``None`` none, or a ``ProfileCache``.
    """
    store = ProfileCache() if cache is True else (cache or None)
    found = ProfileSet()
    by_id: dict[str, Profile] = {}
    for directory in profile_dirs(extra):
        if not directory.is_dir():
            if directory != bundled_dir():
                found.errors.append(ProfileError(f"{directory}: not a directory of profiles"))
            continue
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            try:
                profile = _read_profile(path, store)
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
