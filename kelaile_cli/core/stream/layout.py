"""Lay out one print job: decoder events in, a ``Receipt`` (styled lines, images, codes) out.

``Layout`` plays the printer: it keeps the modes a real printer keeps (character style, alignment,
code page, double-byte mode, tab stops, stored graphics) across the jobs of one stream, and turns
text bytes into characters with the encoding chosen for the stream.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any, Final

from kelaile_cli.core.escpos.events import Command, Event, Text, Truncated, Unknown
from kelaile_cli.core.stream import encoding
from kelaile_cli.core.stream.cells import cells, char_cells, only_narrow, only_wide, surely_wide, wide_text_cells
from kelaile_cli.core.stream.page import Page
from kelaile_cli.core.stream.receipt import (
    PLAIN,
    USER_CHAR,
    Block,
    Code,
    DrawerKick,
    Element,
    Feed,
    Image,
    Line,
    LineRun,
    Receipt,
    Span,
    Style,
    Warning,
    plain_line,
)

__all__ = ["Layout", "TextSetup", "infer_width"]

DEFAULT_TAB: Final = 8
USER_CODEC: Final = "user-defined"  # the "codec" of a line piece made of user-defined characters
STAR_PRINTER = "TSP600"  # Star's code page numbers (ESC GS t), as the capability database lists them
#: dots per character column by font (Epson 180/203 dpi printers: font A 12x24, font B 9x17)
CHAR_DOTS: Final = {"A": 12, "B": 9, "C": 9}
DOTS_PER_LINE: Final = 30  # default line spacing (ESC 2) on 180/203 dpi printers
PAPER_WIDTHS: Final = (32, 42, 48)


#: (id of a style, changes) -> (that style, the style with the changes). Styles are interned by value
#: (power-on is PLAIN), so there are few ids; holding the style keeps its id from being reused.
_STYLE_STEPS: Final[dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[Style, Style]]] = {}
_STYLES: Final[dict[Style, Style]] = {PLAIN: PLAIN}


class TextSetup:
    """How text bytes become characters for one stream (a value, never changed once made).

    ``cjk_codec`` is the double-byte encoding used while double-byte mode is on; ``cjk_default`` says
    the printer powers up in double-byte mode (Chinese clone printers do), ``codepage_codec`` forces
    one single-byte codec instead of following ``ESC t``. ``confidence``: how sure the choice is (1.0:
    given or declared); ``evidence``: why, in words (shown in the JSON); ``mojibake``: the text was
    mis-decoded once and saved again: what, in words (see mojibake.py).
    """

    __slots__ = ("cjk_codec", "cjk_default", "codepage_codec", "confidence", "evidence", "mojibake", "printer")

    def __init__(
        self,
        printer: str = "default",
        cjk_codec: str | None = None,
        cjk_default: bool = False,
        codepage_codec: str | None = None,
        confidence: float = 1.0,
        evidence: tuple[str, ...] = (),
        mojibake: str = "",
    ) -> None:
        self.printer: Final = printer
        self.cjk_codec: Final = cjk_codec
        self.cjk_default: Final = cjk_default
        self.codepage_codec: Final = codepage_codec
        self.confidence: Final = confidence
        self.evidence: Final = evidence
        self.mojibake: Final = mojibake

    def _key(self) -> tuple[object, ...]:
        return (
            self.printer,
            self.cjk_codec,
            self.cjk_default,
            self.codepage_codec,
            self.confidence,
            self.evidence,
            self.mojibake,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextSetup):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"TextSetup(printer={self.printer!r}, cjk_codec={self.cjk_codec!r}, cjk_default={self.cjk_default!r}, "
            f"codepage_codec={self.codepage_codec!r}, confidence={self.confidence!r}, evidence={self.evidence!r}, "
            f"mojibake={self.mojibake!r})"
        )


class _State:
    """The modes a printer keeps between commands, at their power-on values (a plain class: mypyc
    compiles its ``__init__``, run once per job)."""

    def __init__(self, cjk: bool = False) -> None:
        self.style: Style = PLAIN
        self.align = "left"
        self.codepage = 0
        self.page_printer = ""  # a Star code page (ESC GS t) is numbered as on Star printers
        self.intl = 0
        self.cjk = cjk
        self.sjis = False  # FS C 1/2: Shift_JIS code system, Kanji whatever FS & / FS . say
        self.tabs: tuple[int, ...] = ()
        self.line_dots = DOTS_PER_LINE
        self.barcode_height: int | None = None
        self.barcode_hri = 0
        self.qr_size: int | None = None
        self.margin_cols = 0  # GS L, in font A columns
        self.area_cols = 0  # GS W (plus GS L), in font A columns; 0: not set
        self.user_chars = False  # ESC % 1: the defined user characters replace the font's


class _Piece:
    """A piece of the line being printed: its bytes so far, in one style, codec and national set."""

    __slots__ = ("codec", "end", "intl", "raw", "start", "style")

    def __init__(self, raw: bytearray, start: int, end: int, style: Style, codec: str, intl: int) -> None:
        self.raw = raw
        self.start = start
        self.end = end
        self.style = style
        self.codec = codec
        self.intl = intl


class _CodecFacts:
    """What the layout asks of a codec for each text run it decodes as a block, worked out once."""

    __slots__ = ("ascii_as_itself", "decode", "escapes_as_ascii")

    def __init__(self, codec: str) -> None:
        self.ascii_as_itself: Final = encoding.ascii_as_itself(codec)
        self.escapes_as_ascii: Final = encoding.escapes_as_ascii(codec)
        #: the codec's own function (``bytes.decode`` looks the codec up by name at each call), when a block of
        #: lines decodes as the lines do; else None (each line is decoded on its own)
        self.decode: Final[Callable[[bytes], tuple[str, int]] | None] = (
            codecs.getdecoder(codec) if encoding.lines_decode_alike(codec) else None
        )


class Layout:
    """Stateful across jobs of one stream, like the printer itself."""

    def __init__(self, setup: TextSetup | None = None) -> None:
        self.setup = setup or TextSetup()
        self._state = self._power_on()
        self._graphics: Image | None = None
        self._stored: dict[str, Image] = {}
        self._code2d: dict[str, tuple[bytes, int]] = {}
        self._page: Page | None = None  # ESC L: in page mode, text and images go to the page buffer
        self._user_glyphs: dict[int, Image] = {}  # ESC &: code -> bitmap
        #: (code page, printer) -> its codec (the default one when unknown), as worked out once
        self._page_codecs: dict[tuple[int, str], str] = {}
        #: id of a style -> (that style, {command bytes: (op, the style after the command)}); see _restyle
        self._style_steps: dict[int, tuple[Style, dict[bytes, tuple[str, Style]]]] = {}
        self._codecs: dict[str, _CodecFacts] = {}  # codec -> what _decode_lines asks of it

    def _power_on(self) -> _State:
        return _State(cjk=self.setup.cjk_default and self.setup.cjk_codec is not None)

    # -- public ---------------------------------------------------------------------------------
    def receipt(self, events: list[Event], index: int = 0, timestamp: float | None = None) -> Receipt:
        """Lay out the events of one job."""
        self._start_job()
        for ev in events:
            if isinstance(ev, Text):
                self._text(ev)
            elif isinstance(ev, Command):
                if ev.op in _STYLE_OPS:
                    self._restyle(ev)
                    continue
                handler = _HANDLERS.get(ev.op)
                if handler is not None:
                    handler(self, ev, ev.read_params())
            elif isinstance(ev, Unknown):
                self._warnings.append(Warning(ev.offset, "unknown_command", ev.reason))
            elif isinstance(ev, Truncated):
                self._warnings.append(Warning(ev.offset, "truncated", f"{ev.name} cut off after {len(ev.raw)} bytes"))
        if self._page is not None:  # the job ended in page mode: show what it drew, and say so
            page = self._page
            self._warnings.append(Warning(page.start, "unsupported", "page mode never printed (no FF / ESC FF)"))
            self._print_page(page.start)
            self._page = None
        self._end_line(force=False)
        if self.setup.mojibake:
            first = next((ev for ev in events if isinstance(ev, Text) and not ev.raw.isascii()), None)
            if first is not None:  # at its first byte >= 0x80
                at = first.offset + next(i for i, b in enumerate(first.raw) if b >= 0x80)
                self._warnings.append(Warning(at, "mojibake", self.setup.mojibake))
        if self._user_used:
            codes = " ".join(f"0x{c:02X}" for c in sorted(self._user_used))
            self._warnings.append(
                Warning(
                    min(self._user_used.values()),
                    "user_chars",
                    f"user-defined characters {codes} printed: drawn in PNG/HTML, U+FFFC in text",
                )
            )
        start = events[0].offset if events else 0
        end = events[-1].offset + len(events[-1].raw) if events else 0
        receipt = Receipt(
            index=index,
            elements=self._elements,
            start=start,
            end=end,
            encoding=self._encoding_label(),
            width=self._width(),
            cut=self._cut,
            warnings=self._warnings,
            queries=self._queries,
            timestamp=timestamp,
            compact=self._compact,
        )
        receipt.encoding_confidence = self.setup.confidence
        receipt.encoding_evidence = list(self.setup.evidence)
        return receipt

    def _width(self) -> int:
        """Paper width in columns: the print area when the job set one that fits a paper, else inferred."""
        inferred = infer_width(self._elements)
        area = self._state.area_cols
        return area if area in PAPER_WIDTHS and area >= inferred else inferred

    def _start_job(self) -> None:
        # A method of its own so that no caller narrows these attributes to their start values
        # (the handlers change them; mypyc trusts narrowing).
        self._elements: list[Block] = []
        self._compact = False  # _elements holds a LineRun
        self._warnings: list[Warning] = []
        self._queries: list[str] = []
        self._pieces: list[_Piece] = []
        self._line_align = self._state.align
        self._cut: str | None = None
        self._used_cjk = False
        self._wide_only = False  # the text run being laid out has no non-ASCII character but wide ones
        self._narrow_only = False  # ... or no wide character at all
        self._byte_cols = False  # ... and each wide character came from two bytes (see _decode_lines)
        self._bound_cols = False  # ... or its lines' bytes bound their columns (see _decode_lines)
        self._run_ascii = False  # ... or it is all ASCII
        self._run_plain = False  # ... and no character of it is one JSON escapes, but the newline
        self._run_text = ""  # its text (when decoded as a block)
        self._user_used: dict[int, int] = {}  # user-defined codes printed in this job -> first offset

    # -- text -----------------------------------------------------------------------------------
    def _codec(self) -> str:
        if (self._state.cjk or self._state.sjis) and self.setup.cjk_codec:
            return self.setup.cjk_codec
        if self.setup.codepage_codec:
            return self.setup.codepage_codec
        key = (self._state.codepage, self._state.page_printer or self.setup.printer)
        codec = self._page_codecs.get(key)
        if codec is None:
            codec = self._page_codecs[key] = encoding.codec_for_codepage(key[0], key[1]) or encoding.DEFAULT_CODEC
        return codec

    def _encoding_label(self) -> str:
        if self.setup.cjk_codec and (self._used_cjk or self._state.cjk):
            return self.setup.cjk_codec
        return self._codec()

    def _text(self, ev: Text) -> None:
        raw = ev.raw
        if self._page is not None:
            self._page_text(ev.offset, raw)
            return
        if self._state.user_chars and self._user_glyphs and self._has_user_chars(raw):
            self._user_text(ev.offset, raw)
            return
        if 0x0A not in raw:  # an int: one memchr (a bytes operand is first tried as an int, in vain)
            self._append(ev.offset, raw)
            return
        if self._state.margin_cols:  # each line begins at the margin: line by line
            pos = ev.offset
            for i, part in enumerate(raw.split(b"\n")):
                if i:
                    self._lf_at(pos - 1)
                if part:
                    self._append(pos, part)
                pos += len(part) + 1
            return
        pos = ev.offset
        codec = self._codec()
        texts = self._decode_lines(raw, codec)
        if texts is not None and len(raw) == len(self._run_text):  # a character per byte: no need of the lines' bytes
            last = len(texts) - 1
            parts: list[bytes] | None = None
            first = raw[: len(texts[0])]
            tail = raw[len(raw) - len(texts[last]) :] if texts[last] else b""
        else:
            parts = raw.split(b"\n")
            tail = parts.pop()  # after the last LF: the start of a line still open
            first = parts[0]
            last = len(parts)
        if self._pieces:  # the first LF ends a line begun before this run
            if first:
                self._append(pos, first)
            self._end_line(force=False)
            pos += len(first) + 1
            start_at = 1
        else:
            start_at = 0
        pos = self._plain_lines(parts, last, start_at, pos, texts, codec)
        if tail:
            self._append(pos, tail)

    def _has_user_chars(self, raw: bytes) -> bool:
        """Whether single-byte text would print one of the user-defined characters."""
        if self._state.cjk or self._state.sjis:
            return False
        return any(b in self._user_glyphs for b in set(raw))

    def _user_text(self, offset: int, raw: bytes) -> None:
        """Text with user-defined characters in it: those become pieces of their own."""
        glyphs = self._user_glyphs
        run_start = 0
        for i in range(len(raw) + 1):
            b = raw[i] if i < len(raw) else 0x0A
            if b == 0x0A or b in glyphs:
                if i > run_start:
                    self._append(offset + run_start, raw[run_start:i])
                if i == len(raw):
                    break
                if b == 0x0A:
                    self._lf_at(offset + i)
                else:
                    self._append(offset + i, raw[i : i + 1], USER_CODEC)
                    self._user_used.setdefault(b, offset + i)
                run_start = i + 1

    def _page_text(self, offset: int, raw: bytes) -> None:
        """Text in page mode: each line placed at the page's print position, LF starts the next."""
        page = self._page
        assert page is not None
        codec = self._codec()
        user = self._state.user_chars and bool(self._user_glyphs) and self._has_user_chars(raw)
        pos = offset
        for i, part in enumerate(raw.split(b"\n")):
            if i:
                page.newline(self._state.line_dots)
            if part and user:
                self._page_user_text(page, pos, part, codec)
            elif part:
                if codec == self.setup.cjk_codec and max(part) >= 0x80:
                    self._used_cjk = True
                text, bad = encoding.decode_text(part, codec)
                for off, bad_raw in bad:
                    self._warnings.append(
                        Warning(pos + off, "bad_text", f"bytes {bad_raw.hex(' ')} are not valid {codec}")
                    )
                if self._state.intl:
                    text = encoding.apply_intl_charset(text, self._state.intl)
                page.text(text, self._state.style, pos, pos + len(part))
            pos += len(part) + 1

    def _page_user_text(self, page: Page, offset: int, raw: bytes, codec: str) -> None:
        """One line of page-mode text with user-defined characters: runs of them placed with their bitmaps."""
        glyphs = self._user_glyphs
        i = 0
        while i < len(raw):
            j = i
            defined = raw[i] in glyphs
            while j < len(raw) and (raw[j] in glyphs) == defined:
                j += 1
            if defined:
                page.text(USER_CHAR * (j - i), self._state.style, offset + i, offset + j, [glyphs[b] for b in raw[i:j]])
                for k in range(i, j):
                    self._user_used.setdefault(raw[k], offset + k)
            else:
                page.text(encoding.decode_text(raw[i:j], codec)[0], self._state.style, offset + i, offset + j)
            i = j

    def _decode_lines(self, raw: bytes, codec: str) -> list[str] | None:
        """The lines of a text run decoded at once (one decode call instead of one per line), or None
        when that is not the same as decoding each line (an undecodable byte, or a codec with state).
        Also notes, once for all the lines, whether the run's non-ASCII characters are all wide or
        all narrow (then a line's columns follow from its length), or whether its lines' bytes bound
        their columns (CJK text)."""
        self._wide_only = self._narrow_only = self._byte_cols = self._bound_cols = self._run_ascii = False
        self._run_plain = False
        facts = self._codecs.get(codec)
        if facts is None:
            facts = self._codecs[codec] = _CodecFacts(codec)
        if raw.isascii() and facts.ascii_as_itself:
            text = raw.decode("ascii")
        elif facts.decode is not None:
            try:
                text = facts.decode(raw)[0]
            except UnicodeDecodeError:
                return None
        else:
            return None
        intl = self._state.intl
        if intl:
            text = encoding.apply_intl_charset(text, intl)
        # no character that JSON escapes but the newline (two memchr: a record's text is then not searched)
        self._run_plain = facts.escapes_as_ascii and not intl and 0x22 not in raw and 0x5C not in raw
        self._run_text = text
        if text.isascii():  # said once for the run, not asked again of each line
            self._narrow_only = self._run_ascii = True
        elif codec == self.setup.cjk_codec and not intl and encoding.cols_within_bytes(codec):
            # CJK text: a line's bytes less its trailing blanks bound its columns, and are them unless a
            # non-ASCII character is narrow or from more than two bytes (rare): the run keeps the bounds,
            # made exact only where a reader needs them (LineRun.settle, infer_width)
            self._bound_cols = True
        elif codec == self.setup.cjk_codec and surely_wide(text):  # CJK text: asked first, no exception
            self._wide_only = True
            # each wide character from two bytes (Big5-HKSCS's second byte may be below 0x80): its bytes
            self._byte_cols = (
                not intl
                and encoding.wide_from_two_bytes(codec)
                and len(raw) == (len(text) + len(text.encode("utf-8"))) // 2
                and "\u3000" not in text
            )
        # no wide character: Latin-1 letters and signs, or a code page that has none (cp437's box drawing)
        elif _below_u0100(text) or (not intl and _narrow_codec(codec)):
            self._narrow_only = True
        else:
            self._wide_only = only_wide(text)
            self._narrow_only = not self._wide_only and only_narrow(text)
        return text.split("\n")

    def _plain_lines(
        self, parts: list[bytes] | None, stop: int, start_at: int, pos: int, texts: list[str] | None, codec: str
    ) -> int:
        """Lines ``start_at`` to ``stop`` (excluded) printed whole in one style (the common case):
        ``parts[i]`` is the line's bytes, ``texts[i]`` its text when already decoded (``parts`` None:
        one byte per character, the text says it all). An empty line is a feed. Decoded lines are kept
        as one ``LineRun``. Returns the offset after them."""
        if texts is None:  # not decoded as a block: each line on its own
            assert parts is not None
            for i in range(start_at, stop):
                part = parts[i]
                if part:
                    self._elements.append(self._plain_line(part, pos))
                else:  # LF on an empty line feeds one line
                    self._feed(1, pos, pos + 1)
                pos += len(part) + 1
            return pos
        # the empty lines before the first printed one and after the last are feeds of their own (they may
        # join the feeds around them); the run holds the lines between
        first = start_at
        while first < stop and not (len(texts[first]) if parts is None else len(parts[first])):
            self._feed(1, pos, pos + 1)
            pos += 1
            first += 1
        last = stop
        while last > first and not (len(texts[last - 1]) if parts is None else len(parts[last - 1])):
            last -= 1
        if first < last:
            pos = self._line_run(parts, first, last, pos, texts, codec)
        for _ in range(last, stop):
            self._feed(1, pos, pos + 1)
            pos += 1
        return pos

    def _line_run(
        self, parts: list[bytes] | None, first: int, last: int, pos: int, texts: list[str], codec: str
    ) -> int:
        """Lines ``first`` to ``last`` (excluded; both ends printed lines) as one ``LineRun``."""
        style = self._state.style
        mult = style.width
        align = self._line_align = self._state.align
        # nothing (more) to note of double-byte text
        noted = self._used_cjk or codec != self.setup.cjk_codec or self._run_ascii
        wide_only = self._wide_only
        narrow_only = self._narrow_only
        byte_cols = self._byte_cols or self._bound_cols
        start = pos
        printed_texts: list[str] = []
        all_cols: list[int] = []
        widest = 0
        gap = 0
        empties = 0
        chars = 0  # the characters of the run's lines, their newlines included
        stripped = False
        for i in range(first, last):
            text = texts[i]
            chars += len(text) + 1
            size = len(text) if parts is None else len(parts[i])  # the line's bytes
            if not size:  # LF on an empty line feeds one line
                printed_texts.append("")
                all_cols.append(-1)
                empties += 1
                gap = max(gap, empties)
                pos += 1
                continue
            empties = 0
            printed = text.rstrip()
            if len(printed) != len(text):
                stripped = True
            if byte_cols:  # its bytes less its trailing blanks (ASCII: one byte each; or a bound of its columns)
                cols = (size - len(text) + len(printed)) * mult
            elif narrow_only or printed.isascii():
                cols = len(printed) * mult
            elif wide_only:
                cols = wide_text_cells(printed) * mult
            else:
                cols = cells(printed) * mult
            if not noted and not printed.isascii():  # double-byte text printed: the receipt's encoding is it
                noted = self._used_cjk = True
            printed_texts.append(printed)
            all_cols.append(cols)
            widest = max(widest, cols)
            pos += size + 1
        run_texts = texts[first:last]
        run_parts = parts[first:last] if parts is not None else None
        # the lines as one text: a slice of the text they were split from (renderers and detection read it
        # instead of joining the lines again)
        at = 0
        for i in range(first):
            at += len(texts[i]) + 1
        joined = self._run_text[at : at + chars - 1]
        self._elements.append(
            LineRun(
                run_texts,
                run_parts,
                printed_texts,
                all_cols,
                style,
                align,
                start,
                widest,
                gap,
                not self._bound_cols,
                self._run_plain,
                joined,
                stripped,
            )
        )
        self._compact = True
        return pos

    def _append(self, offset: int, raw: bytes, codec: str = "") -> None:
        if not self._pieces:
            self._line_align = self._state.align
            if self._state.margin_cols:  # GS L: the line starts right of the left margin
                margin = b" " * self._state.margin_cols
                self._pieces.append(_Piece(bytearray(margin), offset, offset, PLAIN, "ascii", 0))
        codec = codec or self._codec()
        last = self._pieces[-1] if self._pieces else None
        end = offset + len(raw)
        if (
            last is not None
            and last.end == offset
            and (last.style is self._state.style or last.style == self._state.style)
            and last.codec == codec
            and last.intl == self._state.intl
        ):
            last.raw += raw
            last.end = end
        else:
            self._pieces.append(_Piece(bytearray(raw), offset, end, self._state.style, codec, self._state.intl))

    def _column(self) -> int:
        return sum(cells(encoding.decode_text(bytes(p.raw), p.codec)[0]) * p.style.width for p in self._pieces)

    def _end_line(self, force: bool) -> bool:
        """Print the line buffer. Returns True if a line was emitted."""
        if not self._pieces:
            if force:
                self._elements.append(Line([], self._state.align, 0, 0))
            return force
        self._elements.append(self._line([(bytes(p.raw), p.start, p.style, p.codec, p.intl) for p in self._pieces]))
        self._pieces = []
        return True

    def _plain_line(self, raw: bytes, start: int) -> Line:
        """A line printed in one style, decoded on its own."""
        style, codec, intl = self._state.style, self._codec(), self._state.intl
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            return self._line([(raw, start, style, codec, intl)])
        if intl:
            text = encoding.apply_intl_charset(text, intl)
        printed = text.rstrip()
        if printed.isascii():
            cols = len(printed) * style.width
        else:
            cols = cells(printed) * style.width
            if codec == self.setup.cjk_codec:
                self._used_cjk = True
        end = start + len(raw)
        return plain_line(text, style, start, end, self._line_align, cols)

    def _line(self, pieces: list[tuple[bytes, int, Style, str, int]]) -> Line:
        """Decode the pieces of one printed line into a ``Line`` with its printed width."""
        spans: list[Span] = []
        for raw, start, style, codec, intl in pieces:
            if codec == USER_CODEC:
                glyphs = [self._user_glyphs.get(b) for b in raw]
                drawn = [g for g in glyphs if g is not None]
                spans.append(Span(USER_CHAR * len(drawn), style, start, start + len(raw), drawn))
                continue
            if codec == self.setup.cjk_codec and max(raw) >= 0x80:
                self._used_cjk = True
            text, bad = encoding.decode_text(raw, codec)
            for off, bad_raw in bad:
                self._warnings.append(
                    Warning(start + off, "bad_text", f"bytes {bad_raw.hex(' ')} are not valid {codec}")
                )
            if intl:
                text = encoding.apply_intl_charset(text, intl)
            spans.append(Span(text, style, start, start + len(raw)))
        line = Line(spans, self._line_align, spans[0].start, spans[-1].end)
        line.cols = _printed_cols(line)
        return line

    def _feed(self, lines: float, start: int, end: int) -> None:
        if lines > 0:
            prev = self._elements[-1] if self._elements else None
            if isinstance(prev, Feed) and prev.end == start:
                prev.lines += lines
                prev.end = end
            else:
                self._elements.append(Feed(lines, start, end))

    def _restyle(self, ev: Command) -> None:
        """A character-style command. Its effect depends only on the style in force and the command's
        bytes (the decoder maps equal bytes to equal params within a stream), so each (style, command)
        pair is worked out once per stream and looked up after that."""
        style = self._state.style
        entry = self._style_steps.get(id(style))
        if entry is None or entry[0] is not style:
            if len(self._style_steps) >= _STYLE_STEPS_MAX:
                self._style_steps.clear()
            entry = self._style_steps[id(style)] = (style, {})
        steps = entry[1]
        step = steps.get(ev.raw)
        if step is not None and step[0] == ev.op:
            self._state.style = step[1]
            return
        _HANDLERS[ev.op](self, ev, ev.read_params())
        if len(steps) >= _STYLE_STEPS_MAX:
            steps.clear()
        steps[ev.raw] = (ev.op, self._state.style)

    def _set_style(self, **changes: Any) -> None:
        style = self._state.style
        key = (id(style), tuple(changes.items()))
        step = _STYLE_STEPS.get(key)
        if step is None or step[0] is not style:
            new = style.changed(changes)
            step = _STYLE_STEPS[key] = (style, _STYLES.setdefault(new, new))
        self._state.style = step[1]

    def _add(self, element: Element) -> None:
        self._end_line(force=False)
        self._elements.append(element)

    # -- handlers (one per op) --------------------------------------------------------------------
    def _init(self, ev: Command, p: dict[str, Any]) -> None:
        self._end_line(force=False)
        self._state = self._power_on()
        self._page = None  # ESC @ clears the page buffer and returns to standard mode
        self._user_glyphs = {}  # ... and forgets the user-defined characters

    def _user_chars(self, ev: Command, p: dict[str, Any]) -> None:
        action = p.get("action")
        if action == "define":
            glyphs: dict[int, tuple[int, int, bytes]] = p.get("glyphs", {})
            for code, (width, height, bitmap) in glyphs.items():
                if not width:  # a width of 0 undefines the character
                    self._user_glyphs.pop(code, None)
                    continue
                self._user_glyphs[code] = Image(
                    width, height, bitmap, ev.name, ev.offset, ev.offset + len(ev.raw), key=f"0x{code:02X}"
                )
        elif action == "select":
            self._state.user_chars = bool(p.get("on"))
        elif action == "cancel":
            self._user_glyphs.pop(int(p.get("code", 0)), None)

    def _page_mode(self, ev: Command, p: dict[str, Any]) -> None:
        action = str(p.get("action", ""))
        page = self._page
        if action == "enter":
            if page is None:
                self._end_line(force=False)
                self._page = Page(ev.offset)
        elif page is None:
            return  # outside page mode these are ignored by the printer
        elif action == "print":
            self._print_page(ev.offset + len(ev.raw))
            page.clear()
        elif action == "standard":
            self._page = None  # back to standard mode: the buffer is discarded unprinted
        elif action == "cancel":
            page.clear()
        elif action == "direction":
            page.set_direction(int(p.get("n", 0)))
        elif action == "area":
            page.set_area(int(p.get("x", 0)), int(p.get("y", 0)), int(p.get("width", 0)), int(p.get("height", 0)))
        elif action == "y":
            dots = int(p.get("dots", 0))
            if p.get("relative"):
                page.y += dots - 0x10000 if dots >= 0x8000 else dots
            else:
                page.y = dots

    def _print_page(self, end: int) -> None:
        """Print the page buffer as one block of receipt elements."""
        page = self._page
        if page is not None:
            self._elements.extend(page.elements(end))

    def _ff(self, ev: Command, p: dict[str, Any]) -> None:
        if self._page is None:
            self._lf(ev, p)
            return
        self._print_page(ev.offset + len(ev.raw))
        self._page = None

    def _print_mode(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(
            font=p.get("font", "A"),
            bold=bool(p.get("bold")),
            height=2 if p.get("double_height") else 1,
            width=2 if p.get("double_width") else 1,
            underline=1 if p.get("underline") else 0,
        )

    def _char_size(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(width=int(p.get("width", 1)), height=int(p.get("height", 1)))

    def _bold(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(bold=bool(p.get("on")))

    def _underline(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(underline=int(p.get("weight", 0)))

    def _reverse(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(inverse=bool(p.get("on")))

    def _font(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(font=str(p.get("font", "A")))

    def _rotate(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(rotated=bool(p.get("on")))

    def _upside_down(self, ev: Command, p: dict[str, Any]) -> None:
        self._set_style(upside_down=bool(p.get("on")))

    def _align(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.align = str(p.get("align", "left"))
        if not self._pieces:
            self._line_align = self._state.align

    def _codepage(self, ev: Command, p: dict[str, Any]) -> None:
        n = int(p.get("n", 0))
        printer = STAR_PRINTER if p.get("star") else self.setup.printer
        self._state.page_printer = STAR_PRINTER if p.get("star") else ""
        message = encoding.unsupported_page_message(n, printer) if self.setup.codepage_codec is None else None
        if message:
            self._warnings.append(Warning(ev.offset, "unsupported", message))
        self._state.codepage = n

    def _intl(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.intl = int(p.get("n", 0))

    def _cjk_on(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.cjk = self.setup.cjk_codec is not None

    def _cjk_off(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.cjk = False

    def _cjk_code_system(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.sjis = int(p.get("n", 0)) in (1, 2)

    def _line_spacing(self, ev: Command, p: dict[str, Any]) -> None:
        dots = p.get("dots")
        self._state.line_dots = int(dots) if dots else DOTS_PER_LINE

    def _tab_stops(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.tabs = tuple(int(s) for s in p.get("stops", ()))

    def _lf(self, ev: Command, p: dict[str, Any]) -> None:
        self._lf_at(ev.offset, len(ev.raw))

    def _lf_at(self, offset: int, length: int = 1) -> None:
        if self._page is not None:
            self._page.newline(self._state.line_dots)
            return
        if not self._end_line(force=False):
            self._feed(1, offset, offset + length)

    def _position(self, ev: Command, p: dict[str, Any]) -> None:
        """ESC $ / ESC \\: move to a dot position; the gap is laid out as blanks. A move back over
        printed text (the printer would overprint) still leaves one blank, so columns stay apart."""
        unit = CHAR_DOTS.get(self._state.style.font, 12)
        dots = int(p.get("dots", 0))
        if self._page is not None:  # in page mode a position is a dot in the print area
            if p.get("relative"):
                self._page.x += dots - 0x10000 if dots >= 0x8000 else dots
            else:
                self._page.x = dots
            return
        col = self._column()
        if p.get("relative"):
            if dots >= 0x8000:  # a negative move, as two's complement
                dots -= 0x10000
            target = col + round(dots / unit)
        else:
            target = self._state.margin_cols + round(dots / unit)
        gap = target - col if target > col else (1 if col and target < col else 0)
        if gap > 0:
            self._append(ev.offset, b" " * gap)
            self._pieces[-1].end = ev.offset + len(ev.raw)

    def _left_margin(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.margin_cols = round(int(p.get("dots", 0)) / CHAR_DOTS["A"])

    def _print_width(self, ev: Command, p: dict[str, Any]) -> None:
        dots = int(p.get("dots", 0))
        self._state.area_cols = self._state.margin_cols + dots // CHAR_DOTS["A"] if dots else 0

    def _ht(self, ev: Command, p: dict[str, Any]) -> None:
        if self._page is not None:
            unit = CHAR_DOTS["A"] * DEFAULT_TAB
            self._page.x = (self._page.x // unit + 1) * unit
            return
        col = self._column() // max(1, self._state.style.width)
        stops = self._state.tabs or tuple(range(DEFAULT_TAB, 256, DEFAULT_TAB))
        target = next((s for s in stops if s > col), None)
        if target is None:
            return
        self._append(ev.offset, (target - col) * b" ")
        self._pieces[-1].end = ev.offset + len(ev.raw)

    def _feed_lines(self, ev: Command, p: dict[str, Any]) -> None:
        n = int(p.get("n", 0))
        if self._page is not None:
            self._page.newline(n * self._state.line_dots)
            return
        printed = self._end_line(force=False)
        self._feed(n - 1 if printed else n, ev.offset, ev.offset + len(ev.raw))

    def _feed_dots(self, ev: Command, p: dict[str, Any]) -> None:
        dots = int(p.get("dots", 0))
        if self._page is not None:
            self._page.newline(dots)
            return
        self._end_line(force=False)
        self._feed(round(dots / max(1, self._state.line_dots), 2), ev.offset, ev.offset + len(ev.raw))

    def _image(self, ev: Command, p: dict[str, Any]) -> None:
        if self._page is not None:
            self._page.image(self._make_image(ev, p))
            return
        self._add(self._make_image(ev, p))

    def _make_image(self, ev: Command, p: dict[str, Any]) -> Image:
        return Image(
            width=int(p.get("width", 0)),
            height=int(p.get("height", 0)),
            bitmap=bytes(p.get("bitmap", b"")),
            source=ev.name,
            start=ev.offset,
            end=ev.offset + len(ev.raw),
            align=self._state.align,
            scale_x=int(p.get("scale_x", 1)),
            scale_y=int(p.get("scale_y", 1)),
        )

    def _graphics_store(self, ev: Command, p: dict[str, Any]) -> None:
        self._graphics = self._make_image(ev, p)

    def _graphics_print(self, ev: Command, p: dict[str, Any]) -> None:
        if self._graphics is None:
            self._warnings.append(Warning(ev.offset, "unsupported", "print graphics with nothing stored"))
            return
        img = self._graphics
        img.end = ev.offset + len(ev.raw)
        img.align = self._state.align
        self._add(img)
        self._graphics = None

    def _nv_define(self, ev: Command, p: dict[str, Any]) -> None:
        images = p.get("images")
        if images:
            for key, img in images.items():
                self._stored[str(key)] = self._make_image(ev, img)
        elif "bitmap" in p:
            self._stored[str(p.get("key", "1"))] = self._make_image(ev, p)

    def _logo(self, ev: Command, p: dict[str, Any]) -> None:
        key = str(p.get("key", "?"))
        stored = self._stored.get(key)
        img = Image(
            width=stored.width if stored else 0,
            height=stored.height if stored else 0,
            bitmap=stored.bitmap if stored else b"",
            source=ev.name,
            start=ev.offset,
            end=ev.offset + len(ev.raw),
            align=self._state.align,
            key=key,
        )
        self._add(img)

    def _barcode(self, ev: Command, p: dict[str, Any]) -> None:
        data = bytes(p.get("data", b""))
        text = p.get("text")
        self._add(
            Code(
                symbology=str(p.get("symbology", "?")),
                data=str(text) if text is not None else data.decode("latin-1"),
                raw=data,
                start=ev.offset,
                end=ev.offset + len(ev.raw),
                align=self._state.align,
                hri=self._state.barcode_hri,
                size=self._state.barcode_height,
                check_digit=str(p["check_digit"]) if "check_digit" in p else None,
            )
        )

    def _barcode_height(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.barcode_height = int(p.get("dots", 0)) or None

    def _barcode_hri(self, ev: Command, p: dict[str, Any]) -> None:
        self._state.barcode_hri = int(p.get("position", 0))

    def _code2d_store(self, ev: Command, p: dict[str, Any]) -> None:
        self._code2d[str(p.get("symbology", "QR"))] = (bytes(p.get("data", b"")), ev.offset)

    def _code2d_setting(self, ev: Command, p: dict[str, Any]) -> None:
        value = p.get("value", b"")
        if p.get("symbology") == "QR" and p.get("fn") == 67 and value:
            self._state.qr_size = value[0]

    def _code2d_print(self, ev: Command, p: dict[str, Any]) -> None:
        sym = str(p.get("symbology", "QR"))
        stored = self._code2d.get(sym)
        if stored is None:
            self._warnings.append(Warning(ev.offset, "unsupported", f"print {sym} with no data stored"))
            return
        data, start = stored
        self._add(
            Code(
                symbology=sym,
                data=_code_text(data),
                raw=data,
                start=start,
                end=ev.offset + len(ev.raw),
                align=self._state.align,
                size=self._state.qr_size if sym == "QR" else None,
            )
        )

    def _cut_handler(self, ev: Command, p: dict[str, Any]) -> None:
        self._end_line(force=False)
        self._cut = "partial" if p.get("partial") else "full"

    def _drawer(self, ev: Command, p: dict[str, Any]) -> None:
        self._add(DrawerKick(int(p.get("pin", 2)), ev.offset, ev.offset + len(ev.raw)))

    def _status_query(self, ev: Command, p: dict[str, Any]) -> None:
        self._queries.append(str(p.get("kind", ev.name)))


#: ops that change only the character style (handled through Layout._restyle)
_STYLE_OPS: Final = frozenset(
    {"print_mode", "char_size", "bold", "underline", "reverse", "font", "rotate", "upside_down"}
)
_STYLE_STEPS_MAX: Final = 4096


def _below_u0100(text: str) -> bool:
    """Whether every character of ``text`` is below U+0100 (no such character is East Asian wide)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


#: codec -> whether it has no wide character at all (see _narrow_codec)
_NARROW_CODECS: Final[dict[str, bool]] = {}


def _narrow_codec(codec: str) -> bool:
    """Whether ``codec`` decodes byte by byte (each byte on its own to one character, and a run of
    bytes to those characters in a row) and none of its 256 characters is East Asian wide: then no
    text it decodes has a wide character, and a text run need not be searched for one. Worked out
    once per codec."""
    known = _NARROW_CODECS.get(codec)
    if known is None:
        try:
            chars = [bytes((b,)).decode(codec) for b in range(256)]
            whole = bytes(range(256)).decode(codec)
        except (UnicodeDecodeError, LookupError):  # a double-byte codec's lead bytes, or undefined bytes
            known = False
        else:
            known = whole == "".join(chars) and all(len(ch) == 1 and char_cells(ch) == 1 for ch in chars)
        _NARROW_CODECS[codec] = known
    return known


def _code_text(data: bytes) -> str:
    """Code content as text: UTF-8 when it is valid (QR payloads usually are), else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_HANDLERS: Final = {
    "init": Layout._init,
    "print_mode": Layout._print_mode,
    "char_size": Layout._char_size,
    "bold": Layout._bold,
    "underline": Layout._underline,
    "reverse": Layout._reverse,
    "align": Layout._align,
    "font": Layout._font,
    "rotate": Layout._rotate,
    "upside_down": Layout._upside_down,
    "codepage": Layout._codepage,
    "intl_charset": Layout._intl,
    "cjk_on": Layout._cjk_on,
    "cjk_off": Layout._cjk_off,
    "cjk_code_system": Layout._cjk_code_system,
    "line_spacing": Layout._line_spacing,
    "tab_stops": Layout._tab_stops,
    "lf": Layout._lf,
    "position": Layout._position,
    "left_margin": Layout._left_margin,
    "print_width": Layout._print_width,
    "ff": Layout._ff,
    "page_mode": Layout._page_mode,
    "user_chars": Layout._user_chars,
    "ht": Layout._ht,
    "feed_lines": Layout._feed_lines,
    "feed_dots": Layout._feed_dots,
    "image": Layout._image,
    "graphics_store": Layout._graphics_store,
    "graphics_print": Layout._graphics_print,
    "nv_define": Layout._nv_define,
    "logo": Layout._logo,
    "barcode": Layout._barcode,
    "barcode_height": Layout._barcode_height,
    "barcode_hri": Layout._barcode_hri,
    "code2d_store": Layout._code2d_store,
    "code2d_setting": Layout._code2d_setting,
    "code2d_print": Layout._code2d_print,
    "cut": Layout._cut_handler,
    "drawer": Layout._drawer,
    "status_query": Layout._status_query,
}


def _printed_cols(line: Line) -> int:
    cols = sum(cells(s.text) * s.style.width for s in line.spans)
    for span in reversed(line.spans):  # trailing blanks take no paper
        blank = len(span.text) - len(span.text.rstrip())
        cols -= blank * span.style.width
        if blank < len(span.text):
            break
    return cols


def infer_width(elements: list[Block]) -> int:
    """Paper width in columns, from the widest printed line and image (58 mm = 32, 80 mm = 42/48).

    Trailing spaces do not count: POS programs often pad lines past the last printed character.
    """
    widest = 0
    bounded: list[LineRun] = []
    for el in elements:
        if isinstance(el, LineRun):
            if el.exact:
                widest = max(widest, el.widest)
            else:
                bounded.append(el)
        elif isinstance(el, Line):
            widest = max(widest, el.cols if el.cols >= 0 else _printed_cols(el))
        elif isinstance(el, Image) and el.width * el.scale_x > 384:
            widest = max(widest, PAPER_WIDTHS[0] + 1)
    paper = _paper(widest)
    # a run's columns that are bounds (LineRun.exact): a line whose bound fits the paper chosen so far
    # cannot change the choice; only the others are counted exactly (CJK receipts: one line, most often)
    for run in bounded:
        if paper == PAPER_WIDTHS[-1]:
            break
        if run.widest <= paper:
            continue
        bounds = run.cols
        for i in range(len(bounds)):
            if bounds[i] > paper:
                widest = max(widest, run.line_cols(i))
                paper = _paper(widest)
                if paper == PAPER_WIDTHS[-1]:
                    break
    return paper


def _paper(cols: int) -> int:
    """The narrowest paper that prints ``cols`` columns (the widest when none does)."""
    return next((w for w in PAPER_WIDTHS if cols <= w), PAPER_WIDTHS[-1])
