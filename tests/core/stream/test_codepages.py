"""Code pages per printer family (issue 14 defect 3): every page of every family's table decodes a
byte to the glyph the code page's published chart puts there; the pages the issue found unknown are
known; an unknown page is a warning naming the page and the offset, never a crash."""

from __future__ import annotations

import json

import pytest

from kelaile_cli.core.stream.codepages import FAMILIES, MODELS, family_of
from kelaile_cli.core.stream.encoding import codec_for_codepage, printer_models
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from tests.helpers import klx

ESC, GS = b"\x1b", b"\x1d"

#: one byte of each table and the glyph its chart shows there (from the code pages' published charts)
GLYPH: dict[str, tuple[int, str]] = {
    "cp437": (0x9C, "£"),
    "cp720": (0x98, "ء"),
    "cp737": (0x80, "Α"),
    "cp771": (0xDC, "Ą"),
    "cp772": (0xB5, "Ą"),
    "cp774": (0xB5, "Ą"),
    "cp775": (0x80, "Ć"),
    "cp850": (0x9B, "ø"),
    "cp851": (0xA4, "Α"),
    "cp852": (0x9F, "č"),
    "cp853": (0xA6, "Ğ"),
    "cp855": (0x80, "ђ"),
    "cp857": (0xD5, "€"),
    "cp858": (0xD5, "€"),
    "cp860": (0x84, "ã"),
    "cp861": (0x8B, "Ð"),
    "cp862": (0x80, "א"),
    "cp863": (0x84, "Â"),
    "cp864": (0xA3, "£"),
    "cp865": (0x9B, "ø"),
    "cp866": (0x80, "А"),
    "cp869": (0xA4, "Α"),
    "cp874": (0xA1, "ก"),
    "cp1001": (0x80, "ء"),
    "cp1098": (0x8C, "ء"),
    "cp1125": (0xF2, "Ґ"),
    "cp3001": (0xD0, "š"),
    "cp3002": (0xD0, "Š"),
    "cp3011": (0xB5, "Ā"),
    "cp3012": (0x80, "А"),
    "cp3021": (0x80, "А"),
    "cp3041": (0x5B, "ġ"),  # ISO 646 Maltese: national letters in the ASCII range
    "cp3840": (0x80, "А"),
    "cp3841": (0xC0, "ю"),
    "cp3843": (0x86, "ą"),
    "cp3844": (0x80, "Č"),
    "cp3845": (0x93, "ő"),
    "cp3846": (0x9E, "Ş"),
    "cp3847": (0xC7, "Ç"),
    "cp3848": (0xA6, "Ç"),
    "iso8859-1": (0xE9, "é"),
    "iso8859-7": (0xC1, "Α"),
    "iso8859-15": (0xA4, "€"),
    "rk1048": (0xC0, "А"),
    "windows1250": (0x8A, "Š"),
    "windows1251": (0xC0, "А"),
    "windows1252": (0x80, "€"),
    "windows1253": (0xC1, "Α"),
    "windows1254": (0xF0, "ğ"),
    "windows1255": (0xE0, "א"),
    "windows1256": (0xC7, "ا"),
    "windows1257": (0xC0, "Ą"),
    "windows1258": (0xC3, "Ă"),
    "thai11": (0xA1, "ก"),
    "thai13": (0xA1, "ก"),
    "thai14": (0xA1, "ก"),
    "thai16": (0xA1, "ก"),
    "thai18": (0xA1, "ก"),
    "thai42": (0xA1, "ก"),
    "tcvn3": (0xB5, "à"),
    "tcvn3capitals": (0xB5, "À"),
    "viscii": (0xE0, "à"),
    "khmer": (0x80, "ក"),
    "latvian": (0xB5, "Ā"),
    "epson/katakana": (0xB1, "ｱ"),
    "epson/iso8859-2": (0xA1, "Ą"),
    "star/standard": (0xA0, "Ä"),
    "star/katakana": (0xB1, "ｱ"),
    "star/cp874": (0xA1, "ก"),
    "star/cp928": (0xC1, "Α"),
    "bixolon/cp866": (0x80, "А"),
    "bixolon/hebrew": (0xE0, "א"),
    "xprinter/hebrew": (0x80, "א"),
    "pos8360/hebrew": (0x80, "א"),
}


