"""From printable bytes to characters: code pages, international sets, double-byte CJK encodings.

* ``ESC t n`` is mapped to a code page per printer model: the printer family's numbering and the
  tables Python lacks (``codepages``, generated from maintained sources), then python-escpos's
  bundled capability database (the maintained escpos-printer-db).
* Which double-byte encoding a Chinese printer uses is a printer setting, absent from the stream, so
  ``detect_encoding`` guesses it from the bytes. Short receipts (a few dozen characters) defeat
  general-purpose detectors, and GBK and Big5 decode each other's bytes without errors, so the guess
  scores *plausibility*: decoding errors, then the share of each language's frequently used characters.
  Those sets are derived from the encodings' own layouts (GB2312 level 1, Big5 "frequently used",
  JIS level 1 + kana, KS X 1001 Hangul), plus a short list of the characters receipts use most, which
  separates Korean Hangul bytes from GB2312 Hanzi that happen to share byte ranges.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, Final

from kelaile_cli.core.stream import codepages
from kelaile_cli.core.stream.cells import surely_wide_char

__all__ = [
    "CJK_CANDIDATES",
    "DEFAULT_CODEC",
    "EncodingGuess",
    "apply_intl_charset",
    "ascii_as_itself",
    "codec_for_codepage",
    "decode_text",
    "detect_encoding",
    "lines_decode_alike",
    "printer_models",
    "unsupported_page_message",
]

DEFAULT_CODEC = "cp437"
DETECT_BYTES = 2048  # text bytes scored per stream: hundreds of characters, plenty to decide
CJK_CANDIDATES = ("gb18030", "cp950", "cp932", "cp949")

# -- printer capability database ------------------------------------------------------------------


@cache
def _capabilities() -> dict[str, Any]:
    import escpos

    try:  # the file beside the package: importlib.resources would cost every start its imports (~90 M instructions)
        with open(os.path.join(os.path.dirname(escpos.__file__ or ""), "capabilities.json"), encoding="utf-8") as f:
            data = f.read()
    except OSError:  # a package that is not a plain directory (a zip)
        from importlib import resources

        data = (resources.files("escpos") / "capabilities.json").read_text(encoding="utf-8")
    return json.loads(data)


def printer_models() -> list[str]:
    """Printer model names: the capability database's (``default`` among them) and those whose
    code-page family is known (``codepages.MODELS``)."""
    return sorted(set(_capabilities()["profiles"]) | set(codepages.MODELS))


_CODEC_PREFIX = "klx_"
_TABLES: dict[str, str] = {}


def _register(name: str, chars: str) -> str:
    """Register a codec for a 256-character table; returns its name."""
    codec = _CODEC_PREFIX + re.sub(r"[^a-z0-9]+", "_", name.lower())
    _TABLES[codec] = chars
    return codec


def _search(name: str) -> codecs.CodecInfo | None:
    """Codec search function for the code pages made from tables (``_register``)."""
    table = _TABLES.get(name.replace("-", "_"))
    if table is None:
        return None
    encoding_map = codecs.charmap_build(table)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.charmap_encode(text, errors, encoding_map)

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:  # Any: the codec API passes buffers
        return codecs.charmap_decode(data, errors, table)

    return codecs.CodecInfo(encode, decode, name=name.replace("-", "_"))


codecs.register(_search)


def _table_codec(name: str) -> str | None:
    """The codec of a table named in ``codepages`` (a Python codec, or one made from its characters)."""
    if name in codepages.PYTHON_CODECS:
        return codecs.lookup(codepages.PYTHON_CODECS[name]).name
    chars = codepages.table_chars(name)
    return _register(name, chars) if chars else None


def _database_codec(name: str) -> str | None:
    """The codec of a code page as the capability database describes it (its Python codec or its
    ``data`` table); None when it has neither."""
    info = _capabilities()["encodings"].get(name, {})
    if info.get("python_encode"):
        try:
            return codecs.lookup(info["python_encode"]).name
        except LookupError:
            return None
    upper = "".join(info.get("data") or [])
    return _register(name, "".join(map(chr, range(128))) + upper) if len(upper) == 128 else None


@cache
def codec_for_codepage(n: int, printer: str = "default") -> str | None:
    """The Python codec for code table ``n`` (``ESC t n``) on ``printer``; None if unknown there.

    The printer family's numbering decides (``codepages``), then the capability database's profile
    of the model; a model of a known family that the database lacks gets no page from the database's
    default profile (its numbering is another family's)."""
    profiles = _capabilities()["profiles"]
    profile = profiles.get(printer) or ({} if codepages.family_of(printer) else profiles["default"])
    db_name = profile.get("codePages", {}).get(str(n))
    table = codepages.page_table(n, printer, db_name)
    if table is not None:
        return _table_codec(table)
    return _database_codec(db_name) if db_name else None


def unsupported_page_message(n: int, printer: str = "default") -> str | None:
    """The warning for ``ESC t n`` on ``printer`` when no table is known for that page there (None
    when there is one): it names the page (Epson's name for the pages no source gives the characters
    of), says that its text is read in the default code page, and what to give instead."""
    if codec_for_codepage(n, printer) is not None:
        return None
    name = codepages.untabled_page_name(n, printer)
    read_as = DEFAULT_CODEC.upper()
    if name:
        return (
            f"code page {n} ({name} in Epson's numbering) has no known encoding on printer model '{printer}':"
            f" no maintained source gives its characters, so its text is read as {read_as};"
            " if the printer is not an Epson give its model with --model (klx printers lists them),"
            " or the text's code page with --encoding"
        )
    return (
        f"code page {n} has no known encoding on printer model '{printer}': its text is read as {read_as};"
        " give the printer's model with --model (klx printers lists them) or the text's code page with --encoding"
    )


# -- ESC R international character sets --------------------------------------------------------------

_NATIONAL = "#$@[\\]^`{|}~"
_INTL = {
    0: "#$@[\\]^`{|}~",
    1: "#$à°ç§^`éùè¨",
    2: "#$§ÄÖÜ^`äöüß",
    3: "£$@[\\]^`{|}~",
    4: "#$@ÆØÅ^`æøå~",
    5: "#¤ÉÄÖÅÜéäöåü",
    6: "#$@°\\é^ùàòèì",
    7: "₧$@¡Ñ¿^`¨ñ}~",
    8: "#$@[¥]^`{|}~",
    9: "#¤ÉÆØÅÜéæøåü",
    10: "#$ÉÆØÅÜéæøåü",
    11: "#$á¡Ñ¿é`íñóú",
    12: "#$á¡Ñ¿éüíñóú",
    13: "#$@[₩]^`{|}~",
    15: "#¥@[\\]^`{|}~",
}
_INTL_TABLES = {n: str.maketrans(_NATIONAL, chars) for n, chars in _INTL.items() if n}


def apply_intl_charset(text: str, n: int) -> str:
    """Replace the 12 national ASCII positions as ``ESC R n`` does (unknown n: unchanged)."""
    table = _INTL_TABLES.get(n)
    return text.translate(table) if table else text


# -- decoding --------------------------------------------------------------------------------------

#: double-byte encodings whose trail bytes never include LF (0x0A), and UTF-8
_LF_SAFE_MULTIBYTE = frozenset(
    {"gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs", "shift_jis", "cp932", "euc_kr", "cp949", "euc_jp"}
    | {"shift_jis_2004", "shift_jisx0213", "johab", "utf_8", "klx_mojibake_utf8", "klx_mojibake_gbk"}
)
_PRINTABLE_ASCII = bytes([0x0A, *range(0x20, 0x80)])


@cache
def _codec_name(codec: str) -> str | None:
    """Python's name of ``codec`` with underscores (``GB-18030`` -> ``gb18030``); None for no known codec."""
    try:
        return codecs.lookup(codec).name.replace("-", "_")
    except LookupError:
        return None


@cache
def lines_decode_alike(codec: str) -> bool:
    """Whether decoding a block of lines at once gives the same lines as decoding each line on its own
    (when the block decodes cleanly): LF is always the character "\\n" and never part of another one.
    True for single-byte code pages (every byte one character, no state) and the double-byte encodings."""
    name = _codec_name(codec)
    if name is None:
        return False
    if name in _LF_SAFE_MULTIBYTE:
        return True
    try:
        text = bytes(range(256)).decode(name)
        if len(text) != 256 or text.find("\n") != 0x0A or text.count("\n") != 1:
            return False  # not one character per byte, or LF is not the only byte that decodes to "\n"
        return all(bytes([b]).decode(name) == text[b] for b in range(256))  # and no state
    except UnicodeDecodeError:
        return False


_NOT_PLAIN_MULTIBYTE = ("klx_mojibake_utf8", "klx_mojibake_gbk")  # klx's own codecs: not known well enough


@cache
def _single_bytes(codec: str) -> int:
    """How a stateless multibyte ``codec``'s bytes decode alone: 0 not such a codec, or a byte below
    0x80 is not that ASCII character, or a byte from 0x80 is a character in ``SURELY_WIDE``; 1 some byte
    from 0x80 is a (narrow) character alone; 2 none is."""
    name = _codec_name(codec)
    if name not in _LF_SAFE_MULTIBYTE or name in _NOT_PLAIN_MULTIBYTE:
        return 0
    alone = 2
    for b in range(256):
        try:
            ch = bytes((b,)).decode(codec)
        except UnicodeDecodeError:
            if b < 0x80:
                return 0
            continue
        if b < 0x80:
            if ch != chr(b):
                return 0
        elif any(surely_wide_char(c) for c in ch):
            return 0
        else:
            alone = 1
    return alone


def wide_from_two_bytes(codec: str) -> bool:
    """Whether in ``codec`` an ASCII character always comes from its one byte and a character in
    ``SURELY_WIDE`` from two bytes or more: then text of such characters takes at most as many columns
    as it has bytes, exactly as many when each wide character came from two (``Layout._decode_lines``)."""
    return _single_bytes(codec) > 0


#: double-byte encodings in which every byte sequence is one character, taking no more columns than it has
#: bytes (tests/core/stream check each sequence of one and two bytes, and the longer ones of GB18030,
#: EUC-JP and EUC-KR): not Big5-HKSCS nor Shift_JIS-2004, some of whose pairs are two characters
_COLS_WITHIN_BYTES = frozenset(
    {"gb18030", "gbk", "gb2312", "big5", "cp950", "shift_jis", "cp932", "euc_kr", "cp949", "euc_jp", "johab"}
)


#: the characters JSON escapes (but the newline), as ``json.dumps`` does
_JSON_ESCAPED = frozenset([*(chr(c) for c in range(0x20) if c != 0x0A), '"', "\\"])


@cache
def escapes_as_ascii(codec: str) -> bool:
    """Whether text of ``codec`` from bytes 0x20 and up (and LF) holds a character that JSON escapes (but
    the newline) only where a byte 0x22 or 0x5C (``"``, ``\\``) was: then a run without those bytes is
    written into a record as it is, but for its newlines. The double-byte encodings of
    ``cols_within_bytes`` (tests/core/stream check each of their sequences) and single-byte code pages
    (each byte checked here)."""
    if cols_within_bytes(codec):
        return True
    name = _codec_name(codec)
    if name is None or name in _LF_SAFE_MULTIBYTE:
        return False
    try:
        text = bytes(range(0x20, 0x100)).decode(name, "replace")
    except ValueError:  # a codec that does not take "replace"
        return False
    if len(text) != 0xE0:
        return False  # not a character per byte
    return all(ch not in _JSON_ESCAPED or ch == chr(b) for b, ch in enumerate(text, 0x20))


@cache
def cols_within_bytes(codec: str) -> bool:
    """Whether no text of ``codec`` takes more columns than it has bytes, nor has more characters: then a
    line's bytes less its trailing blanks bound its columns, and are them when each non-ASCII
    character is wide and came from two bytes (CJK text, most often)."""
    return _codec_name(codec) in _COLS_WITHIN_BYTES


@cache
def ascii_as_itself(codec: str) -> bool:
    """Whether text of LF and printable ASCII bytes (0x20-0x7F) always decodes to itself in ``codec``."""
    try:
        return lines_decode_alike(codec) and _PRINTABLE_ASCII.decode(codec) == _PRINTABLE_ASCII.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


def decode_text(data: bytes, codec: str) -> tuple[str, list[tuple[int, bytes]]]:
    """Decode without ever raising: bad bytes become U+FFFD and are reported as (offset, bytes)."""
    try:
        return data.decode(codec), []
    except UnicodeDecodeError:
        pass
    except LookupError:
        codec = DEFAULT_CODEC
    parts: list[str] = []
    bad: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        try:
            parts.append(data[pos:].decode(codec))
            break
        except UnicodeDecodeError as exc:
            start, end = pos + exc.start, pos + max(exc.end, exc.start + 1)
            parts.append(data[pos:start].decode(codec))
            parts.append("\ufffd")
            bad.append((start, data[start:end]))
            pos = end
    return "".join(parts), bad


# -- CJK detection ---------------------------------------------------------------------------------

_ASCII_RUNS = re.compile("[\x00-\x7f]+")
_HIGH_BYTES = re.compile(b"[\x80-\xff]")


@cache
def _frequent() -> dict[str, frozenset[str]]:
    """Each CJK encoding's frequent characters (a block of its double-byte table, written out by
    tools/make_frequent_chars.py: building them from the codecs cost ~5 ms of each start)."""
    from kelaile_cli.core.stream.frequent_chars import FREQUENT

    return {codec: frozenset(chars) for codec, chars in FREQUENT.items()}


#: Characters receipts use most, per language; a match here is strong evidence.
_RECEIPT_WORDS = {
    "gb18030": "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"
    "合计金额数量单价收银员找零现金支付微信宝会员号桌台日期时间小票欢迎光临谢谢惠顾应实优惠折扣订单"
    "商品名称总份元积分卡券打包外卖堂食菜鸡肉饭面汤茶咖啡牛奶",
    "cp950": "的一是了我不人在他有這個上們來到時大地為子中你說生國年著就那和要她出也得裡後自以會"
    "合計金額數量單價收銀員找零現金支付發票統編號桌台日期時間明細謝謝光臨惠顧應實優惠折扣訂單"
    "商品名稱總份元點卡券外帶內用雞肉飯麵湯茶咖啡奶珍珠",
    "cp932": "のにはをたがでてとしれさあるいうかもなこ円合計税込小計お預り釣銭領収書様日時番号品"
    "アイスコーヒーカードポイント",
    "cp949": "이다는의에하고를가을합계금액수량현카드영수증원부가세결제일시번호상품명감사합니다할인",
}


class EncodingGuess:
    """A stream's text encoding as guessed from its bytes: the codec, whether it is double-byte, how
    sure the guess is, and each candidate's score (a value, never changed once made)."""

    __slots__ = ("cjk", "codec", "confidence", "scores")

    def __init__(self, codec: str, cjk: bool, confidence: float, scores: dict[str, float] | None = None) -> None:
        self.codec: Final = codec
        self.cjk: Final = cjk
        self.confidence: Final = confidence
        self.scores: Final[dict[str, float]] = {} if scores is None else scores

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EncodingGuess):
            return NotImplemented
        return (self.codec, self.cjk, self.confidence, self.scores) == (
            other.codec,
            other.cjk,
            other.confidence,
            other.scores,
        )

    __hash__ = None  # type: ignore[assignment]  # holds a dict: unhashable, as the frozen dataclass was in use

    def __repr__(self) -> str:
        return (
            f"EncodingGuess(codec={self.codec!r}, cjk={self.cjk!r}, confidence={self.confidence!r}, "
            f"scores={self.scores!r})"
        )


