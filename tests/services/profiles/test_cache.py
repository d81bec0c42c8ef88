"""The profile cache: validated profiles by file content — never a stale answer, a broken cache ignored."""

from __future__ import annotations

import os

import pytest

from kelaile_cli.services.profiles.cache import ProfileCache
from kelaile_cli.services.profiles.library import load_profiles
from tests.helpers import ROOT

GOOD = (ROOT / "profiles" / "meiwei-pos.yaml").read_text(encoding="utf-8")


def _write(directory, pid: str, name: str = "Cached POS", text: str = GOOD) -> None:
    body = text.replace("id: meiwei-pos", f"id: {pid}").replace("name: ", f"name: {name} #", 1)
    (directory / f"{pid}.yaml").write_text(body, encoding="utf-8")


@pytest.fixture
def drafts(tmp_path, monkeypatch):
    """An extra profile folder on KLX_PROFILES_PATH and a fresh cache directory."""
    folder = tmp_path / "drafts"
    folder.mkdir()
    monkeypatch.setenv("KLX_PROFILES_PATH", str(folder))
    monkeypatch.setenv("KLX_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def _names(loaded) -> dict[str, str]:
    return {p.id: p.name for p in loaded.profiles}


def test_a_second_load_comes_from_the_cache_and_equals_the_first(drafts):
    _write(drafts, "pos-a")
    cold = ProfileCache()
    first = load_profiles(cache=cold)
    assert cold.hits == 0 and cold.misses == len(first.profiles)
    warm = ProfileCache()
    second = load_profiles(cache=warm)
    assert warm.misses == 0 and warm.hits == len(second.profiles)
    assert second.profiles == first.profiles and second.files == first.files


def test_a_changed_profile_is_seen_at_once_even_with_the_same_size_and_mtime(drafts):
    _write(drafts, "pos-a", name="Alpha")
    assert _names(load_profiles())["pos-a"].startswith("Alpha")
    path = drafts / "pos-a.yaml"
    before = path.stat()
    _write(drafts, "pos-a", name="Omega")  # same length as "Alpha"
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert _names(load_profiles())["pos-a"].startswith("Omega")


def test_added_and_removed_profiles_are_seen_at_once(drafts):
    load_profiles()
    _write(drafts, "pos-b")
    assert "pos-b" in _names(load_profiles())
    (drafts / "pos-b.yaml").unlink()
    assert "pos-b" not in _names(load_profiles())


def test_a_profile_broken_after_caching_is_reported_not_served(drafts):
    _write(drafts, "pos-a")
    load_profiles()
    (drafts / "pos-a.yaml").write_text(GOOD.replace("id: meiwei-pos", "id: pos-a").replace("width:", "widht:"))
    loaded = load_profiles()
    assert "pos-a" not in _names(loaded)
    assert any("pos-a.yaml" in str(e) for e in loaded.errors)


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05N."])
def test_a_corrupt_cache_is_ignored_and_rewritten(drafts, garbage):
    _write(drafts, "pos-a")
    cache = ProfileCache()
    assert cache.path is not None
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_bytes(garbage)
    loaded = load_profiles()
    assert "pos-a" in _names(loaded) and not loaded.errors
    again = ProfileCache()
    load_profiles(cache=again)
    assert again.misses == 0  # rewritten with good entries


def test_an_unwritable_cache_directory_is_harmless(drafts, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # nothing can be created under it, not even by root
    monkeypatch.setenv("KLX_CACHE_DIR", str(blocker / "klx"))
    _write(drafts, "pos-a")
    assert "pos-a" in _names(load_profiles())
    assert "pos-a" in _names(load_profiles())


def test_the_cache_can_be_turned_off(drafts, monkeypatch):
    monkeypatch.setenv("KLX_CACHE_DIR", "off")
    assert ProfileCache().path is None
    _write(drafts, "pos-a")
    assert "pos-a" in _names(load_profiles())


def test_the_default_place_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("KLX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ProfileCache().directory == tmp_path / "xdg" / "klx"


def test_a_cache_file_others_can_write_is_not_loaded(drafts):
    _write(drafts, "pos-a")
    load_profiles()
    path = ProfileCache().path
    assert path is not None and path.is_file()
    path.chmod(0o666)
    suspicious = ProfileCache()
    assert "pos-a" in _names(load_profiles(cache=suspicious))
    assert suspicious.hits == 0  # parsed again, not taken from the file
    path.chmod(0o600)
    trusted = ProfileCache()
    load_profiles(cache=trusted)
    assert trusted.hits > 0


def test_only_the_profiles_a_load_asks_for_are_unpickled_and_a_broken_entry_is_parsed_again(drafts, tmp_path):
    import pickle

    _write(drafts, "pos-a")
    _write(drafts, "pos-b")
    first = load_profiles()
    cache = ProfileCache()
    assert cache.path is not None
    entries = pickle.loads(cache.path.read_bytes())
    key_b = ProfileCache.key((drafts / "pos-b.yaml").read_bytes())
    entries[key_b] = b"\x80\x05 not a profile"
    cache.path.write_bytes(pickle.dumps(entries))
    (drafts / "pos-a.yaml").unlink()  # the next load asks for pos-b and the bundled ones only
    partial = ProfileCache()
    loaded = load_profiles(cache=partial)
    assert "pos-b" in _names(loaded) and not loaded.errors
    assert partial.misses == 1  # the broken entry: parsed from its file again
    assert partial.hits == len(first.profiles) - 2
    assert len(partial._loaded) == len(first.profiles) - 1  # the hits and pos-b parsed again: pos-a's entry never
