"""The Parquet export answers exactly as the database it came from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.insights import Scope, build, gather


@pytest.mark.parametrize("scope", [Scope(), Scope(store="S1", end=datetime(2026, 11, 24))])
def test_export_then_read_gives_the_same_figures(day_db, tmp_path, scope):
    out = tmp_path / "docs.parquet"
    from_db = gather(scope, db=day_db, export=out)
    assert out.stat().st_size > 0
    assert gather(scope, parquet=out) == from_db


def test_missing_or_bad_parquet_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such Parquet file"):
        gather(Scope(), parquet=tmp_path / "none.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputError, match="not a klx insights Parquet export"):
        gather(Scope(), parquet=bad)


def test_values_of_the_wrong_type_read_as_missing(tmp_path):
    from kelaile_cli.services.insights import load

    def doc(seq: int, tx: dict) -> dict:
        return {"seq": seq, "store": "S", "device": "d", "at": None, "body": {"kind": "sale", "transaction": tx}}

    con = load.connect()
    docs = [doc(1, {"total": "2.00", "items": [], "payments": []}), doc(2, {"covers": "many", "total": "1.00"}),
            doc(3, {"items": "x", "total": "abc"})]  # fmt: skip
    load.load_documents(con, docs)
    ins = build(con, Scope())
    assert ins["documents"] == 3
    assert (ins["stores"][0]["transactions"], ins["stores"][0]["gross_sales"]) == (3, Decimal("3.00"))
    assert ins["covers"]["covers"] == 0
