"""The emulated box's state directory: a power cut at any moment leaves it readable."""

from __future__ import annotations

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.emulator.state import BoxState, UploadQueue


def test_a_torn_last_line_is_ignored_and_the_queue_goes_on(tmp_path):
    q = UploadQueue(tmp_path / "queue.jsonl")
    q.push({"key": "a", "body": {"n": 1}})
    q.push({"key": "b", "body": {"n": 2}})
    with open(tmp_path / "queue.jsonl", "ab") as f:
        f.write(b'{"key":"c","bo')  # the power went in the middle of a push
    again = UploadQueue(tmp_path / "queue.jsonl")
    assert [i["key"] for i in again.items()] == ["a", "b"]
    again.push({"key": "d"})
    assert [i["key"] for i in UploadQueue(tmp_path / "queue.jsonl").items()] == ["a", "b", "d"]
    again.remove({"a", "d"})
    assert [i["key"] for i in UploadQueue(tmp_path / "queue.jsonl").items()] == ["b"]


def test_identity_is_created_once_and_config_replaced_atomically(tmp_path):
    first = BoxState(tmp_path)
    first.update_config({"store": "S-1"})
    assert not list(tmp_path.glob("*.tmp"))
    second = BoxState(tmp_path)
    assert second.serial == first.serial and second.config["store"] == "S-1"


def test_a_broken_state_file_is_one_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"config\.json: unreadable box state"):
        BoxState(tmp_path)


def test_the_secret_and_the_queue_are_private_and_never_reached_through_a_link(tmp_path):
    state = BoxState(tmp_path / "box")
    state.update_config({"device_secret": "s3cret"})
    state.queue.push({"key": "a"})
    for name in ("config.json", "queue.jsonl"):
        assert (tmp_path / "box" / name).stat().st_mode & 0o777 == 0o600, name
    state.queue.remove({"a"})
    assert (tmp_path / "box" / "queue.jsonl").stat().st_mode & 0o777 == 0o600

    wide = tmp_path / "old"
    BoxState(wide).update_config({"store": "S"})
    (wide / "config.json").chmod(0o644)  # as an older klx left it
    assert BoxState(wide).config["store"] == "S"
    assert (wide / "config.json").stat().st_mode & 0o777 == 0o600  # tightened on load

    target = tmp_path / "elsewhere.json"
    target.write_text('{"store": "planted"}')
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "config.json").symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        BoxState(linked)
    (linked / "config.json").unlink()
    (linked / "config.json.tmp").symlink_to(target)  # a planted temporary file is not followed either
    with pytest.raises(InputError, match="symbolic link"):
        BoxState(linked).update_config({"device_secret": "x"})
    assert target.read_text() == '{"store": "planted"}'
