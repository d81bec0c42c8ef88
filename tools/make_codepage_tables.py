"""Write kelaile_cli/core/stream/codepage_tables.py: printer code-page character tables and the
``ESC t n`` numbering of each printer family.

Sources (facts, not code): the character tables and per-family page numbers of the npm packages
``@point-of-sale/codepage-encoder`` and ``@point-of-sale/receipt-printer-encoder`` (tested by their
author on real printers), Epson's ESC/POS reference for the Epson Thai pages 22-26, and IBM's CP851
as published (kostis.net/charsets/cp851.htm) where the two disagree. A table equal to one of
Python's codecs is stored as that codec's name, not as characters. Epson's pages 6 (Hiragana), 7
and 8 (one-pass printing Kanji) and 25 (Thai character code 17) get no table: no maintained source
gives their characters (what was searched: docs/print-stream.md, "Pages without a table").

    mkdir /tmp/npm && cd /tmp/npm && npm install @point-of-sale/receipt-printer-encoder
    python tools/make_codepage_tables.py /tmp/npm/node_modules
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "kelaile_cli" / "core" / "stream" / "codepage_tables.py"

_DUMP = """
const path = require('path');
const base = process.argv[1];
const CE = require(path.join(base, '@point-of-sale/codepage-encoder'));
const src = require('fs').readFileSync(
  path.join(base, '@point-of-sale/receipt-printer-encoder/dist/receipt-printer-encoder.cjs'), 'utf8');
const start = src.indexOf('const codepageMappings = {');
const end = src.indexOf('const printerDefinitions');
const codepageMappings = new Function(src.slice(start, end) + '; return codepageMappings;')();
const tables = {};
for (const n of CE.getEncodings()) {
  const e = CE.getEncoding(n);
  tables[n] = Array.from({length: 256}, (_, i) => e.codepoints[i] ?? null);
}
const families = {};
for (const [lang, fams] of Object.entries(codepageMappings)) {
  for (const [f, arr] of Object.entries(fams)) {
    const pages = {};
    arr.forEach((v, i) => { if (v) pages[i] = v; });
    families[lang + ':' + f] = pages;
  }
}
console.log(JSON.stringify({tables, families}));
"""

#: IBM's CP851 where codepage-encoder differs (Greek tonos and dialytika tonos, soft hyphen)
_CP851_IBM = {0xEF: "\u0384", 0xF0: "\u00ad", 0xF7: "\u0385"}
#: Epson's ESC/POS reference: ESC t 20-26 are Thai character codes 42, 11, 13, 14, 16, 17, 18
_EPSON_THAI = {20: "thai42", 21: "thai11", 22: "thai13", 23: "thai14", 24: "thai16", 26: "thai18"}
#: family names used here for receipt-printer-encoder's (language:mapping) keys
_FAMILIES = {
    "esc-pos:epson": "epson",
    "esc-pos:epson/legacy": "epson-legacy",
    "esc-pos:bixolon": "bixolon",
    "esc-pos:bixolon/legacy": "bixolon-legacy",
    "esc-pos:citizen": "citizen",
    "esc-pos:fujitsu": "fujitsu",
    "esc-pos:hp": "hp",
    "esc-pos:metapace": "metapace",
    "esc-pos:mpt": "mpt",
    "esc-pos:pos-5890": "pos-5890",
    "esc-pos:pos-8360": "pos-8360",
    "esc-pos:star": "star-escpos",
    "esc-pos:sunmi": "sunmi",
    "esc-pos:xprinter": "xprinter",
    "esc-pos:youku": "youku",
    "star-prnt:star": "star",
}


def _python_codec(name: str, chars: str) -> str | None:
    """The Python codec equal to this table on the printable bytes (0x20-0x7E, 0x80-0xFF), if any."""
    for cand in (name, name.replace("windows", "cp"), name.rsplit("/", maxsplit=1)[-1]):
        try:
            py = bytes(range(0x100)).decode(cand, errors="replace")
        except LookupError:
            continue
        if py[0x20:0x7F] + py[0x80:] == chars[0x20:0x7F] + chars[0x80:]:
            return codecs.lookup(cand).name
    return None


def _literal(chars: str) -> str:
    lines = [repr(chars[i : i + 32]) for i in range(0, len(chars), 32)]
    return "(\n        " + "\n        ".join(lines) + "\n    )"


def main(node_modules: str) -> None:
    dump = json.loads(subprocess.run(["node", "-e", _DUMP, node_modules], capture_output=True, check=True).stdout)
    used = set()
    families: dict[str, dict[int, str]] = {}
    for key, fam in _FAMILIES.items():
        pages = {int(n): v for n, v in dump["families"][key].items()}
        if fam == "epson":
            pages = {n: v for n, v in pages.items() if not 20 <= n <= 26} | _EPSON_THAI
        families[fam] = dict(sorted(pages.items()))
        used.update(pages.values())
    python: dict[str, str] = {}
    tables: dict[str, str] = {}
    for name in sorted(used):
        chars = "".join("\ufffd" if c is None else chr(c) for c in dump["tables"][name])
        if name == "cp851":
            chars = "".join(_CP851_IBM.get(i, c) for i, c in enumerate(chars))
        codec = _python_codec(name, chars)
        if codec:
            python[name] = codec
        elif chars[0x20:0x7F] == "".join(map(chr, range(0x20, 0x7F))):
            tables[name] = chars[0x80:]
        else:
            tables[name] = chars
    out = [
        '"""Printer code-page tables and each printer family\'s ``ESC t n`` numbering (generated: do not edit).',
        "",
        "Written by tools/make_codepage_tables.py; its docstring names the sources.",
        '"""',
        "",
        "#: table name -> the Python codec that decodes it exactly (bytes 0x20-0x7E and 0x80-0xFF)",
        "PYTHON_CODECS: dict[str, str] = {",
        *(f"    {k!r}: {v!r}," for k, v in python.items()),
        "}",
        "",
        "#: table name -> characters of bytes 0x80-0xFF (128; below: ASCII) or of every byte (256); U+FFFD: unassigned",
        "TABLES: dict[str, str] = {",
        *(f"    {k!r}: {_literal(v)}," for k, v in tables.items()),
        "}",
        "",
        "#: printer family -> {ESC t page number: table name}",
        "FAMILIES: dict[str, dict[int, str]] = {",
        *(f"    {k!r}: {v!r}," for k, v in families.items()),
        "}",
        "",
    ]
    OUT.write_text("\n".join(out), encoding="utf-8")
    print(f"{OUT}: {len(python)} Python codecs, {len(tables)} tables, {len(families)} families")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "node_modules")
