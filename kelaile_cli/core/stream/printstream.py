"""The print-stream pipeline in one place: bytes -> events -> jobs -> receipts.

``read_receipts`` handles a whole stream at once (a file): the text encoding is detected from the
whole stream before anything is laid out. ``PrintStream`` is the incremental form for live capture:
it yields each receipt as its job completes, detecting the encoding from everything seen so far.
"""

from __future__ import annotations

import codecs
from bisect import bisect_right
from collections.abc import Iterable
from typing import Final

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Command, Event, Text
from kelaile_cli.core.stream import encoding
from kelaile_cli.core.stream.layout import STAR_PRINTER, Layout, TextSetup
from kelaile_cli.core.stream.mojibake import detect_mojibake
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.core.stream.segmenter import Job, Segmenter

__all__ = [
    "CodecTracker",
    "DecodeOptions",
    "PrintStream",
    "TextEvidence",
    "choose_text_setup",
    "decode_events",
    "normalise_codec",
    "read_receipts",
    "stream_text_setup",
]

#: codecs (by their canonical Python name) that are double-byte CJK encodings.
CJK_CODECS = frozenset(
    {
        "gb18030",
        "gbk",
        "gb2312",
        "big5",
        "cp950",
        "big5hkscs",
        "shift_jis",
        "cp932",
        "euc_kr",
        "cp949",
        "euc_jp",
        "shift_jis_2004",
        "shift_jisx0213",
        "johab",
    }
)


def normalise_codec(name: str) -> str:
    """Canonical Python codec name; ``ValueError`` naming the bad value when Python does not know it."""
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None


class DecodeOptions:
    """User choices that the stream itself cannot tell (a value, never changed once made).

    ``encoding``: a codec (CJK or single-byte) forced instead of detected; ``printer``: the printer model
    in python-escpos's capability database (maps ESC t); ``width``: paper width in columns (inferred when
    None); ``dialect``: 'escpos' | 'star' (detected when None); ``idle_gap``: seconds of silence that end
    a job (when timestamps are known).
    """

    __slots__ = ("dialect", "encoding", "idle_gap", "printer", "width")

    def __init__(
        self,
        encoding: str | None = None,
        printer: str = "default",
        width: int | None = None,
        dialect: str | None = None,
        idle_gap: float | None = 2.0,
    ) -> None:
        self.encoding: Final = encoding
        self.printer: Final = printer
        self.width: Final = width
        self.dialect: Final = dialect
        self.idle_gap: Final = idle_gap

    def _key(self) -> tuple[object, ...]:
        return (self.encoding, self.printer, self.width, self.dialect, self.idle_gap)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DecodeOptions):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"DecodeOptions(encoding={self.encoding!r}, printer={self.printer!r}, width={self.width!r}, "
            f"dialect={self.dialect!r}, idle_gap={self.idle_gap!r})"
        )


def decode_events(data: bytes, dialect: str | None = None) -> tuple[list[Event], str]:
    """All events of a complete stream, and the dialect they were decoded as."""
    decoder = StreamDecoder(dialect=dialect)
    events = decoder.feed(data)
    events += decoder.close()
    return events, decoder.dialect or "escpos"


