"""Mask personal data in a print stream while keeping it valid ESC/POS (sans-IO).

Phone numbers, payment card numbers (Luhn-checked, last four kept) and member ids (digits after a
label such as 会员/會員/Member/Card No) are found in the decoded *text* and their digits replaced by
``*`` byte for byte: digits are single bytes in every code page and double-byte encoding used on
receipts, so lengths, command arguments, images and offsets are untouched. Barcode and 2-D code
contents are left alone unless asked (``codes=True``): masking them keeps the command lengths but a
masked EAN-13 no longer has a valid check digit, so the printer may refuse to print it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Command, Event, Text
from kelaile_cli.core.stream.printstream import CodecTracker, DecodeOptions

__all__ = ["MEMBER_LABELS", "Redaction", "StreamingRedactor", "redact_stream"]

MASK = ord("*")
MEMBER_LABELS = (
    "会员",
    "會員",
    "会员号",
    "會員編號",
    "卡号",
    "卡號",
    "Member",
    "Member No",
    "Card No",
    "VIP",
    "Mitglied",
)

_PHONE = re.compile(
    r"(?<!\d)(?:1[3-9]\d{9}|09\d{2}[- ]?\d{3}[- ]?\d{3}|\+\d{1,3}[ -]?\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4})(?!\d)"
)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _member_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?:{alts})\s*(?:[:：#号號]|ID|No\.?)?\s*([0-9A-Za-z][0-9A-Za-z -]{{3,}}[0-9A-Za-z])", re.I)


@dataclass(frozen=True, slots=True)
class Redaction:
    offset: int  # stream offset of the first masked byte
    length: int  # bytes from the first to the last masked byte
    kind: str  # 'phone' | 'card' | 'member' | 'code'


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class _Masker:
    def __init__(self, codec_for: dict[int, str], labels: tuple[str, ...]) -> None:
        self.codec_for = codec_for
        self.member = _member_pattern(labels)

    def text(self, out: bytearray, ev: Text, base: int, found: list[Redaction]) -> None:
        codec = self.codec_for.get(ev.offset, "latin-1")
        try:
            text = ev.raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            codec, text = "latin-1", ev.raw.decode("latin-1")
        spans: list[tuple[int, int, str, int]] = []  # (start, end, kind, keep last n digits)
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and _luhn(digits):
                spans.append((m.start(), m.end(), "card", 4))
        for m in _PHONE.finditer(text):
            spans.append((m.start(), m.end(), "phone", 0))
        for m in self.member.finditer(text):
            spans.append((m.start(1), m.end(1), "member", 0))
        cards = [(a, b) for a, b, kind, _ in spans if kind == "card"]
        # a card number keeps its last four digits even when a label ("卡号") also points at it
        spans = [sp for sp in spans if sp[2] == "card" or not any(sp[0] < b and a < sp[1] for a, b in cards)]
        if not spans:
            return
        starts = _byte_offsets(text, codec)
        for start, end, kind, keep in spans:
            digit_pos = [i for i in range(start, end) if text[i].isdigit() and text[i].isascii()]
            masked = digit_pos[: max(0, len(digit_pos) - keep)]
            if not masked:
                continue
            for i in masked:
                out[ev.offset - base + starts[i]] = MASK
            first, last = starts[masked[0]], starts[masked[-1]]
            found.append(Redaction(ev.offset + first, last - first + 1, kind))


def _byte_offsets(text: str, codec: str) -> list[int]:
    """Byte offset of each character of ``text`` once encoded (digits and ASCII are one byte)."""
    offsets, pos = [], 0
    for ch in text:
        offsets.append(pos)
        pos += 1 if ch.isascii() else len(ch.encode(codec, errors="replace"))
    return offsets


def _mask_code(out: bytearray, ev: Command, base: int, found: list[Redaction]) -> None:
    if ev.op == "barcode":
        start = 3 if ev.raw[2] <= 6 else 4
        end = len(ev.raw) - (1 if ev.raw[2] <= 6 else 0)
    elif ev.op == "code2d_store":
        start, end = len(ev.raw) - len(ev.params.get("data", b"")), len(ev.raw)
    else:
        return
    masked = [i for i in range(start, end) if 0x30 <= ev.raw[i] <= 0x39]
    for i in masked:
        out[ev.offset - base + i] = MASK
    if masked:
        found.append(Redaction(ev.offset + masked[0], masked[-1] - masked[0] + 1, "code"))


def _redact_events(
    data: bytes, events: list[Event], base: int, codecs: dict[int, str], codes: bool, labels: tuple[str, ...]
) -> tuple[bytes, list[Redaction]]:
    out = bytearray(data)
    found: list[Redaction] = []
    masker = _Masker(codecs, labels)
    for ev in events:
        if isinstance(ev, Text):
            masker.text(out, ev, base, found)
        elif codes and isinstance(ev, Command):
            _mask_code(out, ev, base, found)
    return bytes(out), found


def redact_stream(
    data: bytes,
    *,
    codes: bool = False,
    labels: tuple[str, ...] = MEMBER_LABELS,
    options: DecodeOptions | None = None,
) -> tuple[bytes, list[Redaction]]:
    """The stream with personal data masked (same length), and what was masked where."""
    options = options or DecodeOptions()
    decoder = StreamDecoder(options.dialect)
    events = decoder.feed(data) + decoder.close()
    return _redact_events(data, events, 0, CodecTracker(options).codecs(events), codes, labels)


class StreamingRedactor:
    """Redact a live stream: ``feed`` returns masked bytes as soon as the text they belong to is
    complete (the decoder emits a text run only once it has ended), ``close`` the rest. Output
    length always equals input length; the only delay is the text run still being received."""

    def __init__(self, *, codes: bool = False, labels: tuple[str, ...] = MEMBER_LABELS,
                 options: DecodeOptions | None = None) -> None:  # fmt: skip
        self.codes, self.labels = codes, labels
        self.options = options or DecodeOptions()
        self._decoder = StreamDecoder(self.options.dialect)
        self._codecs = CodecTracker(self.options)
        self._held = bytearray()  # bytes received, not yet released
        self._base = 0  # stream offset of _held[0]
        self.found: list[Redaction] = []

    def feed(self, data: bytes) -> bytes:
        self._held += data
        return self._release(self._decoder.feed(data))

    def close(self) -> bytes:
        out = self._release(self._decoder.close())
        rest, self._held = bytes(self._held), bytearray()  # nothing is ever held back for good
        self._base += len(rest)
        return out + rest

    def _release(self, events: list[Event]) -> bytes:
        if not events:
            return b""
        upto = events[-1].offset + len(events[-1].raw)
        chunk = bytes(self._held[: upto - self._base])
        masked, found = _redact_events(chunk, events, self._base, self._codecs.codecs(events), self.codes, self.labels)
        self.found += found
        del self._held[: upto - self._base]
        self._base = upto
        return masked