def _model(family: str) -> str:
    """A model of this family (the first listed)."""
    return next(m for m, f in MODELS.items() if f == family)


PAGES = [(family, n, name) for family, pages in FAMILIES.items() for n, name in pages.items()]


@pytest.mark.parametrize(("family", "n", "name"), PAGES, ids=[f"{f}-{n}-{t}" for f, n, t in PAGES])
def test_every_page_of_every_family_decodes_its_glyph(family, n, name):
    byte, glyph = GLYPH[name]
    codec = codec_for_codepage(n, _model(family))
    assert codec is not None
    assert bytes([byte]).decode(codec) == glyph


def test_every_family_has_a_model_and_models_are_listed():
    assert {family_of(m) for m in MODELS} == set(FAMILIES)
    assert set(MODELS) <= set(printer_models())
    assert family_of("XP-Q200") == "xprinter" and family_of("tm-t88vi") == "epson" and family_of("default") is None


def one(data: bytes, printer: str = "default"):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00", DecodeOptions(printer=printer))
    return r


@pytest.mark.parametrize(
    ("printer", "data", "text"),
    [
        ("default", ESC + b"t\x0b" + b"\xb5\xd6\xf3\xde\x9f\xe9", "Καφείο"),  # Epson page 11: CP851
        ("TM-T88V", ESC + b"t\x0b" + b"\xa4\xd6", "Αα"),
        ("TM-T88V", ESC + b"t\x16" + b"\xa1\xd2\xe0", "กาเ"),  # page 22: Thai character code 13
        ("XP-N160II", ESC + b"t\x07" + b"\xc1\xe1", "Αα"),  # Xprinter page 7: Windows-1253
        ("XP-N160II", ESC + b"t\x09" + b"\x80\xa0", "Аа"),  # Xprinter page 9: CP3012
        ("POS-5890", ESC + b"t\x18" + b"\x80\x98", "Αα"),  # POS-5890 page 24: CP737
        ("CT-S651", ESC + b"t\x02" + b"\xd5", "€"),  # Citizen page 2: CP858 (Epson's page 2 is CP850)
    ],
)
def test_pages_the_issue_found_unknown(printer, data, text):
    r = one(data + b"\n", printer)
    assert [ln.text for ln in r.lines] == [text]
    assert not r.warnings


def test_an_unknown_page_is_a_warning_naming_page_and_offset():
    data = b"A\n" + ESC + b"t\x0a" + b"B\xe9\n"  # page 10: none on Epson; ESC t at offset 4
    r = one(data, "TM-T88V")
    [w] = [w for w in r.warnings if w.kind == "unsupported"]
    assert w.offset == 4 and "code page 10" in w.message and "TM-T88V" in w.message
    assert r.lines[0].text == "A"


def test_klx_parse_model_uses_the_family_table(tmp_path):
    job = tmp_path / "job.bin"
    job.write_bytes(ESC + b"@" + ESC + b"t\x07" + b"\xc1\xe8\xe7\xed\xe1\n" + GS + b"V\x00")  # "Αθηνα"
    r = klx("parse", str(job), "--json", "--model", "XP-N160II")
    assert r.returncode == 0, r.stderr
    assert "Αθηνα" in json.loads(r.stdout)["text"]
    auto = klx("parse", str(job), "--json")  # default: Epson numbering, where page 7 is unknown
    assert auto.returncode == 0, auto.stderr
    assert "Αθηνα" not in json.loads(auto.stdout)["text"]


def test_star_esc_gs_t_uses_stars_numbering():
    star = ESC + b"@" + ESC + b"\x1dt\x10" + b"\xa4\xd6\n" + ESC + b"\x1dt\x20" + b"caf\xe9\n" + ESC + b"d\x02"
    [r] = read_receipts(star, DecodeOptions(dialect="star"))
    assert [ln.text for ln in r.lines] == ["Αα", "café"]  # Star page 16: CP851; page 32: Windows-1252
    assert not r.warnings
