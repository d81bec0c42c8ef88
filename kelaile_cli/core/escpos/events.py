"""Events produced by the print-stream decoders.

A decoder turns bytes into a flat sequence of events. Every event carries ``offset`` (absolute byte
offset of its first byte in the stream) and ``raw`` (the exact bytes it was decoded from), so that
concatenating ``raw`` of all events in order gives back the stream byte for byte.
Events are treated as immutable but are not frozen: a decoder creates millions of them and frozen
construction costs four times as much. They are plain classes with ``__init__``, ``__eq__`` and
``__repr__`` written out as a dataclass would have them: mypyc compiles them (the decorator's stay
interpreted), and the decorator's run at import costs every command's start-up.

``Command.op`` is a semantic operation id shared by the ESC/POS and Star line-mode decoders, so that
the layout engine does not care which dialect produced it. The ops and their ``params`` are listed in
``OPS`` below; a decoder must only emit ops named there.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OPS", "Command", "Event", "Text", "Truncated", "Unknown"]


class Text:
    """A run of printable bytes (>= 0x20) and line feeds, not yet decoded to characters (never any other
    control byte: the layout relies on it, see ``encoding.escapes_as_ascii``).

    LF is included because it is by far the most common command and has no arguments: one event
    per block of plain lines instead of two per line keeps decoding fast. The layout step treats
    each LF as "print the line and feed".

    Turning bytes into characters needs the code page / double-byte state and a per-stream encoding
    guess, so it happens in the layout step. A run ends at the next control byte other than LF, or at
    ``close()``; runs are also split every ``MAX_TEXT_RUN`` bytes counted from the run's start, so the
    split points never depend on how the stream was chunked.
    """

    __slots__ = ("offset", "raw")

    offset: int
    raw: bytes

    def __init__(self, offset: int, raw: bytes) -> None:
        self.offset = offset
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Text):
            return NotImplemented
        return (self.offset, self.raw) == (other.offset, other.raw)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        return f"Text(offset={self.offset!r}, raw={self.raw!r})"


class Command:
    """A recognised command. ``name`` is the mnemonic (``"ESC !"``, ``"GS ( k"``), ``op`` the meaning.

    ``params`` reads as a dict of the event's own. A decoder that has seen the same bytes before
    passes the dict it parsed then as ``shared`` instead: it is copied when ``params`` is first read,
    so an event nobody asks about (most style commands: the layout remembers their effect by their
    bytes) costs no dict, and writing into one event's params never touches another's.
    """

    __slots__ = ("_params", "_shared", "name", "offset", "op", "raw")

    offset: int
    raw: bytes
    name: str
    op: str
    _params: dict[str, Any] | None
    _shared: dict[str, Any] | None

    def __init__(
        self,
        offset: int,
        raw: bytes,
        name: str,
        op: str,
        params: dict[str, Any] | None = None,
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.offset = offset
        self.raw = raw
        self.name = name
        self.op = op
        self._params = params
        self._shared = shared

    @property
    def params(self) -> dict[str, Any]:
        params = self._params
        if params is None:
            shared = self._shared
            params = self._params = {} if shared is None else dict(shared)
        return params

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self._params = value

    def read_params(self) -> dict[str, Any]:
        """``params`` for a reader that does not change them: the shared dict itself when the event has
        none of its own yet (no copy)."""
        params = self._params
        if params is None:
            params = self._shared
            if params is None:
                params = self._params = {}
        return params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Command) or type(other) is not type(self):
            return NotImplemented
        return (self.offset, self.raw, self.name, self.op, self.read_params()) == (
            other.offset,
            other.raw,
            other.name,
            other.op,
            other.read_params(),
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        return (
            f"Command(offset={self.offset!r}, raw={self.raw!r}, name={self.name!r}, op={self.op!r}, "
            f"params={self.read_params()!r})"
        )


class Unknown:
    """Bytes the decoder could not attribute to a known command. Decoding continues after them."""

    __slots__ = ("offset", "raw", "reason")

    offset: int
    raw: bytes
    reason: str

    def __init__(self, offset: int, raw: bytes, reason: str) -> None:
        self.offset = offset
        self.raw = raw
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Unknown):
            return NotImplemented
        return (self.offset, self.raw, self.reason) == (other.offset, other.raw, other.reason)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        return f"Unknown(offset={self.offset!r}, raw={self.raw!r}, reason={self.reason!r})"


class Truncated:
    """A command cut off by the end of the stream (only ever emitted by ``close()``)."""

    __slots__ = ("name", "offset", "raw")

    offset: int
    raw: bytes
    name: str

    def __init__(self, offset: int, raw: bytes, name: str) -> None:
        self.offset = offset
        self.raw = raw
        self.name = name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Truncated):
            return NotImplemented
        return (self.offset, self.raw, self.name) == (other.offset, other.raw, other.name)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        return f"Truncated(offset={self.offset!r}, raw={self.raw!r}, name={self.name!r})"


Event = Text | Command | Unknown | Truncated

#: op -> description of params. The layout engine relies on these names.
OPS: dict[str, str] = {
    # printer control
    "init": "ESC @: reset modes to power-on defaults",
    "print_mode": "ESC !: params font('A'|'B'), bold, double_height, double_width, underline (bools)",
    "char_size": "GS !: params width, height (multipliers 1..8)",
    "bold": "ESC E / ESC G / Star ESC E,F: params on (bool)",
    "underline": "ESC -: params weight (0 off, 1 thin, 2 thick)",
    "reverse": "GS B: params on (bool) — white on black",
    "align": "ESC a / Star ESC GS a: params align ('left'|'center'|'right')",
    "font": "ESC M: params font ('A'|'B'|'C')",
    "rotate": "ESC V: params on (bool)",
    "upside_down": "ESC {: params on (bool)",
    "codepage": "ESC t: params n (int) — table number, mapped per printer model in the layout step",
    "intl_charset": "ESC R: params n (int)",
    "cjk_on": "FS &: enter double-byte (Kanji/Hanzi) mode",
    "cjk_off": "FS .: leave double-byte mode",
    "cjk_print_mode": "FS !: params underline(bool), double_width(bool), double_height(bool)",
    "cjk_code_system": "FS C: params n (0 JIS, 1 Shift_JIS, 2 Shift_JIS-2004)",
    "cjk_underline": "FS -: params weight",
    "cjk_double": "FS W: params on (bool)",
    "user_chars": (
        "ESC & / ESC % / ESC ?: user-defined characters: params action 'define' with glyphs "
        "{code: (width, height, bitmap as image)} | 'select' with on (bool) | 'cancel' with code; "
        "FS 2 (Kanji) has no action"
    ),
    "line_spacing": "ESC 2 / ESC 3: params dots (int or None for default)",
    "char_spacing": "ESC SP: params dots",
    "left_margin": "GS L: params dots",
    "print_width": "GS W: params dots",
    "position": "ESC $ / ESC \\: params dots, relative (bool)",
    "tab_stops": "ESC D: params stops (list[int] of columns)",
    "peripheral": "ESC = and similar device-selection commands",
    "panel_buttons": "ESC c 5",
    "paper_sensor": "ESC c 3 / ESC c 4",
    "motion_units": "GS P",
    "smoothing": "GS b",
    "setting": "any other parameter-setting command with no effect on layout: params name",
    # printing and feeding
    "lf": "LF: print and feed one line",
    "cr": "CR: carriage return (printed like LF only when auto-LF; normally ignored)",
    "ht": "HT: horizontal tab",
    "ff": "FF: print and return to standard mode / eject (page mode end)",
    "feed_lines": "ESC d / Star ESC a: params n (lines)",
    "feed_dots": "ESC J: params dots",
    "reverse_feed": "ESC K / ESC e: params n",
    "page_mode": (
        "ESC L / ESC S / ESC FF / CAN / ESC W / ESC T / GS $ / GS \\: params action ('enter'|'standard'|"
        "'print'|'cancel'|'direction' with n 0..3|'area' with x, y, width, height in dots|"
        "'y' with dots, relative (bool))"
    ),
    # images
    "image": (
        "GS v 0, ESC *, GS ( L/GS 8 L print, Star ESC X / ESC K: params width, height (pixels), "
        "bitmap (bytes, 1 bpp, row-major, MSB first, each row padded to whole bytes), source (str), "
        "scale_x, scale_y (ints)"
    ),
    "graphics_store": "GS ( L / GS 8 L fn 112/113: params width, height, bitmap (as image) — to print buffer",
    "graphics_print": "GS ( L fn 50: print buffered graphics",
    "logo": "FS p / GS ( L fn 69 / GS / : params key (str) — stored NV/download logo, no bitmap in stream",
    "nv_define": "FS q / GS ( L fn 67 / GS *: define NV or download image: params may include width, height, bitmap",
    # codes
    "barcode": "GS k: params symbology (str, e.g. 'EAN13', 'CODE128'), data (bytes)",
    "barcode_height": "GS h: params dots",
    "barcode_width": "GS w: params n",
    "barcode_hri": "GS H: params position (0 none, 1 above, 2 below, 3 both)",
    "barcode_hri_font": "GS f: params font",
    "code2d_store": "GS ( k fn 80 (store data): params symbology ('QR'|'PDF417'|...), data (bytes)",
    "code2d_print": "GS ( k fn 81: params symbology",
    "code2d_setting": "other GS ( k functions: params symbology, fn (int), value (bytes)",
    # paper and peripherals
    "cut": "GS V / ESC i / ESC m / Star ESC d: params partial (bool), feed (dots or lines, int|None)",
    "drawer": "ESC p / DLE DC4 fn 1 / Star BEL: params pin (int), on_ms, off_ms (int|None)",
    "buzzer": "ESC ( A / ESC B / Star BEL / ESC RS: beep",
    "status_query": (
        "DLE EOT / DLE ENQ / GS r / GS I / GS ( H / ESC v / ESC u / DLE DC4 fn 2..8: "
        "params kind (str) — a real-time query the POS expects the printer to answer"
    ),
    "asb": "GS a: automatic status back: params n",
    "macro": "GS :",
}
