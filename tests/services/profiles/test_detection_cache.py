"""The detection rules cache (issue 10): one read gives the whole set's rules, never a stale answer,
no pydantic model but the winner's, and the same detections as the full profiles give."""

from __future__ import annotations

import os
import time

import pytest

from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector, ProfileRules
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles import cache as cache_module
from kelaile_cli.services.profiles import library
from kelaile_cli.services.profiles.cache import RulesCache
from kelaile_cli.services.profiles.library import load_detection, load_profiles, profile_dirs
from tests.helpers import ROOT

GOOD = (ROOT / "profiles" / "meiwei-pos.yaml").read_text(encoding="utf-8")
SAMPLES = ROOT / "recordings" / "samples"


def _write(directory, pid: str, shop: str = "美味小馆") -> None:
    body = GOOD.replace("id: meiwei-pos", f"id: {pid}").replace("美味小馆", shop)
    (directory / f"{pid}.yaml").write_text(body, encoding="utf-8")


@pytest.fixture
def drafts(tmp_path, monkeypatch):
    """An extra profile folder on KLX_PROFILES_PATH and a fresh cache directory."""
    folder = tmp_path / "drafts"
    folder.mkdir()
    monkeypatch.setenv("KLX_PROFILES_PATH", str(folder))
    monkeypatch.setenv("KLX_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def _shops(found) -> dict[str, str | None]:
    """Each profile's first signature text (what the tests below change)."""
    return {r.id: r.signatures[0][0] for r in found.rules}


def test_the_rules_equal_the_full_profiles_and_a_warm_load_reads_them_from_one_file(drafts):
    _write(drafts, "pos-a", "阿尔法小馆")
    (drafts / "broken.yaml").write_text("id: [", encoding="utf-8")
    full = load_profiles()
    cold = load_detection()
    warm = load_detection()
    assert not cold.cached and warm.cached
    for got in (cold, warm):
        assert got.rules == [ProfileRules.of(p) for p in full.profiles]
        assert got.files == full.files and got.overridden == full.overridden
        assert [str(e) for e in got.errors] == [str(e) for e in full.errors] and got.errors


def test_a_warm_load_builds_no_profile_model_until_a_winner_is_asked_for(drafts, monkeypatch):
    _write(drafts, "pos-a")
    load_detection()

    def refuse(*_args, **_kwargs):
        raise AssertionError("a profile was parsed")

    monkeypatch.setattr("kelaile_cli.core.profiles.profile.parse_profile", refuse)  # library imports it when used
    monkeypatch.setattr(library, "ProfileCache", refuse)
    warm = load_detection()
    assert warm.cached
    receipts = jobs.source_receipts(jobs.load_source(SAMPLES / "en-us-grocery-58mm.bin"), DecodeOptions())
    assert warm.detector().best(receipts[0]) is not None  # ranked from the rules alone
    monkeypatch.undo()
    detector = load_detection().detector()
    winner = detector.best(receipts[0])
    assert winner is not None and detector.profile(winner.id).id == winner.id


def test_detections_are_those_of_the_full_profiles(drafts):
    _write(drafts, "pos-a")
    full = Detector(load_profiles().profiles)
    load_detection()  # fill the cache
    cached = load_detection()
    assert cached.cached
    fast = cached.detector()
    seen = 0
    for path in sorted(SAMPLES.glob("*.bin")) + sorted(SAMPLES.glob("*.klr")):
        for receipt in jobs.source_receipts(jobs.load_source(path), DecodeOptions()):
            assert fast.rank(receipt) == full.rank(receipt), path
            assert analyse(receipt, fast).identity() == analyse(receipt, full).identity(), path
            seen += 1
    assert seen >= 8


def test_a_changed_profile_is_seen_at_once_even_with_the_same_size_and_mtime(drafts):
    _write(drafts, "pos-a", "阿尔法小馆")
    load_detection()
    path = drafts / "pos-a.yaml"
    before = path.stat()
    _write(drafts, "pos-a", "奥米伽小馆")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    again = load_detection()
    assert _shops(again)["pos-a"] == "奥米伽小馆" and not again.cached


def test_an_edit_that_leaves_the_stat_unchanged_is_caught_by_the_content_check(drafts, monkeypatch):
    """Two edits within one tick of the file system's clock, same size: only the content tells them apart."""
    stamp = time.time_ns()
    real = cache_module._stat

    def same_times(directory, name):
        got = real(directory, name)
        return got if got[1] is None else (name, got[1], stamp, stamp, got[4], got[5])

    monkeypatch.setattr(cache_module, "_stat", same_times)
    _write(drafts, "pos-a", "阿尔法小馆")
    assert _shops(load_detection())["pos-a"] == "阿尔法小馆"
    _write(drafts, "pos-a", "奥米伽小馆")  # written in place: same inode, same size
    assert _shops(load_detection())["pos-a"] == "奥米伽小馆"


def test_recent_files_are_checked_by_content_until_they_are_old(drafts, monkeypatch):
    _write(drafts, "pos-a")
    load_detection()
    path = RulesCache(profile_dirs()).path
    assert path is not None
    import marshal

    _, digests, _ = marshal.loads(path.read_bytes())
    assert str(drafts / "pos-a.yaml") in digests  # just written: recorded with its hash
    monkeypatch.setattr(cache_module, "RACY_NS", 0)  # as if time had passed
    assert load_detection().cached
    _, digests, _ = marshal.loads(path.read_bytes())
    assert digests == {}  # settled: from now on the stat alone decides


def test_added_and_removed_profiles_are_seen_at_once(drafts):
    load_detection()
    _write(drafts, "pos-b")
    assert "pos-b" in _shops(load_detection())
    assert load_detection().cached
    (drafts / "pos-b.yaml").unlink()
    assert "pos-b" not in _shops(load_detection())


def test_a_profile_folder_that_appears_is_seen(tmp_path, monkeypatch):
    folder = tmp_path / "later"
    monkeypatch.setenv("KLX_PROFILES_PATH", str(folder))
    monkeypatch.setenv("KLX_CACHE_DIR", str(tmp_path / "cache"))
    first = load_detection()
    assert any("not a directory" in str(e) for e in first.errors)
    assert load_detection().cached
    folder.mkdir()
    _write(folder, "pos-c")
    later = load_detection()
    assert "pos-c" in _shops(later) and not later.errors


@pytest.mark.parametrize("garbage", [b"", b"not marshal", b"\xff" * 40, None])
def test_a_corrupt_cache_is_ignored_and_rebuilt(drafts, garbage):
    import marshal

    _write(drafts, "pos-a")
    load_detection()
    path = RulesCache(profile_dirs()).path
    assert path is not None and path.is_file()
    if garbage is None:  # the right layout around a payload of the wrong shape
        seen, digests, _ = marshal.loads(path.read_bytes())
        garbage = marshal.dumps((seen, digests, (("x",), (), (), ())))
    path.write_bytes(garbage)
    rebuilt = load_detection()
    assert not rebuilt.cached and "pos-a" in _shops(rebuilt) and not rebuilt.errors
    assert load_detection().cached


def test_a_cache_file_others_can_write_is_not_used(drafts):
    _write(drafts, "pos-a")
    load_detection()
    path = RulesCache(profile_dirs()).path
    assert path is not None
    path.chmod(0o666)
    assert not load_detection().cached
    assert path.stat().st_mode & 0o777 == 0o600  # rewritten, the user's own
    assert load_detection().cached


def test_the_cache_can_be_turned_off(drafts, monkeypatch):
    monkeypatch.setenv("KLX_CACHE_DIR", "off")
    _write(drafts, "pos-a")
    assert not load_detection().cached
    assert "pos-a" in _shops(load_detection())


def test_a_relative_profile_folder_names_its_files_from_wherever_klx_runs(tmp_path, monkeypatch):
    """The same folder given relatively from two places: each load names files that exist from its cwd."""
    monkeypatch.setenv("KLX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KLX_PROFILES_PATH", raising=False)
    (tmp_path / "a" / "drafts").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    _write(tmp_path / "a" / "drafts", "pos-a")
    monkeypatch.chdir(tmp_path / "a")
    load_detection(["drafts"])
    assert load_detection(["drafts"]).cached
    monkeypatch.chdir(tmp_path / "b")
    found = load_detection(["../a/drafts"])
    assert found.files["pos-a"].is_file()
    assert found.profile("pos-a").id == "pos-a"


def test_an_unwritable_cache_directory_is_harmless(drafts, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # nothing can be created under it, not even by root
    monkeypatch.setenv("KLX_CACHE_DIR", str(blocker / "klx"))
    _write(drafts, "pos-a")
    for _ in range(2):
        found = load_detection()
        assert not found.cached and "pos-a" in _shops(found) and not found.errors
        assert found.profile("pos-a").id == "pos-a"


def test_profile_and_detection_sets_are_plain_records():
    """Plain classes (no dataclass at start-up), with the dataclasses' equality and defaults."""
    a, b = library.ProfileSet(), library.ProfileSet()
    a.profiles.append("p")  # type: ignore[arg-type]  # each set its own lists and dicts
    assert b.profiles == [] and b.files == {} and a != b and a == library.ProfileSet(["p"])  # type: ignore[list-item]
    assert repr(b) == "ProfileSet(profiles=[], files={}, errors=[], overridden=[], digests={})"
    one = library.DetectionSet([], {}, [], [], cached=True)
    assert one == library.DetectionSet([], {}, [], [], True) and one != library.DetectionSet([], {}, [], [])
    assert "cached=True" in repr(one)
    with pytest.raises(TypeError):
        hash(one)
