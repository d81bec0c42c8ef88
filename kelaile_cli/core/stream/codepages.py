"""Which character table ``ESC t n`` selects on a given printer model.

Printers number their code pages differently: page 7 is Windows-1253 on an Xprinter, one-pass printing
Kanji on an Epson; page 24 is CP737 on a POS-5890 clone and Thai character code 16 on an Epson. The numbering of
each printer *family* (Epson, Star, Citizen, Bixolon, Xprinter, the POS-5890/ZJ and POS-8360 clones,
...) and the character tables Python has no codec for are data (``codepage_tables``). A model is put
in a family by its name; the capability database's profile of the model fills the pages its family
table lacks. A model of no family ("default" included) is read with Epson's numbering, which is what
ESC/POS clones copy.

Four pages of Epson's numbering have no table here: 6 (Hiragana), 7 and 8 (one-pass printing Kanji
characters) and 25 (Thai character code 17). No maintained source gives their characters as data:
the capability database lists them as "Unknown", receipt-printer-encoder's tables lack them, and the
open decoders that name them leave them to do. Their text is read in CP437 with a warning that
names them (``EPSON_UNTABLED``, ``untabled_page_name``).
"""

from __future__ import annotations

from kelaile_cli.core.stream.codepage_tables import FAMILIES, PYTHON_CODECS, TABLES

__all__ = ["EPSON_UNTABLED", "FAMILIES", "MODELS", "family_of", "page_table", "table_chars", "untabled_page_name"]

#: model names (as printed on the printer or in its manual) -> family; ``klx printers`` lists them
MODELS: dict[str, str] = {
    "TM-T88V": "epson",
    "TM-T88VI": "epson",
    "TM-T88VII": "epson",
    "TM-T20II": "epson",
    "TM-T20III": "epson",
    "TM-T20IV": "epson",
    "TM-T70": "epson",
    "TM-T70II": "epson",
    "TM-T82III": "epson",
    "TM-m30": "epson",
    "TM-m30II": "epson",
    "TM-m30III": "epson",
    "TM-P20II": "epson",
    "TM-T88II": "epson-legacy",
    "TM-T88III": "epson-legacy",
    "TM-T88IV": "epson-legacy",
    "TM-U220": "epson-legacy",
    "TSP600": "star",  # the capability database's Star-mode profile: ESC GS t (Star line mode, StarPRNT)
    "TSP100III": "star-escpos",
    "TSP100IV": "star-escpos",
    "TSP650II": "star-escpos",
    "mC-Print2": "star-escpos",
    "mC-Print3": "star-escpos",
    "mPOP": "star-escpos",
    "SM-L200": "star-escpos",
    "CT-S310II": "citizen",
    "CT-S651": "citizen",
    "CT-S801": "citizen",
    "CT-E351": "citizen",
    "SRP-350": "bixolon-legacy",
    "SRP-350III": "bixolon",
    "SRP-350plusIII": "bixolon",
    "XP-58": "xprinter",
    "XP-80": "xprinter",
    "XP-N160II": "xprinter",
    "XP-T80Q": "xprinter",
    "POS-5890": "pos-5890",
    "POS-58": "pos-5890",
    "ZJ-5890": "pos-5890",
    "ZJ-5870": "pos-5890",
    "NT-5890K": "pos-5890",
    "POS-8360": "pos-8360",
    "POS-80": "pos-8360",
    "MPT-II": "mpt",
    "Youku-58T": "youku",
    "FP-1000": "fujitsu",
    "A779": "hp",
    "T-1": "metapace",
    "Sunmi-V2": "sunmi",
}

#: Epson's pages that no maintained source gives the characters of -> Epson's name for the page
EPSON_UNTABLED: dict[int, str] = {
    6: "Hiragana",
    7: "one-pass printing Kanji characters",
    8: "one-pass printing Kanji characters",
    25: "Thai character code 17",
}
#: the families whose ``ESC t`` numbering is Epson's (a model of no family is read with it too)
_EPSON_NUMBERING = frozenset({"epson", "epson-legacy"})

#: name prefixes of models not listed above (upper case) -> family, longest first
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("TM-T88IV", "epson-legacy"),
    ("TM-U220", "epson-legacy"),
    ("TM-", "epson"),
    ("TSP", "star-escpos"),
    ("MC-PRINT", "star-escpos"),
    ("SM-", "star-escpos"),
    ("CT-", "citizen"),
    ("SRP-", "bixolon"),
    ("XP-", "xprinter"),
    ("POS-58", "pos-5890"),
    ("ZJ-58", "pos-5890"),
    ("NT-58", "pos-5890"),
    ("POS-80", "pos-8360"),
    ("SUNMI", "sunmi"),
)

#: the capability database's names for tables held here under another name
_DB_NAMES = {
    "KATAKANA": "epson/katakana",
    "CP932": "epson/katakana",  # ESC t 1 is the single-byte Katakana page, not double-byte CP932
    "TCVN-3-1": "tcvn3",
    "TCVN-3-2": "tcvn3capitals",
    "CP928": "star/cp928",
    "RK1048": "rk1048",
}


def family_of(model: str) -> str | None:
    """The code-page family of a printer model, by its name; None for "default" and unknown names."""
    if model in MODELS:
        return MODELS[model]
    upper = model.upper()
    for name, family in MODELS.items():
        if name.upper() == upper:
            return family
    return next((family for prefix, family in _PREFIXES if upper.startswith(prefix)), None)


def page_table(n: int, model: str, database_page: str | None) -> str | None:
    """The table name (a key of ``TABLES`` or ``PYTHON_CODECS``) of page ``n`` on ``model``.

    ``database_page`` is the capability database's name for that page on that model (None if it
    has none): used when the model's family table (Epson's, for a model of no family) has no page n.
    """
    family = FAMILIES[family_of(model) or "epson"]
    if n in family:
        return family[n]
    if database_page:
        name = _DB_NAMES.get(database_page, database_page.lower())
        if name in TABLES or name in PYTHON_CODECS:
            return name
    return None


def untabled_page_name(n: int, model: str) -> str | None:
    """Epson's name for page ``n`` when ``model`` reads it with Epson's numbering and the page is one
    of those without a table (``EPSON_UNTABLED``); None otherwise (a page of the family table, or
    another family's numbering, where page n is something else). For a page that has no codec on
    ``model``: the capability database may give a model of no family a table for these numbers."""
    family = family_of(model)
    if family is not None and family not in _EPSON_NUMBERING:
        return None
    return EPSON_UNTABLED.get(n) if n not in FAMILIES[family or "epson"] else None


def table_chars(name: str) -> str | None:
    """The 256 characters of a table held here (None: a Python codec decodes it, or no such table)."""
    chars = TABLES.get(name)
    if chars is None:
        return None
    return chars if len(chars) == 256 else "".join(map(chr, range(128))) + chars
