"""The SQLite store on its own: idempotency across processes' connections, replay memory, stats, URLs."""

from __future__ import annotations

import threading

import pytest

from kelaile_cli.core.cloud.protocol import MAX_SKEW_S
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.cloud.sandbox.storage import SIGNATURE_WINDOW_S, Ingest, Storage, Stored, db_path, read_stats

NOW = 1_800_000_000.0


def _make(tx: str, digest: str = "d1"):
    return lambda: (Stored(tx, digest, {"kind": "loyalty", "qr": "q", "text": []}), "sale", "{}", None)


def test_two_connections_racing_on_one_key_store_one_row(tmp_path) -> None:
    a, b = Storage(tmp_path / "s.sqlite"), Storage(tmp_path / "s.sqlite")  # like two uvicorn workers
    a.claim("dev1", "SN", "m", None, "secret", NOW)
    results: list = []
    barrier = threading.Barrier(8)

    def worker(store: Storage, n: int) -> None:
        barrier.wait()
        results.append(store.ingest("dev1", "key-1", f"{n:02x}" * 32, int(NOW), NOW, _make("tx_1")))

    threads = [threading.Thread(target=worker, args=(a if n % 2 else b, n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert {row.transaction_id for row, _ in results} == {"tx_1"}
    assert read_stats(tmp_path / "s.sqlite")["transactions"] == 1  # read-only, while both are open
    a.close()
    b.close()


def test_a_replayed_signature_is_refused_until_it_is_stale_then_forgotten(tmp_path) -> None:
    store = Storage(tmp_path / "s.sqlite", background_checkpoints=False)
    sig, stamp = "ab" * 32, int(NOW)
    assert store.remember_signature(sig, stamp, NOW)
    assert not store.remember_signature(sig, stamp, NOW + MAX_SKEW_S)  # still acceptable by time: refused
    assert store.remember_signature("cd" * 32, stamp, NOW)
    later = NOW + MAX_SKEW_S + 2 * SIGNATURE_WINDOW_S  # both stale: the purge may drop them
    store.remember_signature("ef" * 32, int(later), later)
    left = store.db.execute("SELECT COUNT(*) FROM seen_signatures").fetchone()[0]
    assert left == 1
    store.close()


def test_db_urls_and_bad_files(tmp_path) -> None:
    assert db_path("sqlite:///x/y.sqlite").as_posix() == "x/y.sqlite"
    assert db_path("sqlite:////abs/y.sqlite").as_posix() == "/abs/y.sqlite"
    with pytest.raises(InputError, match="only SQLite"):
        db_path("postgresql://db/klx")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="not a klx cloud database"):
        read_stats(junk)


def test_a_batch_shares_one_commit_and_each_ingest_keeps_its_own_outcome(tmp_path) -> None:
    store = Storage(tmp_path / "s.sqlite", background_checkpoints=False)
    store.claim("dev1", "SN", "m", None, "secret", NOW)

    def broken():
        raise ValueError("bad document")

    batch = [
        Ingest("dev1", "k1", "01" * 32, int(NOW), NOW, _make("tx_1")),
        Ingest("dev1", "k1", "02" * 32, int(NOW), NOW, _make("tx_other")),  # same key, same batch: a retry
        Ingest("dev1", "k2", "01" * 32, int(NOW), NOW, _make("tx_2")),  # replayed signature
        Ingest("dev1", "k3", "03" * 32, int(NOW), NOW, broken),
        Ingest("dev1", "k4", "04" * 32, int(NOW), NOW, _make("tx_4")),
    ]
    first, retry, replay, failed, last = store.ingest_many(batch)
    assert first[1] is True and retry == (first[0], False)
    assert replay is None
    assert isinstance(failed, ValueError)
    assert last[1] is True and last[0].transaction_id == "tx_4"
    assert [r["idempotency_key"] for r in store.transactions(None, 10, 0)] == ["k1", "k4"]
    store.close()
