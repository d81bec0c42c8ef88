"""The document model of a printed receipt.

A ``Receipt`` is what one print job looks like on paper: an ordered list of elements (styled text
lines, images, barcodes and 2-D codes, drawer kicks, feeds), each with the byte range ``[start, end)``
of the raw stream it came from. Renderers only read this model; they never see bytes.

The classes are plain classes with their ``__init__``, ``__eq__`` and ``__repr__`` written out (as
the dataclass decorator would write them): mypyc compiles them (see setup.py), where the ones the
decorator writes stay interpreted, and the decorator's run at import costs each command's start-up.
"""

from __future__ import annotations

from typing import Any, Final, cast

from kelaile_cli.core.stream.cells import cells

__all__ = [
    "USER_CHAR",
    "Align",
    "Code",
    "DrawerKick",
    "Element",
    "Feed",
    "Image",
    "Line",
    "LineRun",
    "Receipt",
    "Span",
    "Style",
    "Warning",
    "joined_line_texts",
    "line_texts",
    "plain_line",
]

Align = str  # 'left' | 'center' | 'right'


class Style:
    """Character style in force when a span was printed (a value: equal styles are interchangeable;
    never changed once made)."""

    __slots__ = ("bold", "font", "height", "inverse", "rotated", "underline", "upside_down", "width")

    def __init__(
        self,
        bold: bool = False,
        underline: int = 0,  # 0 none, 1 thin, 2 thick
        width: int = 1,  # horizontal multiplier 1..8
        height: int = 1,  # vertical multiplier 1..8
        inverse: bool = False,
        font: str = "A",
        upside_down: bool = False,
        rotated: bool = False,
    ) -> None:
        self.bold: Final = bold
        self.underline: Final = underline
        self.width: Final = width
        self.height: Final = height
        self.inverse: Final = inverse
        self.font: Final = font
        self.upside_down: Final = upside_down
        self.rotated: Final = rotated

    def _key(self) -> tuple[bool, int, int, int, bool, str, bool, bool]:
        return (
            self.bold,
            self.underline,
            self.width,
            self.height,
            self.inverse,
            self.font,
            self.upside_down,
            self.rotated,
        )

    def changed(self, changes: dict[str, Any]) -> Style:
        """This style with some of its attributes changed (by name)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _STYLE_FIELDS}
        for name, value in changes.items():
            if name not in values:
                raise TypeError(f"Style has no attribute {name!r}")
            values[name] = value
        return Style(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Style):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Style(bold={self.bold!r}, underline={self.underline!r}, width={self.width!r}, height={self.height!r}, "
            f"inverse={self.inverse!r}, font={self.font!r}, upside_down={self.upside_down!r}, rotated={self.rotated!r})"
        )


_STYLE_FIELDS: Final = ("bold", "underline", "width", "height", "inverse", "font", "upside_down", "rotated")


PLAIN: Final = Style()
USER_CHAR = "\ufffc"  # stands for a user-defined character in text (its bitmap is in Span.glyphs)


class Span:
    """A run of characters printed in one style. ``start``/``end`` are stream byte offsets.

    ``glyphs``: the span is user-defined characters (``ESC &``), one bitmap per character; its text is
    then one ``USER_CHAR`` placeholder per character.
    """

    __slots__ = ("end", "glyphs", "start", "style", "text")

    def __init__(self, text: str, style: Style, start: int, end: int, glyphs: list[Image] | None = None) -> None:
        self.text = text
        self.style = style
        self.start = start
        self.end = end
        self.glyphs = glyphs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return (self.text, self.style, self.start, self.end, self.glyphs) == (
            other.text,
            other.style,
            other.start,
            other.end,
            other.glyphs,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Span(text={self.text!r}, style={self.style!r}, start={self.start!r}, end={self.end!r}, "
            f"glyphs={self.glyphs!r})"
        )


class Line:  # noqa: PLW1641  (mutable, so unhashable: defining __eq__ leaves __hash__ None, as the dataclass did)
    """One printed line (ended by LF, a feed or the end of the job).

    ``spans``: its runs of text, one per style. A line printed whole in one style (most lines) can
    be made by ``plain_line`` with its text and style only: its one ``Span`` (and the list holding
    it) is then built the first time ``spans`` is read, and ``text`` needs neither — bulk parsing
    (``klx parse --json``) reads only the text of most lines.
    """

    __slots__ = ("_spans", "_style", "_text", "align", "cols", "end", "start")

    _spans: list[Span] | None  # None: the one span of a plain line, not built yet
    _text: str  # a plain line's text and style (unused once _spans is set)
    _style: Style
    align: Align
    start: int
    end: int
    cols: int  # columns printed, trailing blanks excluded (-1: not computed)

    def __init__(self, spans: list[Span], align: Align = "left", start: int = 0, end: int = 0, cols: int = -1) -> None:
        self._spans = spans
        self._text = ""
        self._style = PLAIN
        self.align = align
        self.start = start
        self.end = end
        self.cols = cols

    @property
    def spans(self) -> list[Span]:
        spans = self._spans
        if spans is None:
            spans = self._spans = [Span(self._text, self._style, self.start, self.end)]
        return spans

    @spans.setter
    def spans(self, value: list[Span]) -> None:
        self._spans = value

    @property
    def text(self) -> str:
        spans = self._spans
        if spans is None:
            return self._text
        if len(spans) == 1:  # most lines: one style throughout
            return spans[0].text
        return "".join([s.text for s in spans])

    @property
    def height(self) -> int:
        if self._spans is None:
            return self._style.height
        return max((s.style.height for s in self._spans), default=1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Line):
            return NotImplemented
        return (self.spans, self.align, self.start, self.end, self.cols) == (
            other.spans,
            other.align,
            other.start,
            other.end,
            other.cols,
        )

    def __repr__(self) -> str:
        return (
            f"Line(spans={self.spans!r}, align={self.align!r}, start={self.start!r}, end={self.end!r}, "
            f"cols={self.cols!r})"
        )


_NO_SPANS: Final[list[Span]] = []


def plain_line(text: str, style: Style, start: int, end: int, align: Align, cols: int) -> Line:
    """``Line([Span(text, style, start, end)], align, start, end, cols)``, its span built when first read."""
    line = Line(_NO_SPANS, align, start, end, cols)  # the shared list is let go of at once
    line._spans = None
    line._text = text
    line._style = style
    return line


class Image:
    """A bitmap. ``bitmap`` is 1 bpp, row-major, MSB first, each row padded to ``(width + 7) // 8`` bytes.

    ``source``: the command it came from, e.g. "GS v 0", "ESC *", "FS p"; ``key``: the stored logo's key
    when the bitmap is not in the stream (then the bitmap is empty).
    """

    __slots__ = ("align", "bitmap", "end", "height", "key", "scale_x", "scale_y", "source", "start", "width")

    def __init__(
        self,
        width: int,
        height: int,
        bitmap: bytes,
        source: str,
        start: int,
        end: int,
        align: Align = "left",
        scale_x: int = 1,
        scale_y: int = 1,
        key: str | None = None,
    ) -> None:
        self.width = width
        self.height = height
        self.bitmap = bitmap
        self.source = source
        self.start = start
        self.end = end
        self.align = align
        self.scale_x = scale_x
        self.scale_y = scale_y
        self.key = key

    @property
    def row_bytes(self) -> int:
        return (self.width + 7) // 8

    def pixel(self, x: int, y: int) -> bool:
        return bool(self.bitmap[y * self.row_bytes + x // 8] & (0x80 >> (x % 8)))

    def _key(self) -> tuple[object, ...]:
        return (
            self.width,
            self.height,
            self.bitmap,
            self.source,
            self.start,
            self.end,
            self.align,
            self.scale_x,
            self.scale_y,
            self.key,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Image(width={self.width!r}, height={self.height!r}, bitmap={self.bitmap!r}, source={self.source!r}, "
            f"start={self.start!r}, end={self.end!r}, align={self.align!r}, scale_x={self.scale_x!r}, "
            f"scale_y={self.scale_y!r}, key={self.key!r})"
        )


class Code:
    """A barcode or 2-D code with its encoded content.

    ``symbology``: 'QR', 'PDF417', 'EAN13', 'CODE128', ...; ``data``: the content decoded as text (a
    Latin-1 fallback keeps every byte); ``raw``: the content bytes exactly as sent; ``hri``: a barcode's
    human-readable position (0 none, 1 above, 2 below, 3 both); ``size``: QR module size or barcode
    height; ``check_digit``: EAN/UPC's 'sent', 'computed' (left out by the program) or 'wrong'.
    """

    __slots__ = ("align", "check_digit", "data", "end", "hri", "raw", "size", "start", "symbology")

    def __init__(
        self,
        symbology: str,
        data: str,
        raw: bytes,
        start: int,
        end: int,
        align: Align = "left",
        hri: int = 0,
        size: int | None = None,
        check_digit: str | None = None,
    ) -> None:
        self.symbology = symbology
        self.data = data
        self.raw = raw
        self.start = start
        self.end = end
        self.align = align
        self.hri = hri
        self.size = size
        self.check_digit = check_digit

    def _key(self) -> tuple[object, ...]:
        return (
            self.symbology,
            self.data,
            self.raw,
            self.start,
            self.end,
            self.align,
            self.hri,
            self.size,
            self.check_digit,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Code):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Code(symbology={self.symbology!r}, data={self.data!r}, raw={self.raw!r}, start={self.start!r}, "
            f"end={self.end!r}, align={self.align!r}, hri={self.hri!r}, size={self.size!r}, "
            f"check_digit={self.check_digit!r})"
        )


class DrawerKick:
    """A cash drawer opened (a pulse on ``pin``)."""

    __slots__ = ("end", "pin", "start")

    def __init__(self, pin: int, start: int, end: int) -> None:
        self.pin = pin
        self.start = start
        self.end = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DrawerKick):
            return NotImplemented
        return (self.pin, self.start, self.end) == (other.pin, other.start, other.end)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"DrawerKick(pin={self.pin!r}, start={self.start!r}, end={self.end!r})"


class Feed:
    """Blank paper advanced: ``lines`` line heights (fractional when fed in dots)."""

    __slots__ = ("end", "lines", "start")

    def __init__(self, lines: float, start: int, end: int) -> None:
        self.lines = lines
        self.start = start
        self.end = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Feed):
            return NotImplemented
        return (self.lines, self.start, self.end) == (other.lines, other.start, other.end)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"Feed(lines={self.lines!r}, start={self.start!r}, end={self.end!r})"


Element = Line | Image | Code | DrawerKick | Feed


class Warning:  # the domain word; shadows the builtin only where imported by name
    """Something odd in the stream: an unknown command, a truncated one, undecodable bytes (a value).

    ``kind``: 'unknown_command' | 'truncated' | 'bad_text' | 'unsupported' | 'user_chars' | 'mojibake'.
    """

    __slots__ = ("kind", "message", "offset")

    def __init__(self, offset: int, kind: str, message: str) -> None:
        self.offset: Final = offset
        self.kind: Final = kind
        self.message: Final = message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Warning):
            return NotImplemented
        return (self.offset, self.kind, self.message) == (other.offset, other.kind, other.message)

    def __hash__(self) -> int:
        return hash((self.offset, self.kind, self.message))

    def __repr__(self) -> str:
        return f"Warning(offset={self.offset!r}, kind={self.kind!r}, message={self.message!r})"

    def to_dict(self) -> dict[str, object]:
        return {"offset": self.offset, "kind": self.kind, "message": self.message}


class LineRun:
    """Lines printed one after another in one style and alignment, each whole (a text run with line
    feeds in it: most of a receipt), kept as their texts: the layout's compact form of them.

    ``Receipt.elements`` turns a run into the ``Line`` (and, for an empty line, ``Feed``) elements it
    stands for the first time it is read; the text renderer, ``line_texts`` and width inference read the
    run as it is, so bulk parsing builds no object per printed line. The run begins and ends with a
    printed line; an empty line inside it is a line fed.
    """

    __slots__ = (
        "align",
        "cols",
        "exact",
        "gap",
        "joined",
        "parts",
        "plain",
        "printed",
        "start",
        "stripped",
        "style",
        "texts",
        "widest",
    )

    def __init__(
        self,
        texts: list[str],
        parts: list[bytes] | None,
        printed: list[str],
        cols: list[int],
        style: Style,
        align: Align,
        start: int,
        widest: int,
        gap: int,
        exact: bool,
        plain: bool,
        joined: str,
        stripped: bool,
    ) -> None:
        self.texts = texts  # each line's text ("": an empty line)
        self.parts = parts  # each line's bytes, or None: a byte per character (the text's length is the line's)
        self.printed = printed  # each line's text less its trailing blanks
        self.cols = cols  # each line's columns printed (trailing blanks excluded; an empty line: -1)
        self.style = style
        self.align = align
        self.start = start  # stream offset of the first line's first byte
        self.widest = widest  # the most columns a line of the run prints
        self.gap = gap  # the most empty lines in a row inside the run
        #: False: ``cols`` and ``widest`` are upper bounds (CJK text: a line's bytes), ``settle`` makes them exact
        self.exact = exact
        #: True: no character of the texts is one JSON escapes, but the newline (False: not known)
        self.plain = plain
        self.joined = joined  # the texts joined by newlines (a slice of the text the run was decoded as)
        self.stripped = stripped  # False: no line has trailing blanks (``printed`` is ``texts``)

    def line_cols(self, i: int) -> int:
        """The columns line ``i`` (a printed one) takes, counted exactly, whatever ``exact`` says."""
        return cells(self.printed[i]) * self.style.width

    def settle(self) -> int:
        """Make ``cols`` and ``widest`` exact (see ``exact``); returns ``widest``."""
        if not self.exact:
            cols = self.cols
            widest = 0
            for i in range(len(cols)):
                if cols[i] >= 0:  # -1: an empty line, as it was
                    cols[i] = n = self.line_cols(i)
                    widest = max(widest, n)
            self.widest = widest
            self.exact = True
        return self.widest

    def expand(self, out: list[Element]) -> None:
        """Append the run's lines to ``out`` as ``Line``/``Feed`` elements, as the layout would have made them."""
        self.settle()
        pos = self.start
        texts = self.texts
        parts = self.parts
        for i in range(len(texts)):
            text = texts[i]
            size = len(text) if parts is None else len(parts[i])
            if size:
                out.append(plain_line(text, self.style, pos, pos + size, self.align, self.cols[i]))
            else:  # an empty line: a line fed (joined to the feed just before it)
                prev = out[-1] if out else None
                if isinstance(prev, Feed) and prev.end == pos:
                    prev.lines += 1
                    prev.end = pos + 1
                else:
                    out.append(Feed(1, pos, pos + 1))
            pos += size + 1

    def line_texts(self) -> list[str]:
        """The texts of the run's printed lines (its empty lines are feeds, not lines)."""
        if not self.gap:
            return self.texts
        return [text for text, cols in zip(self.texts, self.cols, strict=True) if cols >= 0]

    def joined_text(self) -> str:
        """``"\\n".join(self.line_texts())``, without joining the lines again when the run kept their text."""
        if not self.gap:
            return self.joined
        return "\n".join(self.line_texts())