@cache
def _others(codec: str) -> tuple[frozenset[str], ...]:
    """The frequent characters of each other CJK language (asked of the few characters that are in no
    other class, so not merged into one set: that took ~3 ms of each start)."""
    return tuple(s for c, s in _frequent().items() if c != codec)


#: punctuation and box marks that double-byte receipts print (as two-byte characters) for rules and lists
_RULE_MARKS = frozenset("·×—–…‘’“”°¥±※■□▲△◆◇○●★☆─━│┃═")


def _cjk_score(samples: Sequence[bytes], codec: str) -> float:
    own = _frequent()[codec]
    words = _RECEIPT_WORDS[codec]
    others = _others(codec)
    total = good = 0.0
    for raw in samples:
        text, _ = decode_text(raw, codec)
        for ch in _ASCII_RUNS.sub("", text):  # ASCII counts for nothing: skip it in C
            total += 1
            if ch == "\ufffd":
                good -= 3
            elif ch in words:
                good += 1.5
            elif ch in own:
                good += 1
            elif 0xFF61 <= ord(ch) <= 0xFF9F:
                pass  # half-width katakana: one byte each in cp932, so any run of high bytes makes them
            elif 0x3000 <= ord(ch) <= 0x303F or 0xFF00 <= ord(ch) <= 0xFFEF or ch in _RULE_MARKS:
                good += 0.8  # CJK and full-width punctuation, and the marks receipts draw rules with
            elif any(ch in chars for chars in others):  # (mypyc compiles any() of a generator to a loop)
                good += 0.2
            else:
                good -= 1
    return good / total if total else 0.0