class TextEvidence:
    """What a stream has shown about its text encoding so far (bounded: enough bytes to decide).

    ``samples`` holds text with high bytes wherever it was printed; ``cjk_samples`` only the text
    printed in double-byte mode (between ``FS &`` and ``FS .``): once a stream declares that mode,
    the text it prints outside it (rule lines on a single-byte page) is no evidence for a
    double-byte encoding.
    """

    __slots__ = (
        "_chosen",
        "chose_page",
        "cjk_samples",
        "code_system",
        "codepage",
        "declared",
        "in_cjk",
        "page_printer",
        "sample_bytes",
        "samples",
        "version",
    )

    def __init__(self) -> None:
        self.samples: list[bytes] = []
        self.cjk_samples: list[bytes] = []
        self.sample_bytes = 0
        self.declared = False  # FS & seen: double-byte mode is explicit
        self.in_cjk = False  # between FS & and FS .
        self.code_system: int | None = None  # FS C n: 1 and 2 are Shift_JIS (Kanji without FS &)
        self.codepage = 0  # last ESC t
        self.page_printer = ""  # the model whose numbering that page follows ('' : the stream's printer)
        self.chose_page = False  # a code page other than 0 was selected at some point
        #: bumped whenever something ``choose_text_setup`` reads changes: the same version, the same choice
        self.version = 0
        self._chosen: tuple[int, DecodeOptions, TextSetup] | None = None  # (version, options, setup): ``setup``

    LIMIT: Final = 16 * 1024  # thousands of CJK characters: far more than detection needs

    def add(self, events: Iterable[Event]) -> None:
        changes = 0
        for ev in events:
            if isinstance(ev, Text):
                if self.sample_bytes < self.LIMIT and not ev.raw.isascii():  # a byte >= 0x80
                    self.samples.append(ev.raw)
                    if self.in_cjk:
                        self.cjk_samples.append(ev.raw)
                    self.sample_bytes += len(ev.raw)
                    changes += 1
            elif isinstance(ev, Command):
                op = ev.op
                if op == "cjk_on":
                    changes += not self.declared
                    self.declared = self.in_cjk = True
                elif op in {"cjk_off", "init"}:
                    self.in_cjk = False
                elif op == "codepage":
                    params = ev.read_params()
                    codepage = int(params.get("n", 0))
                    page_printer = STAR_PRINTER if params.get("star") else ""
                    chose_page = self.chose_page or codepage != 0
                    if (codepage, page_printer, chose_page) != (self.codepage, self.page_printer, self.chose_page):
                        self.codepage, self.page_printer, self.chose_page = codepage, page_printer, chose_page
                        changes += 1
                elif op == "cjk_code_system":
                    code_system = int(ev.read_params().get("n", 0))
                    changes += code_system != self.code_system
                    self.code_system = code_system
        if changes:
            self.version += 1

    def setup(self, options: DecodeOptions) -> TextSetup:
        """``choose_text_setup(self, options)``, chosen again only when the evidence has changed since it
        was last chosen (for these options): once the samples are full, a live stream's receipts and
        chunks reuse it instead of scoring the samples again."""
        chosen = self._chosen
        if chosen is None or chosen[0] != self.version or chosen[1] is not options:
            chosen = self._chosen = (self.version, options, choose_text_setup(self, options))
        return chosen[2]


#: below this confidence an undeclared double-byte guess is not taken: the single-byte page stays
CJK_GUESS_MIN = 0.5


def choose_text_setup(evidence: TextEvidence, options: DecodeOptions) -> TextSetup:
    """Pick the text encoding for a stream: the user's override, what the stream declares (``FS C``
    Shift_JIS), else a guess from its bytes — with how sure it is and the evidence behind it."""
    printer = options.printer
    if options.encoding:
        codec = normalise_codec(options.encoding)
        said: tuple[str, ...] = (f"--encoding {options.encoding}",)
        if codec in CJK_CODECS:
            return TextSetup(printer, cjk_codec=codec, cjk_default=True, evidence=said)
        return TextSetup(printer, codepage_codec=codec, evidence=said)
    if evidence.code_system in (1, 2):
        said = (f"FS C {evidence.code_system}: Shift_JIS code system selected",)
        return TextSetup(printer, cjk_codec="cp932", confidence=0.95, evidence=said)
    if not evidence.declared:
        found = detect_mojibake(evidence.samples)
        if found is not None:
            said = (found.message, "every text byte >= 0x80 is part of a valid UTF-8 sequence")
            return TextSetup(printer, codepage_codec=found.codec, confidence=0.9, evidence=said, mojibake=found.message)
    page_printer = evidence.page_printer or printer
    single = encoding.codec_for_codepage(evidence.codepage, page_printer) or encoding.DEFAULT_CODEC
    samples = evidence.cjk_samples if evidence.declared else evidence.samples
    guess = encoding.detect_encoding(samples, single_byte_codec=single, cjk_declared=evidence.declared)
    scores = ", ".join(f"{k} {v:+.2f}" for k, v in guess.scores.items())
    if not samples:
        said = ("no text with bytes >= 0x80",)
        return TextSetup(printer, confidence=1.0, evidence=said)
    if evidence.chose_page and not evidence.declared:
        said = (f"code page selected ({single} last), no double-byte command",)
        return TextSetup(printer, confidence=0.9, evidence=said)
    if guess.cjk:
        if evidence.declared:
            said = ("FS & (double-byte mode) declared", f"scores: {scores}")
            return TextSetup(printer, cjk_codec=guess.codec, confidence=guess.confidence, evidence=said)
        if guess.confidence >= CJK_GUESS_MIN:
            said = ("no FS &: double-byte by default (printer setting)", f"scores: {scores}")
            return TextSetup(printer, cjk_codec=guess.codec, cjk_default=True, confidence=guess.confidence,
                             evidence=said)  # fmt: skip
        said = (f"double-byte guess {guess.codec} too weak ({guess.confidence:.2f}), no FS &", f"scores: {scores}")
        return TextSetup(printer, confidence=round(1 - guess.confidence, 3) / 2, evidence=said)
    said = (f"single-byte page {single} fits best", f"scores: {scores}")
    return TextSetup(printer, confidence=guess.confidence, evidence=said)


