"""Text that was mis-decoded once and saved again (mojibake), recognised from the bytes of a stream.

Three shapes are common at a POS whose item names went through a wrong decoding:

- the POS sends **UTF-8** to a single-byte printer: ``é`` is ``C3 A9`` and prints as ``Ã©``;
- UTF-8 text was **read as cp1252/Latin-1 and saved as UTF-8 again**: ``é`` arrives as ``C3 83 C2 A9``;
- **GBK** text was read as Latin-1 and saved as UTF-8: ``合`` (``BA CF``) arrives as ``C2 BA C3 8F``.

All three make the stream's high bytes valid UTF-8, which text in a single-byte code page or in GBK
almost never is. ``detect_mojibake`` tells them apart; the codecs ``klx_mojibake_utf8`` and
``klx_mojibake_gbk`` (registered here) decode such text back: UTF-8 first, then the result's
characters as the bytes they were read from, decoded again. A character that does not decode back
is left as the first decoding made it (never dropped).
"""

from __future__ import annotations

import codecs
from typing import Any

__all__ = ["GBK_CODEC", "UTF8_TWICE_CODEC", "Mojibake", "detect_mojibake", "redecode"]

UTF8_TWICE_CODEC = "klx_mojibake_utf8"
GBK_CODEC = "klx_mojibake_gbk"
_TARGETS = {UTF8_TWICE_CODEC: "utf-8", GBK_CODEC: "gbk"}

#: a character of a cp1252 (else Latin-1) reading -> the byte it was read from
_BYTE_OF: dict[str, int] = {chr(b): b for b in range(256)}
_BYTE_OF.update({ch: b for b in range(0x80, 0xA0) if (ch := bytes([b]).decode("cp1252", errors="replace")) != "\ufffd"})

CHECK_BYTES = 4096  # text bytes looked at: hundreds of non-ASCII characters

#: share of the re-decoded GBK text that must be common Chinese characters for the GBK reading
_GBK_HAN_SHARE = 0.6


class Mojibake:
    """What ``detect_mojibake`` found: the codec that decodes the text back and what happened, in words."""

    def __init__(self, codec: str, message: str) -> None:
        self.codec = codec
        self.message = message


def _decode_keep(raw: bytes, first: str, target: str) -> str:
    """``raw`` (one byte per character of ``first``) decoded as ``target``; bytes that do not decode
    stay the characters of ``first`` they came from."""
    out: list[str] = []
    pos = 0
    while pos < len(raw):
        try:
            out.append(raw[pos:].decode(target))
            break
        except UnicodeDecodeError as exc:
            out.append(raw[pos : pos + exc.start].decode(target))
            out.append(first[pos + exc.start : pos + exc.end])
            pos += exc.end
    return "".join(out)


def redecode(first: str, target: str) -> str:
    """Undo a cp1252/Latin-1 reading of ``target`` text: ``first``'s characters back to their bytes,
    decoded as ``target``. Characters no such reading makes are kept as they are."""
    out: list[str] = []
    i = 0
    n = len(first)
    while i < n:
        j = i
        raw = bytearray()
        while j < n and first[j] in _BYTE_OF:
            raw.append(_BYTE_OF[first[j]])
            j += 1
        if j == i:
            out.append(first[i])
            i += 1
            continue
        out.append(first[i:j] if raw.isascii() else _decode_keep(bytes(raw), first[i:j], target))
        i = j
    return "".join(out)


def _han_share(text: str) -> float:
    high = [ch for ch in text if ord(ch) >= 0x80]
    if not high:
        return 0.0
    return sum(1 for ch in high if "\u4e00" <= ch <= "\u9fff" or ch in "，。：；（）￥") / len(high)


def detect_mojibake(samples: list[bytes]) -> Mojibake | None:
    """The mojibake shape of a stream's text runs with bytes >= 0x80, or None when they are not all
    valid UTF-8 (then they are text in the printer's own encoding)."""
    if not samples:
        return None
    taken: list[bytes] = []
    size = 0
    for sample in samples:  # the first few kilobytes decide (this runs once per job of a live stream)
        if size >= CHECK_BYTES:
            break
        taken.append(sample)
        size += len(sample)
    try:
        first = b"\n".join(taken).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(ch in _BYTE_OF for ch in first):  # every character could be a cp1252/Latin-1 reading
        raw = bytes(_BYTE_OF[ch] for ch in first)
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return Mojibake(
                    UTF8_TWICE_CODEC,
                    "UTF-8 text read as cp1252/Latin-1 and saved as UTF-8 again (é sent as C3 83 C2 A9): decoded twice",
                )
            try:
                gbk = raw.decode("gbk")
            except UnicodeDecodeError:
                pass
            else:
                if _han_share(gbk) >= _GBK_HAN_SHARE:
                    return Mojibake(
                        GBK_CODEC,
                        "GBK text read as Latin-1 and saved as UTF-8 (合 sent as C2 BA C3 8F): "
                        "decoded as UTF-8, then GBK",
                    )
    return Mojibake(
        "utf-8",
        "text is UTF-8 (é sent as C3 A9), which a single-byte printer prints as Ã©: decoded as UTF-8",
    )


def _search(name: str) -> codecs.CodecInfo | None:
    """Codec search function for the two decode-back codecs (decoding only)."""
    key = name.replace("-", "_")
    target = _TARGETS.get(key)
    if target is None:
        return None

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:  # Any: the codec API passes buffers
        raw = bytes(data)
        return redecode(raw.decode("utf-8", errors), target), len(raw)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return text.encode("utf-8", errors), len(text)

    return codecs.CodecInfo(encode, decode, name=key)


codecs.register(_search)
