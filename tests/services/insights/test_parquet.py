"""The Parquet export answers exactly as the database it came from."""

from __future__ import annotations

from datetime import datetime

import pytest

from kelaile_cli.core.errors import InputError
from kelaile_cli.services.insights import Scope, gather


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