class CodecTracker:
    """Which codec each text run was printed in, following double-byte mode and code pages across
    calls (so a live stream can be followed chunk by chunk: dumps, redaction).

    The text setup is chosen from what has been seen so far, or once from ``settled``: the evidence of
    the whole stream, gathered beforehand (a file redacted in pieces chooses as over the whole file)."""

    def __init__(self, options: DecodeOptions, settled: TextEvidence | None = None) -> None:
        self.options = options
        self.evidence = settled if settled is not None else TextEvidence()
        self.setup: TextSetup | None = choose_text_setup(settled, options) if settled is not None else None
        self.cjk: bool | None = None
        self.sjis = False
        self.codepage = 0

    def codecs(self, events: list[Event]) -> dict[int, str]:
        setup = self.setup
        if setup is None:
            self.evidence.add(events)
            setup = self.evidence.setup(self.options)
        if self.cjk is None:
            self.cjk = setup.cjk_default
        out: dict[int, str] = {}
        for ev in events:
            if isinstance(ev, Command):
                if ev.op == "cjk_on":
                    self.cjk = True
                elif ev.op == "cjk_off":
                    self.cjk = False
                elif ev.op == "codepage":
                    self.codepage = int(ev.read_params().get("n", 0))
                elif ev.op == "cjk_code_system":
                    self.sjis = int(ev.read_params().get("n", 0)) in (1, 2)
                elif ev.op == "init":
                    self.cjk, self.codepage = setup.cjk_default, 0
            elif isinstance(ev, Text):
                if (self.cjk or self.sjis) and setup.cjk_codec:
                    out[ev.offset] = setup.cjk_codec
                else:
                    page = encoding.codec_for_codepage(self.codepage, self.options.printer)
                    out[ev.offset] = setup.codepage_codec or page or encoding.DEFAULT_CODEC
        return out


def _finish(receipt: Receipt, dialect: str, options: DecodeOptions) -> Receipt:
    receipt.dialect = dialect
    if options.width:
        receipt.width = options.width
    return receipt


def stream_text_setup(data: bytes, options: DecodeOptions) -> TextSetup:
    """The text encoding for a whole stream, decided from all of it."""
    events, _ = decode_events(data, options.dialect)
    evidence = TextEvidence()
    evidence.add(events)
    return choose_text_setup(evidence, options)


def read_receipts(data: bytes, options: DecodeOptions | None = None) -> list[Receipt]:
    """Decode a complete stream into receipts."""
    options = options or DecodeOptions()
    events, dialect = decode_events(data, options.dialect)
    evidence = TextEvidence()
    evidence.add(events)
    layout = Layout(choose_text_setup(evidence, options))
    segmenter = Segmenter(idle_gap=None)
    jobs = segmenter.feed(events) + segmenter.close()
    return [_finish(layout.receipt(job.events, i), dialect, options) for i, job in enumerate(jobs)]