def _single_byte_score(samples: Sequence[bytes], codec: str) -> float:
    """European text: high bytes mostly stand alone between ASCII letters and decode to letters."""
    high = isolated = letters = 0
    for raw in samples:
        text, bad = decode_text(raw, codec)
        n = len(raw)
        for m in _HIGH_BYTES.finditer(raw):
            i = m.start()
            high += 1
            if (i == 0 or raw[i - 1] < 0x80) and (i == n - 1 or raw[i + 1] < 0x80):
                isolated += 1
        letters += sum(1 for ch in _ASCII_RUNS.sub("", text) if ch.isalpha() or ch in "€£¥°§µ±½¼²³")
        high += 2 * len(bad)
    if not high:
        return 0.0
    return min(1.0, (isolated + letters) / (2 * high)) * 1.2


def detect_encoding(
    samples: Sequence[bytes], *, single_byte_codec: str = DEFAULT_CODEC, cjk_declared: bool = False
) -> EncodingGuess:
    """Guess the codec of a stream's text runs (bytes >= 0x20).

    ``cjk_declared`` (``FS &`` seen) restricts the guess to double-byte encodings; otherwise the
    stream's single-byte code page competes too, so European text is never read as Chinese.
    """
    texts: list[bytes] = []
    budget = DETECT_BYTES
    for sample in samples:
        if budget <= 0:
            break
        if not sample.isascii():  # a byte >= 0x80
            texts.append(sample)
            budget -= len(sample)
    if not texts:
        return EncodingGuess(single_byte_codec, False, 1.0, {})
    scores = {codec: _cjk_score(texts, codec) for codec in CJK_CANDIDATES}
    if not cjk_declared:
        scores[single_byte_codec] = _single_byte_score(texts, single_byte_codec)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, best_score = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else -3.0
    confidence = max(0.0, min(1.0, (best_score - runner) / 1.5 + (0.5 if best_score > 0.5 else 0.0)))
    return EncodingGuess(
        best, best in CJK_CANDIDATES, round(confidence, 3), {k: round(v, 3) for k, v in scores.items()}
    )
