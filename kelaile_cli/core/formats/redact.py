"""Mask personal data in a print stream while keeping it valid ESC/POS (sans-IO).

Personal data — phone numbers, payment cards (last four kept), IBANs, national ID numbers, e-mail
addresses, member/loyalty numbers; see ``pii`` for how each is recognised — is found in the decoded
*text* of each run and its digits (and, for ids and addresses, letters) are replaced by ``*`` byte
for byte: ASCII characters are single bytes in every code page and double-byte encoding used on
receipts, and a full-width digit becomes a full-width ``＊`` of the same encoded width (or as many
``*``), so lengths, command arguments, images and offsets are untouched. Barcode and 2-D code
contents are left alone unless asked (``codes=True``): masking them keeps the command lengths but a
masked EAN-13 no longer has a valid check digit, so the printer may refuse to print it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Command, Event, Text
from kelaile_cli.core.formats.pii import MEMBER_LABELS, find_pii, fold_width
from kelaile_cli.core.stream.printstream import CodecTracker, DecodeOptions, TextEvidence

__all__ = ["MEMBER_LABELS", "Redaction", "StreamingRedactor", "gather_evidence", "redact_stream"]

MASK = ord("*")


@dataclass(frozen=True, slots=True)
class Redaction:
    offset: int  # stream offset of the first masked byte
    length: int  # bytes from the first to the last masked byte
    kind: str  # 'phone' | 'card' | 'iban' | 'national_id' | 'email' | 'member' | 'code'


class _Masker:
    def __init__(self, codec_for: dict[int, str], labels: tuple[str, ...]) -> None:
        self.codec_for = codec_for
        self.labels = labels

    def text(self, out: bytearray, ev: Text, base: int, found: list[Redaction]) -> None:
        codec = self.codec_for.get(ev.offset, "latin-1")
        try:
            text = ev.raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            codec, text = "latin-1", ev.raw.decode("latin-1")
        spans = find_pii(text, self.labels)
        if not spans:
            return
        starts = _byte_offsets(text, codec)
        if starts[-1] != len(ev.raw):  # the codec does not round-trip these bytes: work on single bytes
            text = ev.raw.decode("latin-1")
            spans, starts = find_pii(text, self.labels), list(range(len(text) + 1))
        folded = fold_width(text)
        for span in spans:
            digits_only = span.kind in ("phone", "card")
            pos = [
                i
                for i in range(span.start, span.end)
                if folded[i].isascii() and (folded[i].isdigit() if digits_only else folded[i].isalnum())
            ]
            keep = [i for i in pos if folded[i].isdigit()][-span.keep :] if span.keep else []
            masked = [i for i in pos if i not in keep]
            if not masked:
                continue
            for i in masked:
                at = ev.offset - base + starts[i]
                width = starts[i + 1] - starts[i]
                out[at : at + width] = _mask_bytes(text[i], codec, width)
            first, last = starts[masked[0]], starts[masked[-1] + 1]
            found.append(Redaction(ev.offset + first, last - first, span.kind))


def _mask_bytes(ch: str, codec: str, width: int) -> bytes:
    """The mask for one character, exactly ``width`` bytes: ``*``, or ``＊`` for a full-width one."""
    if width > 1:
        try:
            wide = "＊".encode(codec)
        except (UnicodeEncodeError, LookupError):
            wide = b""
        if len(wide) == width:
            return wide
    return b"*" * width


def _byte_offsets(text: str, codec: str) -> list[int]:
    """Byte offset of each character of ``text`` once encoded, and the end (ASCII is one byte)."""
    offsets, pos = [], 0
    for ch in text:
        offsets.append(pos)
        pos += 1 if ch.isascii() else len(ch.encode(codec, errors="replace"))
    offsets.append(pos)
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


def gather_evidence(blocks: Iterable[bytes], options: DecodeOptions | None = None) -> TextEvidence:
    """What a whole stream shows about its text encoding, read block by block (memory: one block).

    Given to ``StreamingRedactor(evidence=...)`` it makes a file redacted in pieces choose its codecs
    exactly as ``redact_stream`` does over the whole file at once."""
    options = options or DecodeOptions()
    decoder, evidence = StreamDecoder(options.dialect), TextEvidence()
    for block in blocks:
        evidence.add(decoder.feed(block))
    evidence.add(decoder.close())
    return evidence


class StreamingRedactor:
    """Redact a live stream: ``feed`` returns masked bytes as soon as the text they belong to is
    complete (the decoder emits a text run only once it has ended), ``close`` the rest. Output
    length always equals input length; the only delay is the text run still being received.

    ``evidence``: the whole stream's (``gather_evidence``), for a file: its codecs are then chosen as
    ``redact_stream`` chooses them, not from what has been seen so far as a live stream must."""

    def __init__(self, *, codes: bool = False, labels: tuple[str, ...] = MEMBER_LABELS,
                 options: DecodeOptions | None = None, evidence: TextEvidence | None = None) -> None:  # fmt: skip
        self.codes, self.labels = codes, labels
        self.options = options or DecodeOptions()
        self._decoder = StreamDecoder(self.options.dialect)
        self._codecs = CodecTracker(self.options, settled=evidence)
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

    def take_found(self) -> list[Redaction]:
        """What was masked since the last call (so a long stream's list need not be kept whole)."""
        found, self.found = self.found, []
        return found