class PrintStream:
    """Incremental pipeline for live streams: ``feed(bytes, timestamp)`` -> completed receipts.

    The encoding guess is refreshed from every job seen so far before each receipt is laid out, so
    a live view converges on the same answer as ``read_receipts`` once the stream has shown its text.
    Chunking never matters; only job boundaries (and idle gaps, when timestamps are given) do.
    """

    def __init__(
        self,
        options: DecodeOptions | None = None,
        text_setup: TextSetup | None = None,
        decoder: StreamDecoder | None = None,
    ) -> None:
        """``text_setup`` fixes the encoding (when the whole stream was seen beforehand, e.g. a
        recording); otherwise it is guessed from what has arrived so far. ``decoder``: one that has
        already decoded the stream's start (see ``feed_events``) and goes on with the rest."""
        self.options = options or DecodeOptions()
        self._fixed_setup = text_setup
        self._decoder = decoder if decoder is not None else StreamDecoder(dialect=self.options.dialect)
        self._segmenter = Segmenter(idle_gap=self.options.idle_gap)
        self._evidence = TextEvidence()
        self._arrivals: list[tuple[int, float]] = []  # (stream offset, capture time) per fed chunk
        self._layout: Layout | None = None
        self._index = 0
        self.bytes_seen = 0

    def feed(self, data: bytes, timestamp: float | None = None) -> list[Receipt]:
        if timestamp is not None:
            self._arrivals.append((self.bytes_seen, timestamp))
        self.bytes_seen += len(data)
        return self._jobs(self._segment(self._decoder.feed(data)))

    def feed_events(self, events: list[Event]) -> list[Receipt]:
        """Receipts completed by events already decoded by this stream's decoder (the start of a file
        decoded once to choose its encoding, then laid out without decoding it again). No timestamps."""
        return self._jobs(self._segment(events))

    def close(self) -> list[Receipt]:
        jobs = self._segment(self._decoder.close())
        return self._jobs(jobs + self._segmenter.close())

    def _segment(self, events: list[Event]) -> list[Job]:
        """Feed the segmenter with each event stamped by the arrival time of its first byte (the
        decoder may release bytes later than they arrived)."""
        if not self._arrivals:
            return self._segmenter.feed(events)
        jobs: list[Job] = []
        group: list[Event] = []
        stamp: float | None = None
        for ev in self._split_at_gaps(events):
            t = self._arrival(ev.offset)
            if group and t != stamp:
                jobs += self._segmenter.feed(group, stamp)
                group = []
            group.append(ev)
            stamp = t
        if group:
            jobs += self._segmenter.feed(group, stamp)
        return jobs

    def _split_at_gaps(self, events: list[Event]) -> list[Event]:
        """A text run (lines and all) can span a pause in the stream; cut it where bytes arrived
        after an idle gap, so the segmenter sees the gap."""
        gap = self.options.idle_gap
        if gap is None:
            return events
        out: list[Event] = []
        for ev in events:
            if not isinstance(ev, Text):
                out.append(ev)
                continue
            end = ev.offset + len(ev.raw)
            cuts = []
            prev: float | None = None
            for off, t in self._arrivals:
                if off >= end:
                    break
                if off > ev.offset and prev is not None and t - prev > gap:
                    cuts.append(off)
                prev = t
            start = ev.offset
            for cut in cuts:
                out.append(Text(start, ev.raw[start - ev.offset : cut - ev.offset]))
                start = cut
            out.append(ev if not cuts else Text(start, ev.raw[start - ev.offset :]))
        return out

    def _arrival(self, offset: int) -> float:
        arrivals = self._arrivals
        i = bisect_right(arrivals, offset, key=lambda a: a[0]) - 1
        if i > 0:  # older arrivals can no longer be asked about: offsets only grow
            del arrivals[:i]
            i = 0
        return arrivals[max(i, 0)][1]

    def _jobs(self, jobs: list[Job]) -> list[Receipt]:
        out = []
        for job in jobs:
            if self._fixed_setup is not None:
                setup = self._fixed_setup
            else:
                self._evidence.add(job.events)
                setup = self._evidence.setup(self.options)
            if self._layout is None:
                self._layout = Layout(setup)
            else:
                self._layout.setup = setup
            receipt = self._layout.receipt(job.events, self._index, job.timestamp)
            out.append(_finish(receipt, self._decoder.dialect or "escpos", self.options))
            self._index += 1
        return out
