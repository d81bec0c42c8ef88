"""CJK text: a line's bytes less its trailing blanks bound its columns, and are them when each non-ASCII
character is wide and came from two bytes (``Layout._decode_lines``, ``encoding.cols_within_bytes``,
``LineRun.settle``, ``infer_width``)."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.stream.cells import SURELY_WIDE, cells, char_cells, surely_wide
from kelaile_cli.core.stream.encoding import cols_within_bytes, wide_from_two_bytes
from kelaile_cli.core.stream.layout import Layout, TextSetup
from kelaile_cli.core.stream.printstream import decode_events

TWO_BYTE = ["gb18030", "gbk", "big5", "cp950", "cp932", "shift_jis", "euc_kr", "cp949", "euc_jp", "johab"]


@pytest.mark.parametrize("codec", TWO_BYTE)
def test_no_byte_alone_decodes_to_a_wide_character(codec: str) -> None:
    assert wide_from_two_bytes(codec)
    for b in range(256):
        try:
            ch = bytes([b]).decode(codec)
        except UnicodeDecodeError:
            continue
        assert char_cells(ch) == 1, (codec, hex(b))
        if b < 0x80:
            assert ch == chr(b), (codec, hex(b))


def test_which_codecs_count() -> None:
    assert wide_from_two_bytes("GB18030") and wide_from_two_bytes("utf-8")
    for codec in ("cp437", "latin-1", "klx_mojibake_gbk", "iso2022_jp", "no-such-codec"):
        assert not wide_from_two_bytes(codec), codec
        assert not cols_within_bytes(codec), codec
    for codec in ("GB18030", "gbk", "big5", "cp950", "euc-kr", "cp932", "shift_jis", "euc_jp"):
        assert cols_within_bytes(codec), codec
    for codec in ("big5hkscs", "shift_jis_2004", "utf-8"):  # pairs of two characters; UTF-8: three bytes wide
        assert not cols_within_bytes(codec), codec


def _sequences(codec: str) -> list[tuple[bytes, str]]:
    """Every byte sequence of ``codec`` of one or two bytes that decodes (and the two-byte starts of
    longer ones, with what they decode to so far: nothing), as (bytes, text)."""
    out = []
    for b in range(256):
        try:
            out.append((bytes([b]), bytes([b]).decode(codec)))
            continue
        except UnicodeDecodeError:
            pass
        for trail in range(256):
            decoder = codecs.getincrementaldecoder(codec)()
            try:
                text = decoder.decode(bytes([b, trail]), final=False)
            except UnicodeDecodeError:
                continue
            out.append((bytes([b, trail]), text))
    return out


COLS_WITHIN = ["gb18030", "gbk", "gb2312", "big5", "cp950", "shift_jis", "cp932", "euc_kr", "cp949", "euc_jp", "johab"]


@pytest.mark.parametrize("codec", COLS_WITHIN)
def test_each_sequence_is_one_character_of_no_more_columns_than_bytes(codec: str) -> None:
    assert cols_within_bytes(codec)
    longer = []
    for raw, text in _sequences(codec):
        if not text:  # the start of a longer sequence
            longer.append(raw)
            continue
        assert len(text) == 1 and char_cells(text) <= len(raw), (codec, raw.hex(), text)
    # the longer sequences, completed: one character each (of two columns at most, from 3+ bytes)
    tails = {
        "gb18030": [bytes([a, b]) for a in range(0x81, 0xFF) for b in range(0x30, 0x3A)],  # four bytes
        "euc_jp": [bytes([a]) for a in range(0x100)],  # JIS X 0212: three bytes
        "euc_kr": [
            bytes([0xA4, a, 0xA4, b, 0xA4, c]) for a in range(0xA1, 0xFF) for b in (0xBF, 0xD3) for c in (0xD4, 0xA1)
        ],
    }
    assert bool(longer) == (codec in tails), codec
    decoded = 0
    for i, start in enumerate(longer):
        # GB18030's BMP part (first byte 0x81-0x84) all through; the rest of each codec sampled
        for tail in tails[codec] if start[0] <= 0x84 or codec != "gb18030" else tails[codec][i % 7 :: 7]:
            try:
                text = (start + tail).decode(codec)
            except UnicodeDecodeError:
                continue
            decoded += 1
            assert len(text) == 1, (codec, (start + tail).hex(), text)
    assert decoded or not longer, codec


def test_the_one_blank_among_the_surely_wide_characters_is_u3000() -> None:
    import re

    blanks = [
        chr(cp)
        for first, last in re.findall(r"(.)-(.)", SURELY_WIDE)
        for cp in range(ord(first), ord(last) + 1)
        if chr(cp).isspace()
    ]
    assert blanks == ["\u3000"]


WORDS = ["合计", "鸡丁", "x2", "  ", " ", "56.00", "¥", "·", "—", "\u3000", "ｶ", "ＡＢ", "\u3400", "€", "А"]


def _layout(codec: str, raw: bytes):
    events, _ = decode_events(b"\x1b@" + raw)
    return Layout(TextSetup(cjk_codec=codec, cjk_default=True)).receipt(events)


@pytest.mark.parametrize("codec", ["gb18030", "big5", "cp932", "big5hkscs"])
@given(lines=st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map("".join), min_size=1, max_size=6))
@settings(max_examples=80, deadline=None)
def test_each_line_counts_the_columns_of_its_text(codec: str, lines: list[str]) -> None:
    raw = b"".join(line.encode(codec, "ignore") + b"\n" for line in lines)
    receipt = _layout(codec, raw)
    texts = raw.decode(codec).split("\n")[:-1]
    printed = [t for t in texts if t]  # an empty line is a feed
    assert [line.text for line in receipt.lines] == printed
    assert [line.cols for line in receipt.lines] == [cells(t.rstrip()) for t in printed]


@pytest.mark.parametrize("codec", ["gb18030", "big5", "cp932"])
@given(
    lines=st.lists(st.lists(st.sampled_from(WORDS), max_size=12).map("".join), min_size=1, max_size=6),
    align=st.sampled_from([b"\x1ba\x00", b"\x1ba\x01", b"\x1ba\x02"]),
    wide=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_bounds_are_bounds_and_read_as_the_exact_columns(
    codec: str, lines: list[str], align: bytes, wide: bool
) -> None:
    from kelaile_cli.core.render.text import render_text
    from kelaile_cli.core.stream.layout import infer_width
    from kelaile_cli.core.stream.receipt import LineRun

    raw = align + (b"\x1d!\x10" if wide else b"") + b"".join(line.encode(codec, "ignore") + b"\n" for line in lines)
    receipt = _layout(codec, raw)
    # the text and the paper width from bounds are those from the exact columns
    text = render_text(receipt)
    narrow = render_text(receipt, width=32)
    runs = [b for b in receipt.blocks if isinstance(b, LineRun)]
    bounds = [(list(run.cols), run.widest, run.exact) for run in runs]
    for run, (cols, widest, exact) in zip(runs, bounds, strict=True):
        run.settle()
        assert run.exact
        assert all(b >= c for b, c in zip(cols, run.cols, strict=True)) and widest >= run.widest
        assert (cols, widest) == (run.cols, run.widest) or not exact  # exact ones stay as they were
        assert [c < 0 for c in cols] == [c < 0 for c in run.cols]  # the empty lines stay empty
        assert run.cols == [
            cells(t) * run.style.width if c >= 0 else -1 for t, c in zip(run.printed, run.cols, strict=True)
        ]
    assert receipt.width == infer_width(receipt.blocks)
    assert render_text(receipt) == text and render_text(receipt, width=32) == narrow


def test_double_byte_text_keeps_bounds_and_other_text_exact_columns() -> None:
    setup = TextSetup(cjk_codec="gb18030", cjk_default=True)
    two = "合计 x2   56.00  \n鸡丁\n".encode("gb18030")
    four = "\u3400 x1  \n合计\n".encode("gb18030")  # U+3400: four bytes in GB18030
    assert surely_wide("\u3400") and len("\u3400".encode("gb18030")) == 4
    for raw in (two, four):
        layout = Layout(setup)
        layout._start_job()
        layout._state.cjk = True
        assert layout._decode_lines(raw, "gb18030") is not None
        assert layout._bound_cols and not layout._byte_cols
    receipt = _layout("gb18030", four)
    assert [run.exact for run in receipt.blocks] == [False]
    assert receipt.blocks[0].cols == [7, 4]  # bounds: U+3400's four bytes for its two columns
    assert [line.cols for line in receipt.lines] == [5, 4]  # exact once read as lines
    # Big5-HKSCS (some pairs two characters): no bounds, the columns from the characters
    hkscs = Layout(TextSetup(cjk_codec="big5hkscs", cjk_default=True))
    hkscs._start_job()
    hkscs._state.cjk = True
    assert hkscs._decode_lines("合計 x2\n".encode("big5hkscs"), "big5hkscs") is not None
    assert hkscs._byte_cols and not hkscs._bound_cols
    ascii_run = _layout("gb18030", b"TOTAL   56.00\n")
    assert [run.exact for run in ascii_run.blocks] == [True]


def test_a_bound_over_a_paper_width_is_counted_exactly() -> None:
    """Middle dots are two bytes in GB18030 but one column: 20 of them bound 40 columns (42 mm paper),
    print 20, and the receipt's other lines fit 32 columns."""
    from kelaile_cli.core.render.text import render_text

    dots = "合计" + "·" * 20
    raw = "\x1ba\x01店名\n\x1ba\x00".encode("gb18030") + f"{dots}\n鸡丁 x2\n".encode("gb18030")
    receipt = _layout("gb18030", raw)
    assert len(f"{dots}".encode("gb18030")) == 44 and cells(dots) == 24
    assert any(not run.exact and run.widest == 44 for run in receipt.blocks)
    assert receipt.width == 32
    assert render_text(receipt).split("\n")[0] == " " * 14 + "店名"  # centred on 32 columns


