"""A code page with no wide character spares the layout its search for one (``layout._narrow_codec``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.stream.cells import char_cells, only_narrow
from kelaile_cli.core.stream.layout import _narrow_codec

SINGLE_BYTE = ["cp437", "cp850", "cp858", "cp866", "latin-1", "cp852", "cp1252", "cp1253", "cp864", "tis-620"]


@pytest.mark.parametrize("codec", SINGLE_BYTE)
@given(raw=st.binary(max_size=64))
@settings(max_examples=60, deadline=None)
def test_a_narrow_code_page_decodes_no_wide_character(codec: str, raw: bytes) -> None:
    if not _narrow_codec(codec):
        return
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return
    assert only_narrow(text)
    assert all(char_cells(ch) == 1 for ch in text)


def test_which_codecs_count_as_narrow() -> None:
    assert _narrow_codec("cp437") and _narrow_codec("cp858") and _narrow_codec("latin-1")
    # double-byte encodings are never taken for narrow (their lead bytes do not decode alone)
    for codec in ("gb18030", "cp950", "cp932", "cp949", "big5", "shift_jis", "utf-8"):
        assert not _narrow_codec(codec), codec
    assert not _narrow_codec("no-such-codec")
