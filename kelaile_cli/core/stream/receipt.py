"""The document model of a printed receipt.

A ``Receipt`` is what one print job looks like on paper: an ordered list of elements (styled text
lines, images, barcodes and 2-D codes, drawer kicks, feeds), each with the byte range ``[start, end)``
of the raw stream it came from. Renderers only read this model; they never see bytes.

The classes made once per printed line or receipt have their ``__init__`` written out: mypyc
compiles it (see setup.py), where the one the dataclass decorator writes would stay interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "USER_CHAR",
    "Align",
    "Code",
    "DrawerKick",
    "Element",
    "Feed",
    "Image",
    "Line",
    "Receipt",
    "Span",
    "Style",
    "Warning",
    "line_texts",
    "plain_line",
]

Align = str  # 'left' | 'center' | 'right'


@dataclass(frozen=True, slots=True)
class Style:
    """Character style in force when a span was printed."""

    bold: bool = False
    underline: int = 0  # 0 none, 1 thin, 2 thick
    width: int = 1  # horizontal multiplier 1..8
    height: int = 1  # vertical multiplier 1..8
    inverse: bool = False
    font: str = "A"
    upside_down: bool = False
    rotated: bool = False


PLAIN: Final = Style()
USER_CHAR = "\ufffc"  # stands for a user-defined character in text (its bitmap is in Span.glyphs)


@dataclass(slots=True, init=False)
class Span:
    """A run of characters printed in one style. ``start``/``end`` are stream byte offsets.

    ``glyphs``: the span is user-defined characters (``ESC &``), one bitmap per character; its text is
    then one ``USER_CHAR`` placeholder per character.
    """

    text: str
    style: Style
    start: int
    end: int
    glyphs: list[Image] | None

    def __init__(self, text: str, style: Style, start: int, end: int, glyphs: list[Image] | None = None) -> None:
        self.text = text
        self.style = style
        self.start = start
        self.end = end
        self.glyphs = glyphs


@dataclass(slots=True, init=False, eq=False, repr=False)
class Line:  # noqa: PLW1641  (mutable, so unhashable: defining __eq__ leaves __hash__ None, as the dataclass did)
    """One printed line (ended by LF, a feed or the end of the job).

    ``spans``: its runs of text, one per style. A line printed whole in one style (most lines) can
    be made by ``plain_line`` with its text and style only: its one ``Span`` (and the list holding
    it) is then built the first time ``spans`` is read, and ``text`` needs neither — bulk parsing
    (``klx parse --json``) reads only the text of most lines.
    """

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


@dataclass(slots=True, init=False)
class Image:
    """A bitmap. ``bitmap`` is 1 bpp, row-major, MSB first, each row padded to ``(width + 7) // 8`` bytes."""

    width: int
    height: int
    bitmap: bytes
    source: str  # the command it came from, e.g. "GS v 0", "ESC *", "FS p"
    start: int
    end: int
    align: Align
    scale_x: int
    scale_y: int
    key: str | None  # stored logo key when the bitmap is not in the stream (then empty bitmap)

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


@dataclass(slots=True, init=False)
class Code:
    """A barcode or 2-D code with its encoded content."""

    symbology: str  # 'QR', 'PDF417', 'EAN13', 'CODE128', ...
    data: str  # content decoded as text (latin-1 fallback keeps every byte)
    raw: bytes  # content bytes exactly as sent
    start: int
    end: int
    align: Align
    hri: int  # barcode human-readable position (0 none, 1 above, 2 below, 3 both)
    size: int | None  # QR module size / barcode height
    check_digit: str | None  # EAN/UPC: 'sent', 'computed' (left out by the program) or 'wrong'

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


@dataclass(slots=True)
class DrawerKick:
    pin: int
    start: int
    end: int


@dataclass(slots=True, init=False)
class Feed:
    """Blank paper advanced: ``lines`` line heights (fractional when fed in dots)."""

    lines: float
    start: int
    end: int

    def __init__(self, lines: float, start: int, end: int) -> None:
        self.lines = lines
        self.start = start
        self.end = end


Element = Line | Image | Code | DrawerKick | Feed


@dataclass(frozen=True, slots=True)
class Warning:  # the domain word; shadows the builtin only where imported by name
    """Something odd in the stream: an unknown command, a truncated one, undecodable bytes."""

    offset: int
    kind: str  # 'unknown_command' | 'truncated' | 'bad_text' | 'unsupported' | 'user_chars' | 'mojibake'
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"offset": self.offset, "kind": self.kind, "message": self.message}


@dataclass(slots=True, init=False)
class Receipt:
    """One print job as it would come out of the printer."""

    index: int
    elements: list[Element]
    start: int
    end: int
    encoding: str  # python codec name used for text (e.g. 'gb18030', 'big5', 'cp437')
    width: int  # paper width in normal-size columns (32, 42 or 48)
    dialect: str = "escpos"  # 'escpos' | 'star'
    cut: str | None = None  # 'full' | 'partial' | None (job ended without a cut)
    warnings: list[Warning] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # real-time status requests seen
    timestamp: float | None = None  # capture time of the first byte, when known
    connection: int | None = None  # connection number within a recording, when known
    encoding_confidence: float | None = None  # how sure the encoding is, 0..1 (None: not judged)
    encoding_evidence: list[str] = field(default_factory=list)  # why that encoding, in words

    def __init__(
        self,
        index: int,
        elements: list[Element],
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
    ) -> None:
        self.index = index
        self.elements = elements
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
    def lines(self) -> list[Line]:
        return [e for e in self.elements if isinstance(e, Line)]

    @property
    def codes(self) -> list[Code]:
        return [e for e in self.elements if isinstance(e, Code)]

    @property
    def images(self) -> list[Image]:
        return [e for e in self.elements if isinstance(e, Image)]

    @property
    def drawer_kicks(self) -> list[DrawerKick]:
        return [e for e in self.elements if isinstance(e, DrawerKick)]


def line_texts(receipt: Receipt) -> list[str]:
    """The text of each printed line, in order (``[line.text for line in receipt.lines]``, compiled:
    profile detection and extraction read it for every receipt)."""
    out: list[str] = []
    for element in receipt.elements:
        if isinstance(element, Line):
            out.append(element.text)
    return out