def test_a_bound_over_the_width_asked_for_is_counted_before_wrapping() -> None:
    from kelaile_cli.core.render.text import render_text

    dots = "·" * 30  # 60 bytes, 30 columns: fits 32 once counted
    receipt = _layout("gb18030", f"{dots}\n".encode("gb18030"))
    assert not receipt.blocks[0].exact and receipt.blocks[0].widest == 60
    assert render_text(receipt, width=32, markers=False) == dots
    wide = _layout("gb18030", ("合" * 20 + "\n").encode("gb18030"))  # 40 columns: wraps at 32
    assert render_text(wide, width=32, markers=False) == "合" * 16 + "\n" + "合" * 4


_JSON_ESCAPED = {*(chr(c) for c in range(0x20) if c != 0x0A), '"', "\\"}


@pytest.mark.parametrize("codec", COLS_WITHIN)
def test_no_sequence_decodes_to_a_character_json_escapes(codec: str) -> None:
    """Only the bytes 0x22 and 0x5C themselves (and control bytes, which never are text) decode to a
    character that JSON escapes: ``escapes_as_ascii``."""
    from kelaile_cli.core.stream.encoding import escapes_as_ascii

    assert escapes_as_ascii(codec)
    for raw, text in _sequences(codec):
        if raw[0] >= 0x20 and raw not in (b'"', b"\\"):
            assert not _JSON_ESCAPED & set(text), (codec, raw.hex(), text)


def test_which_code_pages_escape_as_ascii() -> None:
    import codecs as codec_registry

    from kelaile_cli.core.stream.encoding import escapes_as_ascii

    for codec in ("cp437", "cp1252", "latin-1", "cp866", "gb18030", "cp932"):
        assert escapes_as_ascii(codec), codec
    for codec in ("utf-8", "big5hkscs", "klx_mojibake_utf8", "no-such-codec", "utf-16-le"):
        assert not escapes_as_ascii(codec), codec

    def search(name: str) -> codec_registry.CodecInfo | None:  # a page whose 0xA2 is a double quote
        if name != "klx_test_quote_page":
            return None
        table = "".join(chr(b) for b in range(0xA2)) + '"' + "".join(chr(b) for b in range(0xA3, 0x100))
        return codec_registry.CodecInfo(
            name=name,
            encode=lambda text, errors="strict": codec_registry.charmap_encode(text, errors, {}),
            decode=lambda data, errors="strict": codec_registry.charmap_decode(data, errors, table),
        )

    codec_registry.register(search)
    assert not escapes_as_ascii("klx_test_quote_page")
