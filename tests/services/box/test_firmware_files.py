"""The signing key keygen writes is the owner's alone, even over an older key or a planted link (issue 13, 14)."""

from __future__ import annotations

import stat

from kelaile_cli.services.box.firmware_files import PRIVATE_NAME, keygen, load_signing_key


def test_keygen_force_over_a_world_readable_key_leaves_it_0600(tmp_path):
    first = keygen(tmp_path)
    first.private.chmod(0o644)
    second = keygen(tmp_path, force=True)
    assert stat.S_IMODE(second.private.stat().st_mode) == 0o600
    assert second.key_id != first.key_id and load_signing_key(second.private) is not None


def test_keygen_force_replaces_a_symbolic_link_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    out = tmp_path / "keys"
    out.mkdir()
    (out / PRIVATE_NAME).symlink_to(victim)
    pair = keygen(out, force=True)
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not pair.private.is_symlink() and stat.S_IMODE(pair.private.stat().st_mode) == 0o600
