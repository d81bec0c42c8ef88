"""Transactions into DuckDB: from the sandbox cloud's SQLite file, from recordings, or from a cloud URL.

Every source becomes newline-delimited JSON documents ``{"seq", "store", "device", "at", "body"}``
(``body`` is the upload document of ``core.profiles.analysis.upload_body``), which DuckDB reads in
one typed pass into the table ``docs``. The SQLite file is read with SQLite's own JSON functions
(DuckDB's SQLite scanner is an extension it would have to download), so no Python loop touches a
field. Everything else is SQL over ``docs`` (see ``model``).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from kelaile_cli.core.errors import InputError

__all__ = [
    "BODY_TYPE",
    "connect",
    "export_parquet",
    "load_db",
    "load_documents",
    "load_parquet",
    "load_recordings",
]

_MONEY = "VARCHAR"  # amounts arrive as decimal strings; model.py casts them to DECIMAL, never to float
_ITEM = f"STRUCT(name VARCHAR, quantity VARCHAR, unit_price {_MONEY}, amount {_MONEY}, sku VARCHAR)"
_REPORT = (
    f"STRUCT(number VARCHAR, opened VARCHAR, closed VARCHAR, receipts BIGINT, refunds BIGINT, refund_total {_MONEY})"
)
_TRANSACTION = (
    "STRUCT(currency VARCHAR, store VARCHAR, terminal VARCHAR, cashier VARCHAR, order_no VARCHAR, "
    '"datetime" VARCHAR, "table" VARCHAR, covers BIGINT, '
    f"items {_ITEM}[], subtotal {_MONEY}, discount {_MONEY}, service_charge {_MONEY}, tax {_MONEY}, "
    f"total {_MONEY}, payments STRUCT(method VARCHAR, amount {_MONEY})[], change {_MONEY}, report {_REPORT})"
)
BODY_TYPE = (
    "STRUCT(kind VARCHAR, profile VARCHAR, printed_at VARCHAR, receipt_sha256 VARCHAR, "
    f'"transaction" {_TRANSACTION}, checks STRUCT(name VARCHAR, ok BOOLEAN, detail VARCHAR)[])'
)
_COLUMNS = {"seq": "BIGINT", "store": "VARCHAR", "device": "VARCHAR", "at": "DOUBLE", "body": BODY_TYPE}

_EXPORT = """
SELECT json_object('seq', t.seq, 'store', coalesce(d.store, json_extract(t.body, '$.transaction.store'), t.device_id),
                   'device', t.device_id, 'at', t.created_at, 'body', json(t.body))
FROM transactions t LEFT JOIN devices d ON d.device_id = t.device_id
ORDER BY t.seq
"""


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never fetches extensions (klx talks to no one but its own cloud)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(":memory:", config=config)


def _ts(text: str) -> str:
    return f"try_cast(replace(replace({text}, 'T', ' '), 'Z', '') AS TIMESTAMP)"


# a receipt's time: what the POS printed on it, else when the box captured it (see model.py)
_TS = f"""coalesce({_ts('body."transaction"."datetime"')}, {_ts("body.printed_at")})"""


def _read_ndjson(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A field whose value does not have the upload document's type (a device may send any JSON the
    cloud accepted) reads as missing (NULL) instead of failing the load."""
    columns = ", ".join(f"{json.dumps(k)}: '{v}'" for k, v in _COLUMNS.items())
    con.execute(
        f"CREATE OR REPLACE TABLE docs AS SELECT *, {_TS} AS ts FROM read_json(?, format='newline_delimited', "
        f"columns={{{columns}}}, maximum_object_size=16777216, ignore_errors=true)",
        [str(path)],
    )


def load_parquet(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Use a Parquet export (``export_parquet``) in place: nothing is copied into memory; filters on
    store and time skip whole row groups (the export is ordered by store, then time)."""
    if not Path(path).is_file():
        raise InputError(f"{path}: no such Parquet file", remedy="write one with klx insights … --export FILE")
    try:
        con.execute(f"CREATE OR REPLACE VIEW docs AS SELECT * FROM read_parquet('{_quote(path)}')")
        count = con.execute("SELECT count(*) FROM docs").fetchone()
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a klx insights Parquet export ({exc})") from None
    return int(count[0]) if count else 0


# small row groups: a store-month filter then decodes little beyond the rows it keeps
ROW_GROUP_ROWS = 16_384


def export_parquet(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Write the loaded documents to Parquet, ordered by store and time (for ``load_parquet`` or any engine)."""
    try:
        con.execute(
            f"COPY (SELECT * FROM docs ORDER BY store, ts, seq) TO '{_quote(path)}' "
            f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot write ({exc})") from None


def _quote(path: str | Path) -> str:
    return str(path).replace("'", "''")


def load_documents(con: duckdb.DuckDBPyConnection, documents: Iterable[dict[str, object]]) -> int:
    """Load ``{"seq", "store", "device", "at", "body"}`` documents; returns how many."""
    with tempfile.TemporaryDirectory(prefix="klx-insights-") as tmp:
        path = Path(tmp) / "docs.ndjson"
        n = 0
        with path.open("w", encoding="utf-8") as f:
            for doc in documents:
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
                n += 1
        _read_ndjson(con, path)
    return n


def load_db(con: duckdb.DuckDBPyConnection, db: str | Path) -> int:
    """Load every stored transaction of a sandbox cloud database (read-only; a running server is fine)."""
    path = Path(db)
    if not path.is_file():
        raise InputError(f"{db}: no such database", remedy="give the file of `klx cloud serve --db FILE`")
    try:
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        rows = src.execute(_EXPORT)
        with tempfile.TemporaryDirectory(prefix="klx-insights-") as tmp:
            out = Path(tmp) / "docs.ndjson"
            n = 0
            with out.open("w", encoding="utf-8") as f:
                while batch := rows.fetchmany(10_000):
                    f.write("\n".join(r[0] for r in batch) + "\n")
                    n += len(batch)
            _read_ndjson(con, out)
        src.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(
            f"{db}: not a klx cloud database ({exc})", remedy="give the file of `klx cloud serve`"
        ) from None
    return n


def load_recordings(con: duckdb.DuckDBPyConnection, paths: Sequence[str | Path], store: str = "recordings") -> int:
    """Decode recordings through the box pipeline (``jobs`` + ``analyse``) and load their upload documents."""
    from kelaile_cli.services.insights.recordings import upload_documents

    return load_documents(con, upload_documents(paths, store))
