"""The fixed part of the JSON record ``klx parse --json`` prints per receipt, written directly (compiled).

``services/jobs.receipt_json`` prints one record per receipt; a general JSON encoder spends most of its
time walking the record's fixed frame, so the frame is written here field by field, character for
character as ``json.dumps(..., ensure_ascii=False)`` writes it (separators ``", "`` and ``": "``). The
parts whose shape is not fixed (warnings, recording, transaction) stay with the caller's encoder.
mypyc compiles this module (setup.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from kelaile_cli.core.render.text import render_text_unchecked
from kelaile_cli.core.stream.receipt import Code, DrawerKick, Image, Line, LineRun, Receipt

try:  # json.encoder's own: the C function, without importing the json package at every start
    from _json import encode_basestring
except ImportError:  # pragma: no cover - a Python without the C accelerator
    from json.encoder import encode_basestring

__all__ = [
    "from_utf8",
    "json_scalar",
    "json_str",
    "json_value",
    "members_json",
    "receipt_head",
    "receipt_head_utf8",
    "utf8",
]

_INF = float("inf")


#: the characters ``json.dumps`` escapes, but for the newline (written ``\\n``)
_ESCAPED: tuple[str, ...] = (*[chr(c) for c in range(0x20) if c != 0x0A], '"', "\\")
#: from this length on, a text is looked through for each escaped character before ``encode_basestring``
_LONG = 48


def json_str(text: str) -> str:
    """A JSON string as ``json.dumps(..., ensure_ascii=False)`` writes it."""
    if len(text) >= _LONG and _only_newlines(text):
        return '"' + text.replace("\n", "\\n") + '"'
    out: str = encode_basestring(text)
    return out


def utf8(text: str) -> bytes:
    """A piece of a record in UTF-8. A file name's bytes that are not UTF-8 (Python holds them as lone
    surrogates U+DC80-U+DCFF) are written back as they were, as stdout writes them on POSIX."""
    return text.encode("utf-8", "surrogateescape")


def from_utf8(data: bytes) -> str:
    """A record written by ``utf8`` (and ``receipt_head_utf8``) as text again (a receipt text's lone
    surrogate, which ``_json_body_utf8`` writes as ``surrogatepass`` does, comes back as three)."""
    return data.decode("utf-8", "surrogateescape")


def _json_body_utf8(text: str, plain: bool = False) -> bytes:
    """``json_str(text)`` without its quotes, in UTF-8 (as the record is written; a lone surrogate, which
    no decoder of klx makes, as ``surrogatepass`` writes it). ``plain``: the caller knows that the newline
    is the one character of ``text`` that JSON escapes."""
    data = text.encode("utf-8", "surrogatepass")
    if plain or (len(data) >= _LONG and _only_newline_bytes(data)):
        return data.replace(b"\n", b"\\n")
    out: str = encode_basestring(text)
    return out[1:-1].encode("utf-8", "surrogatepass")


#: ``_ESCAPED`` in UTF-8: ASCII bytes, never part of the encoding of another character (as ints: ``int in
#: bytes`` is one ``memchr``, where a ``bytes`` operand is first tried as an int, a TypeError each time)
_ESCAPED_BYTES: tuple[int, ...] = tuple([ord(ch) for ch in _ESCAPED])


def _only_newline_bytes(data: bytes) -> bool:
    """``_only_newlines`` of UTF-8 text: each look-up is one ``memchr``, with no false hit (in a wide
    string, ``memchr`` looks for the character's low byte, which many CJK characters share)."""
    return all(b not in data for b in _ESCAPED_BYTES)  # mypyc: a loop


def _only_newlines(text: str) -> bool:
    """Whether the newline is the one character of ``text`` that JSON escapes.

    A receipt's text (~1,000 characters) has no other, most often. ``str``'s ``in`` finds a character with
    ``memchr``: these 33 look-ups and a ``replace`` of the newlines cost about half of the two passes
    of ``encode_basestring``, which reads each character of a wide (UCS-2) string through a switch on
    its kind."""
    return all(ch not in text for ch in _ESCAPED)  # mypyc: a loop


def json_scalar(value: object) -> str:
    """A JSON scalar (None, str, int, float, bool) as ``json.dumps`` writes it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return json_str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        number: float = value
        if -_INF < number < _INF:
            return repr(number)
    elif type(value) is int:
        return repr(value)
    import json  # not imported at start: ``klx parse --json`` of a raw file may need no other JSON

    return json.dumps(value)  # NaN, Infinity, int and float subclasses: as json spells them


def _str_or_null(value: str | None) -> str:
    return "null" if value is None else json_str(value)


class _Memo:
    """The JSON of the last value of a member that stays the same through a stream (its encoding
    evidence): written again only when the value changes. The pair is replaced as one object, so a
    thread never reads one value's JSON beside another value."""

    def __init__(self) -> None:
        self.last: tuple[object, str] = (None, "")


_EVIDENCE = _Memo()


def _evidence_json(evidence: list[str]) -> str:
    key = tuple(evidence)  # a copy: the list could change after it was written
    value, written = _EVIDENCE.last
    if key != value:
        written = ", ".join([json_str(x) for x in evidence])
        _EVIDENCE.last = (key, written)
    return written


def receipt_head(source_name: str, receipt: Receipt, time: str | None) -> str:
    """The record from its opening brace up to and including ``"queries": [...]`` (no trailing comma).

    ``time``: the capture time as the record writes it (ISO 8601), or None.
    """
    out: list[bytes] = []
    receipt_head_utf8(out, source_name, receipt, time)
    return from_utf8(b"".join(out))


def receipt_head_utf8(out: list[bytes], source_name: str, receipt: Receipt, time: str | None) -> None:
    """``receipt_head`` in UTF-8, appended to ``out`` in pieces: the receipt's text (the longest piece) is
    encoded once, escaped as bytes, and copied once more only, when the caller joins a batch's records.
    Numbers are written as ``str`` writes them (ints: as ``json.dumps`` does), names through ``_word``."""
    codes: list[str] = []
    images: list[str] = []
    kicks: list[str] = []
    for e in receipt.blocks:  # as laid out: lines are not expanded from their runs
        if isinstance(e, (Line, LineRun)):  # most elements: no member of their own
            continue
        if isinstance(e, Code):
            codes.append(
                f'{{"symbology": {_word(e.symbology)}, "data": {json_str(e.data)}, '
                f'"check_digit": {_word_or_null(e.check_digit)}, "offset": {e.start}}}'
            )
        elif isinstance(e, Image):
            images.append(
                f'{{"width": {e.width}, "height": {e.height}, '
                f'"source": {_word(e.source)}, "key": {_str_or_null(e.key)}, "offset": {e.start}}}'
            )
        elif isinstance(e, DrawerKick):
            kicks.append(f'{{"pin": {e.pin}, "offset": {e.start}}}')
    queries = ", ".join([json_str(x) for x in receipt.queries]) if receipt.queries else ""
    out.append(utf8(f'{{"source": {_word(source_name)}, "index": {receipt.index}, "text": "'))
    text, unchecked = render_text_unchecked(receipt, markers=False)  # (the lines of most runs are known)
    rest = "".join(unchecked)  # the other rows, few and short: one pass of the C encoder over them all
    plain = not rest or len(encode_basestring(rest)) == len(rest) + 2 + rest.count("\n")  # "\n": one more
    out.append(_json_body_utf8(text, plain))
    connection = receipt.connection
    out.append(
        utf8(
            f'", "encoding": {_word(receipt.encoding)}, '
            f'"encoding_confidence": {json_scalar(receipt.encoding_confidence)}, '
            f'"encoding_evidence": [{_evidence_json(receipt.encoding_evidence)}], '
            f'"width": {receipt.width}, "dialect": {_word(receipt.dialect)}, '
            f'"cut": {_word_or_null(receipt.cut)}, '
            f'"offset": {{"start": {receipt.start}, "end": {receipt.end}}}, '
            f'"time": {_str_or_null(time)}, '
            f'"connection": {"null" if connection is None else str(connection)}, '
            f'"codes": [{", ".join(codes)}], "images": [{", ".join(images)}], '
            f'"drawer_kicks": [{", ".join(kicks)}], '
            f'"queries": [{queries}]'
        )
    )


#: names a stream repeats (its source's, an encoding, a dialect, a symbology, a cut) -> their JSON
_WORDS: Final[dict[str, str]] = {}
_WORDS_MAX: Final = 1024


def _word(name: str) -> str:
    """``json_str`` of a name, remembered (the names of a stream are few; a name is looked up whole, so
    a thread reads the JSON of the name it asks for)."""
    out = _WORDS.get(name)
    if out is None:
        out = json_str(name)
        if len(_WORDS) >= _WORDS_MAX:
            _WORDS.clear()
        _WORDS[name] = out
    return out


def _word_or_null(name: str | None) -> str:
    return "null" if name is None else _word(name)


def json_value(value: object, encode: Callable[[object], str]) -> str:
    """``encode(value)`` for a value made of dicts with string keys, lists, strings, numbers, booleans
    and None, written here (a receipt's transaction: the general encoder's set-up and walk cost more
    than the writing); anything else — tuples, other keys, other types — is left to ``encode``."""
    if value is None or isinstance(value, (str, int, float)):
        return json_scalar(value)
    if type(value) is list:
        items: list[object] = value
        return "[" + ", ".join([json_value(v, encode) for v in items]) + "]"
    if type(value) is dict:
        mapping: dict[object, object] = value
        parts: list[str] = []
        for key, item in mapping.items():
            if type(key) is not str:
                return encode(value)
            parts.append(f"{json_str(key)}: {json_value(item, encode)}")
        return "{" + ", ".join(parts) + "}"
    return encode(value)


def members_json(members: dict[str, object], encode: Callable[[object], str]) -> str:
    """``, "key": value`` for each member, in order, each as ``encode`` (the caller's JSON style)
    writes it (``json_value``)."""
    return "".join([f", {json_str(key)}: {json_value(value, encode)}" for key, value in members.items()])
