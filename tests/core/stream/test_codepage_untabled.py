"""The Epson pages that no maintained source gives the characters of (issue 14, defect 3): page 6
(Hiragana), pages 7 and 8 (one-pass printing Kanji characters) and page 25 (Thai character code 17),
as Epson's character code tables name them. Their text stays in CP437 (what klx did before); the
warning names the page, says how its text is read and what to give instead; both remedies it names
work; and the pages give way to double-byte (Kanji) mode as every single-byte page does."""

from __future__ import annotations

import json

import pytest

from kelaile_cli.core.stream.codepages import untabled_page_name
from kelaile_cli.core.stream.encoding import unsupported_page_message
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from tests.helpers import klx

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"

#: Epson's names of its pages without a table (Epson's ESC/POS character code tables)
EPSON_NAMES = {
    6: "Hiragana",
    7: "one-pass printing Kanji characters",
    8: "one-pass printing Kanji characters",
    25: "Thai character code 17",
}
#: models read with Epson's numbering: no family ("default"), Epson, Epson legacy
EPSON_MODELS = ("default", "TM-T88V", "TM-T88IV")

#: three bytes >= 0x80 and what CP437's chart prints for them
HIGH = b"\xa6\xb1\xe9"
HIGH_CP437 = "ª▒Θ"


def one(data: bytes, printer: str = "default", encoding: str | None = None):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00", DecodeOptions(printer=printer, encoding=encoding))
    return r


def unsupported(r) -> list:
    return [w for w in r.warnings if w.kind == "unsupported"]


@pytest.mark.parametrize("model", EPSON_MODELS)
@pytest.mark.parametrize("n", sorted(EPSON_NAMES))
def test_the_message_names_the_page_how_it_is_read_and_what_to_give(n, model):
    message = unsupported_page_message(n, model)
    assert message is not None
    assert f"code page {n} ({EPSON_NAMES[n]} in Epson's numbering)" in message
    assert f"'{model}'" in message and "read as CP437" in message
    assert "--model" in message and "--encoding" in message and "\n" not in message


def test_pages_with_a_table_have_no_message():
    assert unsupported_page_message(16, "TM-T88V") is None  # Windows-1252
    assert unsupported_page_message(6, "XP-58") is None  # Xprinter page 6: ISO 8859-1
    assert unsupported_page_message(25, "POS-5890") is None  # POS-5890 page 25: Windows-1257


def test_another_familys_numbering_is_not_given_epsons_name():
    message = unsupported_page_message(7, "POS-5890")  # no table for page 7 on the POS-5890 clones
    assert message is not None and "code page 7 has no known encoding" in message
    assert "Kanji" not in message and "read as CP437" in message
    assert untabled_page_name(6, "TSP100III") is None  # Star in ESC/POS mode: not Epson's numbering
    assert untabled_page_name(10, "TM-T88V") is None  # no page 10 on an Epson at all: not named


@pytest.mark.parametrize("n", sorted(EPSON_NAMES))
def test_their_text_is_read_as_cp437_with_a_warning_at_the_command(n):
    r = one(b"A\n" + ESC + b"t" + bytes([n]) + b"B" + HIGH + b"\n")  # ESC t at offset 4
    assert [ln.text for ln in r.lines] == ["A", "B" + HIGH_CP437]
    [w] = unsupported(r)
    assert w.offset == 4 and f"code page {n}" in w.message


@pytest.mark.parametrize("n", sorted(EPSON_NAMES))
def test_the_warning_klx_gives_is_that_message(n):
    [w] = unsupported(one(ESC + b"t" + bytes([n]) + HIGH + b"\n", "TM-T88V"))
    assert w.message == unsupported_page_message(n, "TM-T88V")


def test_both_remedies_the_message_names_work(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(ESC + b"@" + ESC + b"t\x06" + b"A" + HIGH + b"\n" + GS + b"V\x00")
    as_is = json.loads(klx("parse", str(job), "--json").stdout)
    assert as_is["text"] == "A" + HIGH_CP437 and [w["kind"] for w in as_is["warnings"]] == ["unsupported"]
    for option, text in ((("--model", "XP-58"), "A¦±é"), (("--encoding", "cp1252"), "A¦±é")):
        r = klx("parse", str(job), "--json", *option)  # Xprinter page 6 is ISO 8859-1
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["text"] == text and out["warnings"] == []


# -- double-byte (Kanji) mode ---------------------------------------------------------------------

#: Shift_JIS (JIS X 0208 chart) of 円年月 and GB18030 (GB 2312 chart) of 合计
SJIS_YEN_YEAR_MONTH = b"\x89\x7e\x94\x4e\x8c\x8e"
GB_HEJI = b"\xba\xcf\xbc\xc6"


@pytest.mark.parametrize("n", sorted(EPSON_NAMES))
def test_kanji_mode_reads_double_byte_text_whatever_the_page(n):
    sjis = one(ESC + b"t" + bytes([n]) + FS + b"C\x01" + FS + b"&" + SJIS_YEN_YEAR_MONTH + b"\n" + FS + b".")
    assert [ln.text for ln in sjis.lines] == ["円年月"] and sjis.encoding == "cp932"
    gb = one(ESC + b"t" + bytes([n]) + FS + b"&" + GB_HEJI + b"\n" + FS + b"." + HIGH + b"\n")
    assert [ln.text for ln in gb.lines] == ["合计", HIGH_CP437]  # after FS . the page again: CP437
    assert gb.encoding == "gb18030"


@pytest.mark.parametrize("n", sorted(EPSON_NAMES))
def test_without_kanji_mode_double_byte_looking_bytes_stay_single_byte(n):
    r = one(ESC + b"t" + bytes([n]) + GB_HEJI + b"\n")  # a page chosen and no FS &: single-byte
    assert [ln.text for ln in r.lines] == ["║╧╝╞"] and r.encoding == "cp437"  # CP437 chart