#: what the layout lays out: elements, with runs of plain lines kept as ``LineRun``
Block = Element | LineRun


class Receipt:  # noqa: PLW1641  (mutable, so unhashable, as the dataclass was)
    """One print job as it would come out of the printer.

    ``elements`` are its printed elements in order. The layout may keep runs of plain lines as
    ``LineRun`` blocks (``blocks``); ``elements`` expands them the first time it is read.
    """

    __slots__ = (
        "_blocks",
        "_compact",
        "connection",
        "cut",
        "dialect",
        "encoding",
        "encoding_confidence",
        "encoding_evidence",
        "end",
        "index",
        "queries",
        "start",
        "timestamp",
        "warnings",
        "width",
    )

    index: int
    _blocks: list[Block]
    _compact: bool  # _blocks holds a LineRun
    start: int
    end: int
    encoding: str  # python codec name used for text (e.g. 'gb18030', 'big5', 'cp437')
    width: int  # paper width in normal-size columns (32, 42 or 48)
    dialect: str  # 'escpos' | 'star'
    cut: str | None  # 'full' | 'partial' | None (job ended without a cut)
    warnings: list[Warning]
    queries: list[str]  # real-time status requests seen
    timestamp: float | None  # capture time of the first byte, when known
    connection: int | None  # connection number within a recording, when known
    encoding_confidence: float | None  # how sure the encoding is, 0..1 (None: not judged)
    encoding_evidence: list[str]  # why that encoding, in words

    def __init__(
        self,
        index: int,
        elements: list[Block],
        start: int,
        end: int,
        encoding: str,
        width: int,
        dialect: str = "escpos",
        cut: str | None = None,
        warnings: list[Warning] | None = None,
        queries: list[str] | None = None,
        timestamp: float | None = None,
        connection: int | None = None,
        compact: bool = False,
    ) -> None:
        self.index = index
        self._blocks = elements
        self._compact = compact  # the layout says when it kept a LineRun
        self.start = start
        self.end = end
        self.encoding = encoding
        self.width = width
        self.dialect = dialect
        self.cut = cut
        self.warnings = [] if warnings is None else warnings
        self.queries = [] if queries is None else queries
        self.timestamp = timestamp
        self.connection = connection
        self.encoding_confidence = None
        self.encoding_evidence = []

    @property
    def elements(self) -> list[Element]:
        if self._compact:
            out: list[Element] = []
            for block in self._blocks:
                if isinstance(block, LineRun):
                    block.expand(out)
                else:
                    out.append(block)
            self._blocks = list(out)
            self._compact = False
        return cast("list[Element]", self._blocks)  # no LineRun left

    @elements.setter
    def elements(self, value: list[Element]) -> None:
        self._blocks = list(value)
        self._compact = False

    @property
    def blocks(self) -> list[Block]:
        """The elements as laid out, runs of plain lines possibly kept as ``LineRun`` (read, don't change)."""
        return self._blocks

    @property
    def lines(self) -> list[Line]:
        return [e for e in self.elements if isinstance(e, Line)]

    @property
    def codes(self) -> list[Code]:
        return [e for e in self._blocks if isinstance(e, Code)]

    @property
    def images(self) -> list[Image]:
        return [e for e in self._blocks if isinstance(e, Image)]

    @property
    def drawer_kicks(self) -> list[DrawerKick]:
        return [e for e in self._blocks if isinstance(e, DrawerKick)]

    def _fields(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in _RECEIPT_FIELDS])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Receipt):
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        pairs = zip(_RECEIPT_FIELDS, self._fields(), strict=True)
        return "Receipt(" + ", ".join(f"{n}={v!r}" for n, v in pairs) + ")"


#: Receipt's fields, as its equality and repr read them (``elements`` expanded), in the order of its repr
_RECEIPT_FIELDS: Final = (
    "index",
    "elements",
    "start",
    "end",
    "encoding",
    "width",
    "dialect",
    "cut",
    "warnings",
    "queries",
    "timestamp",
    "connection",
    "encoding_confidence",
    "encoding_evidence",
)


def joined_line_texts(receipt: Receipt) -> str:
    """``"\\n".join(line_texts(receipt))``: a run's lines as the one text they were decoded from."""
    return "\n".join(_texts(receipt, True))


def line_texts(receipt: Receipt) -> list[str]:
    """The text of each printed line, in order (``[line.text for line in receipt.lines]``, compiled:
    profile detection and extraction read it for every receipt)."""
    return _texts(receipt, False)


def _texts(receipt: Receipt, runs_joined: bool) -> list[str]:
    """Each line's text, a run's lines as one text (its ``joined_text``) when ``runs_joined``."""
    out: list[str] = []
    for block in receipt.blocks:
        if isinstance(block, Line):
            out.append(block.text)
        elif isinstance(block, LineRun):
            if runs_joined:
                out.append(block.joined_text())
            else:
                out.extend(block.line_texts())
    return out
