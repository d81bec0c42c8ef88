"""Issue 13 (14, cloud part): the database is private and a stolen copy gives no device secret away."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.client import CloudClient, Credentials
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.storage import _SCHEMA, Storage, key_path
from tests.services.cloud.sandbox.conftest import body, key_of

LEGACY_SECRET = "5e" * 32


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _all_bytes(db) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if not p.name.endswith(".key"))


@pytest.fixture(autouse=True)
def _lax_umask():
    old = os.umask(0o022)  # what a shop PC's shell gives: files 0644 unless created otherwise
    yield
    os.umask(old)


def test_database_side_files_and_key_are_0600_and_hold_no_plain_secret(tmp_path) -> None:
    db = tmp_path / "cloud.sqlite"
    with running_cloud(db) as cloud, CloudClient(cloud.url) as client:
        creds = client.claim("SN-1", "m")
        client.upload(body(1), key_of(creds, 1))
        files = [db, db.with_name("cloud.sqlite-wal"), db.with_name("cloud.sqlite-shm"), key_path(db)]
        modes = {f.name: _mode(f) for f in files}
        stored = _all_bytes(db)
    assert modes == dict.fromkeys(modes, 0o600)
    assert creds.secret.encode() not in stored and creds.secret.encode() not in _all_bytes(db)
    with sqlite3.connect(db) as raw:
        (sealed,) = raw.execute("SELECT secret FROM devices").fetchone()
    assert sealed.startswith("v1:") and creds.secret not in sealed


def test_a_plain_text_database_is_migrated_and_its_devices_still_sign(tmp_path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as raw:  # a database written before secrets were sealed, 0644
        raw.executescript(_SCHEMA)
        raw.execute("INSERT INTO devices(device_id, serial, model, secret, claimed_at) VALUES (?,?,?,?,?)",
                    ("dev_old", "SN-OLD", "m", LEGACY_SECRET, 1.0))  # fmt: skip
    raw.close()
    assert _mode(db) == 0o644 and LEGACY_SECRET.encode() in db.read_bytes()
    Storage(db, background_checkpoints=False).close()
    assert _mode(db) == 0o600 and _mode(key_path(db)) == 0o600
    assert LEGACY_SECRET.encode() not in _all_bytes(db)  # sealed, and the old cells overwritten
    creds = Credentials("dev_old", LEGACY_SECRET)
    with running_cloud(db) as cloud, CloudClient(cloud.url, creds) as device:
        result = device.upload(body(2), key_of(creds, 2))
    assert result.status == 201


def test_a_wrong_key_or_a_symlinked_database_is_refused(tmp_path) -> None:
    db = tmp_path / "c.sqlite"
    store = Storage(db, background_checkpoints=False)
    store.claim("dev_1", "SN-1", "m", None, "s" * 64, 1.0)
    store.close()
    stolen = tmp_path / "elsewhere" / "c.sqlite"
    stolen.parent.mkdir()
    shutil.copy(db, stolen)  # the database without its key: a fresh key is made, and it opens nothing
    copy = Storage(stolen, background_checkpoints=False)
    assert (copy.key_created, copy.lost_devices, copy.device("dev_1")) == (True, 1, None)  # must claim again
    copy.close()
    again = Storage(stolen, background_checkpoints=False)  # said once: the next start finds nothing lost
    assert (again.key_created, again.lost_devices, again.device("dev_1")) == (False, 0, None)
    again.claim("dev_1", "SN-1", "m", None, "t" * 64, 2.0)
    assert again.device("dev_1").secret == "t" * 64
    again.close()
    with pytest.raises(InputError, match="does not open the device secrets"):  # an existing key of another db
        Storage(db, key_file=key_path(stolen), background_checkpoints=False)
    link = tmp_path / "link.sqlite"
    link.symlink_to(db)
    with pytest.raises(InputError, match="symbolic link"):
        Storage(link, background_checkpoints=False)
    key_path(db).write_text("not hex\n")
    with pytest.raises(InputError, match="not a server key"):
        Storage(db, background_checkpoints=False)
