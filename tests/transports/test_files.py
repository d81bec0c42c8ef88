"""Files: private creation (0600, no symlinks), block reads with one-line errors, atomic private writes."""

from __future__ import annotations

import os
import stat

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.files import create_private, read_blocks, write_atomic


def test_create_private_is_0600_whatever_the_umask_and_refuses_symlinks(tmp_path):
    old = os.umask(0)
    try:
        os.close(create_private(tmp_path / "a"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o600
    (tmp_path / "target").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(InputError, match="symbolic link"):
        create_private(tmp_path / "link")
    with pytest.raises(InputError, match="cannot create"):
        create_private(tmp_path / "no-such-dir" / "a")


def test_read_blocks_streams_and_names_the_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 2500)
    assert [len(b) for b in read_blocks(path, 1000)] == [1000, 1000, 500]
    with pytest.raises(InputError, match="no such file"):
        list(read_blocks(tmp_path / "missing"))
    with pytest.raises(InputError, match="is a directory"):
        list(read_blocks(tmp_path))


def test_write_atomic_private(tmp_path):
    path = tmp_path / "config.json"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "config.json.tmp").symlink_to(victim)
    write_atomic(path, b"{}", private=True)
    assert path.read_bytes() == b"{}" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert victim.read_text() == "keep"
