"""The ``.klr`` recording: model and on-disk codec (format: docs/recording-format.md).

A recording is a header, then one line per chunk — the bytes seen on the wire in one read, with
capture time, direction and connection — then, after a clean close, a trailer. JSON Lines, one
object per line, so a support engineer can open it, and a recording torn by a crash loses at most
the line being written. Sans-IO: bytes in, objects out; files are the recorder service's business.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Final, Literal

from kelaile_cli.core.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "MAX_CHUNK_DATA",
    "MAX_LINE",
    "TO_HOST",
    "TO_PRINTER",
    "UPGRADES",
    "Chunk",
    "ConnectionPlan",
    "Direction",
    "Header",
    "Recording",
    "RecordingError",
    "RecordingParser",
    "Trailer",
    "encode_chunk",
    "encode_header",
    "encode_trailer",
    "iter_lines",
    "looks_like_recording",
    "parse_lines",
    "parse_recording",
]

FORMAT_VERSION = 1
Direction = Literal["out", "in"]
TO_PRINTER: Direction = "out"  # POS -> printer: the print stream
TO_HOST: Direction = "in"  # printer -> POS: status replies


class RecordingError(InputError):
    """A recording that cannot be read; ``line`` is 1-based."""

    def __init__(self, name: str, line: int, reason: str) -> None:
        super().__init__(f"{name}:{line}: {reason}", remedy="the file is not a valid .klr recording")
        self.line = line


class Chunk:
    """Bytes as they crossed the wire in one read. Treat as immutable (hashed by value); not frozen
    because frozen construction costs several times as much, and a reader makes one per line.

    ``t``: capture time, seconds since the Unix epoch; ``conn``: the connection number within the
    recording (one TCP connection = one job stream).
    """

    __slots__ = ("conn", "data", "direction", "t")

    def __init__(self, t: float, direction: Direction, conn: int, data: bytes) -> None:
        self.t = t
        self.direction = direction
        self.conn = conn
        self.data = data

    def _key(self) -> tuple[float, str, int, bytes]:
        return (self.t, self.direction, self.conn, self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Chunk(t={self.t!r}, direction={self.direction!r}, conn={self.conn!r}, data={self.data!r})"


class Header:
    """A recording's first line. ``source``: where the bytes came from (an endpoint URL, a capture
    file, ...); ``started``: epoch seconds."""

    __slots__ = ("klx_version", "notes", "source", "started", "version")

    def __init__(
        self,
        source: str,
        started: float,
        klx_version: str,
        notes: dict[str, str] | None = None,
        version: int = FORMAT_VERSION,
    ) -> None:
        self.source = source
        self.started = started
        self.klx_version = klx_version
        self.notes = {} if notes is None else notes
        self.version = version

    def _key(self) -> tuple[object, ...]:
        return (self.source, self.started, self.klx_version, self.notes, self.version)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Header):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Header(source={self.source!r}, started={self.started!r}, klx_version={self.klx_version!r}, "
            f"notes={self.notes!r}, version={self.version!r})"
        )


class Trailer:
    """A recording's last line, written when the recorder closed the file cleanly (a value).

    ``sha256``: of every chunk's data in order; ``lost``: chunks the recorder could not write (a full
    disk), not counted in ``chunks``.
    """

    __slots__ = ("chunks", "ended", "lost", "sha256")

    def __init__(self, ended: float, chunks: int, sha256: str, lost: int = 0) -> None:
        self.ended: Final = ended
        self.chunks: Final = chunks
        self.sha256: Final = sha256
        self.lost: Final = lost

    def _key(self) -> tuple[float, int, str, int]:
        return (self.ended, self.chunks, self.sha256, self.lost)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trailer):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Trailer(ended={self.ended!r}, chunks={self.chunks!r}, sha256={self.sha256!r}, lost={self.lost!r})"


class Recording:
    """A recording read back, with what the reader found wrong with it (nothing raised for these).

    ``complete``: a trailer was found (the recorder closed the file cleanly); ``torn_tail``: the last
    line was cut off mid-write (a crash) and ignored; ``torn_lines``: lines cut off mid-write inside the
    file (a full disk), skipped; ``lost_chunks``: chunks the recorder itself says it could not write
    (its trailer's "lost"); ``checksum_ok``: set when the trailer's count disagrees: does its SHA-256
    still match?; ``warnings``: one line each, naming file:line.
    """

    __slots__ = (
        "checksum_ok",
        "chunks",
        "complete",
        "header",
        "lost_chunks",
        "torn_lines",
        "torn_tail",
        "warnings",
    )

    def __init__(
        self,
        header: Header,
        chunks: list[Chunk] | None = None,
        complete: bool = False,
        torn_tail: bool = False,
        torn_lines: int = 0,
        lost_chunks: int = 0,
        checksum_ok: bool | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.header = header
        self.chunks = [] if chunks is None else chunks
        self.complete = complete
        self.torn_tail = torn_tail
        self.torn_lines = torn_lines
        self.lost_chunks = lost_chunks
        self.checksum_ok = checksum_ok
        self.warnings = [] if warnings is None else warnings

    def _key(self) -> tuple[object, ...]:
        return (
            self.header,
            self.chunks,
            self.complete,
            self.torn_tail,
            self.torn_lines,
            self.lost_chunks,
            self.checksum_ok,
            self.warnings,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recording):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Recording(header={self.header!r}, chunks={self.chunks!r}, complete={self.complete!r}, "
            f"torn_tail={self.torn_tail!r}, torn_lines={self.torn_lines!r}, lost_chunks={self.lost_chunks!r}, "
            f"checksum_ok={self.checksum_ok!r}, warnings={self.warnings!r})"
        )

    def connections(self) -> list[int]:
        """Connection numbers in order of first appearance."""
        return list(dict.fromkeys(c.conn for c in self.chunks))

    def by_connection(self, direction: Direction | None = TO_PRINTER) -> dict[int, list[Chunk]]:
        """Chunks grouped by connection in one pass (in order of first appearance; ``None``: both ways)."""
        groups: dict[int, list[Chunk]] = {}
        for c in self.chunks:
            if direction is None or c.direction == direction:
                groups.setdefault(c.conn, []).append(c)
        return groups

    def stream(self, direction: Direction = TO_PRINTER, conn: int | None = None) -> bytes:
        """The concatenated bytes of one direction (and one connection, if given)."""
        return b"".join(c.data for c in self.chunks if c.direction == direction and (conn is None or c.conn == conn))

    def integrity(self) -> dict[str, Any]:
        """What ``--json`` output reports about the file itself (beside its receipts)."""
        return {
            "complete": self.complete,
            "torn_tail": self.torn_tail,
            "torn_lines": self.torn_lines,
            "lost_chunks": self.lost_chunks,
            "checksum_ok": self.checksum_ok,
            "warnings": list(self.warnings),
        }


# -- encoding ---------------------------------------------------------------------------------------


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def encode_header(h: Header) -> bytes:
    return _line(
        {
            "klr": h.version,
            "source": h.source,
            "started": _iso(h.started),
            "started_epoch": round(h.started, 6),
            "klx_version": h.klx_version,
            "notes": h.notes,
        }
    )


def encode_chunk(c: Chunk, started: float) -> bytes:
    """One line: time since the start, direction, connection, and the bytes as a Latin-1 string
    (one character per byte, so printable text stays readable and every byte is exact)."""
    return _line({"t": round(c.t - started, 6), "d": c.direction, "c": c.conn, "s": c.data.decode("latin-1")})


def encode_trailer(t: Trailer) -> bytes:
    fields: dict[str, Any] = {"end": _iso(t.ended), "end_epoch": round(t.ended, 6), "chunks": t.chunks}
    if t.lost:
        fields["lost"] = t.lost
    return _line({**fields, "sha256": t.sha256})


# -- versions -----------------------------------------------------------------------------------------


def _v0_to_v1(obj: dict[str, Any], is_header: bool) -> dict[str, Any]:
    """v0 (klx 0.0 drafts): header {"version": 0, "source", "start"}; chunks {"time" (absolute), "dir"
    "tx"/"rx", "hex"}. Kept so old captures still open."""
    if is_header:
        return {
            "klr": 1,
            "source": obj.get("source", "?"),
            "started_epoch": obj.get("start", 0.0),
            "klx_version": obj.get("klx_version", "0.0"),
            "notes": obj.get("notes", {}),
        }
    if "hex" not in obj:
        return obj
    return {
        "t_abs": obj["time"],
        "d": "out" if obj.get("dir", "tx") == "tx" else "in",
        "c": obj.get("conn", 0),
        "s": bytes.fromhex(str(obj["hex"])).decode("latin-1"),
    }


#: version n -> converter to version n + 1, applied line by line (mitmproxy's io/compat pattern).
UPGRADES: dict[int, Callable[[dict[str, Any], bool], dict[str, Any]]] = {0: _v0_to_v1}


def _version(header: dict[str, Any]) -> int:
    value = header["klr"] if "klr" in header else header.get("version", -1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"format version {str(value)[:20]!r} is not a whole number")
    return value


# -- decoding --------------------------------------------------------------------------------------

#: Longest line a reader accepts. Writers split a chunk's data into pieces of at most
#: ``MAX_CHUNK_DATA`` bytes, whose line is at most 6 × that plus a few dozen bytes of fields.
MAX_LINE = 4 * 1024 * 1024
MAX_CHUNK_DATA = 64 * 1024
#: Capture times must fall between 1970 and 9999 (what a calendar date can show).
_LATEST_EPOCH = 253402300799.0
#: A torn line (a write cut short by a full disk or a crash) is a prefix of a chunk line; the next
#: line may have been glued onto it. ``{"t":`` cannot occur inside a chunk's string (its quotes are
#: escaped), so where it appears after the start, a whole chunk line begins.
_CHUNK_START = b'{"t":'


def looks_like_recording(head: bytes) -> bool:
    """True if these first bytes start a .klr file (plain JSON Lines header)."""
    start = head.lstrip()[:40]
    return start.startswith(b'{"klr"') or start.startswith(b'{"version"')


def _epoch(value: object, what: str) -> float:
    """A finite capture time in the calendar's range, from a JSON number (or numeric string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} is not a number")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= _LATEST_EPOCH:
        raise ValueError(f"{what} {str(value)[:24]} is out of range")
    return number


def _header(obj: dict[str, Any], name: str) -> Header:
    try:
        if "started_epoch" in obj:
            started = _epoch(obj["started_epoch"], "started_epoch")
        else:
            started = _epoch(_parse_iso(obj["started"]), "started")
        notes = obj.get("notes") or {}
        if not isinstance(notes, dict):
            raise ValueError("notes is not an object")
        return Header(
            source=str(obj.get("source", ""))[:1000],
            started=started,
            klx_version=str(obj.get("klx_version", ""))[:100],
            notes={str(k): str(v) for k, v in notes.items()},
            version=FORMAT_VERSION,
        )
    except KeyError as exc:
        raise RecordingError(name, 1, f"bad header (missing field {exc.args[0]!r})") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise RecordingError(name, 1, f"bad header ({str(exc)[:80]})") from None


def _parse_iso(text: object) -> float:
    if not isinstance(text, str):
        raise ValueError("started is not a date")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


_DECODER = json.JSONDecoder()


def _load(raw: bytes) -> Any:
    """JSON of one line; nesting too deep for the parser is an ordinary ``ValueError``."""
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None


class RecordingParser:
    """Reads a recording line by line (sans-IO): ``header(line)``, then ``line(n, raw)`` for each further
    line, then ``finish()``. Holds the chunks read so far and the running checksum; a line longer than
    ``MAX_LINE`` is the caller's to refuse before it is buffered (``check_length``).

    ``keep=False`` streams instead: the recording's ``chunks`` stay empty, and each chunk read waits in
    ``fresh`` until the caller ``take()``s it; ``count`` (what the trailer is checked against) counts
    every chunk either way.

    Torn lines — a write cut short by a full disk or a killed recorder — are skipped with a warning
    naming ``file:line``; a whole chunk glued onto a torn one is recovered. Any other bad line is a
    ``RecordingError`` naming the line.
    """

    def __init__(self, name: str = "<recording>", *, keep: bool = True) -> None:
        self.name = name
        self.keep = keep
        self.count = 0  # chunks read so far
        self.fresh: list[Chunk] = []  # chunks read and not yet taken (keep=False)
        self.recording: Recording | None = None
        self._steps: list[Callable[[dict[str, Any], bool], dict[str, Any]]] = []
        import hashlib  # here: it loads OpenSSL, which `klx parse` of a raw file does not need

        self._digest = hashlib.sha256()
        self._trailer_line = 0

    def check_length(self, lineno: int, length: int) -> None:
        if length > MAX_LINE:
            raise RecordingError(
                self.name, lineno, f"line longer than {MAX_LINE // (1024 * 1024)} MiB (not a recording?)"
            )

    def header(self, raw: bytes) -> Recording:
        self.check_length(1, len(raw))
        try:
            head = _load(raw)
        except ValueError as exc:
            raise RecordingError(self.name, 1, f"not JSON ({str(exc.args[0] if exc.args else exc)[:60]})") from None
        if not isinstance(head, dict):
            raise RecordingError(self.name, 1, "header is not an object")
        try:
            version = _version(head)
        except ValueError as exc:
            raise RecordingError(self.name, 1, str(exc)) from None
        if version > FORMAT_VERSION:
            raise RecordingError(self.name, 1, f"format version {version} is newer than this klx ({FORMAT_VERSION})")
        if version < 0:
            raise RecordingError(self.name, 1, "no format version in header")
        self._steps = [UPGRADES[v] for v in range(version, FORMAT_VERSION)]
        for step in self._steps:
            head = step(head, True)
        self.recording = Recording(_header(head, self.name))
        return self.recording

    def take(self) -> list[Chunk]:
        """The chunks read since the last ``take()`` (``keep=False``), in file order."""
        fresh, self.fresh = self.fresh, []
        return fresh

    def line(self, lineno: int, raw: bytes, *, last: bool = False) -> None:
        """One line after the header; ``last``: the final bytes of the file with no newline after them."""
        rec = self.recording
        if rec is None:
            raise ValueError("header() first")
        if raw.startswith(_CHUNK_START) and not self._steps and not rec.complete and len(raw) <= MAX_LINE:
            try:  # the common case, a chunk line as the writer writes it: one JSON call, checked by _fast
                text = raw.decode("utf-8")
                obj, end = _DECODER.raw_decode(text)
                if end == len(text) and self._fast(rec, obj):
                    return
            except (ValueError, RecursionError, UnicodeEncodeError):
                pass  # read again below, for the message naming what is wrong
        self.check_length(lineno, len(raw))
        if not raw.strip():
            return
        try:
            self._item(rec, lineno, raw)
        except _TornLineError:
            if last:
                rec.torn_tail = True
                rec.warnings.append(f"{self.name}:{lineno}: last line cut off mid-write (ignored)")
                return
            rec.torn_lines += 1
            glued = raw.rfind(_CHUNK_START, 1)
            if glued > 0:
                rec.warnings.append(f"{self.name}:{lineno}: torn line skipped (a whole chunk after it was kept)")
                self.line(lineno, raw[glued:])
            else:
                rec.warnings.append(f"{self.name}:{lineno}: torn line skipped")

    def _item(self, rec: Recording, lineno: int, raw: bytes) -> None:
        try:
            obj = _load(raw)
        except ValueError as exc:
            if raw.startswith(b"{") and "nested" not in str(exc):
                raise _TornLineError from None
            raise RecordingError(
                self.name, lineno, f"bad chunk ({str(exc.args[0] if exc.args else exc)[:80]})"
            ) from None
        try:
            if not self._steps and not rec.complete and self._fast(rec, obj):
                return
            if not isinstance(obj, dict):
                raise ValueError("line is not an object")
            for step in self._steps:
                obj = step(obj, False)
            if "end" in obj or "end_epoch" in obj:
                self._trailer(rec, lineno, obj)
                return
            if rec.complete:
                raise RecordingError(self.name, lineno, "data after the trailer")
            chunk = self._chunk(rec, obj)
        except KeyError as exc:
            raise RecordingError(self.name, lineno, f"bad chunk (missing field {exc.args[0]!r})") from None
        except (ValueError, TypeError, OverflowError, UnicodeEncodeError) as exc:
            reason = exc.args[0] if isinstance(exc, ValueError) and exc.args else exc
            raise RecordingError(self.name, lineno, f"bad chunk ({str(reason)[:80]})") from None
        self._digest.update(chunk.data)
        self.count += 1
        (rec.chunks if self.keep else self.fresh).append(chunk)

    def _fast(self, rec: Recording, obj: Any) -> bool:
        """The common case, a chunk line as the writer writes it, checked with few calls; False:
        anything else, for the full checks of ``_chunk`` (same rules, better messages)."""
        if type(obj) is not dict or len(obj) != 4:
            return False
        t: Any = obj.get("t")
        d, c, text = obj.get("d"), obj.get("c"), obj.get("s")
        if type(t) not in (float, int) or type(c) is not int or type(text) is not str or d not in ("out", "in"):
            return False
        at = rec.header.started + t
        if not (0.0 <= at <= _LATEST_EPOCH and 0 <= c < 2**63):  # NaN fails too
            return False
        data = text.encode("latin-1")  # a character above U+00FF raises: reported by the caller
        self._digest.update(data)
        self.count += 1
        (rec.chunks if self.keep else self.fresh).append(Chunk(at, d, c, data))
        return True

    def _chunk(self, rec: Recording, obj: dict[str, Any]) -> Chunk:
        t = _epoch(obj["t_abs"], "t") if "t_abs" in obj else _epoch(rec.header.started + _number(obj["t"]), "t")
        direction = obj["d"]
        if direction not in ("out", "in"):
            raise ValueError(f"direction {str(direction)[:20]!r} is not 'out' or 'in'")
        conn = obj.get("c", 0)
        if isinstance(conn, bool) or not isinstance(conn, int) or not 0 <= conn < 2**63:
            raise ValueError("connection is not a whole number")
        text = obj["s"]
        if not isinstance(text, str):
            raise ValueError("data 's' is not a string")
        return Chunk(t, direction, conn, text.encode("latin-1"))

    def _trailer(self, rec: Recording, lineno: int, obj: dict[str, Any]) -> None:
        if rec.complete:
            raise RecordingError(self.name, lineno, "a second trailer")
        rec.complete = True
        self._trailer_line = lineno
        counted = obj.get("chunks")
        found = self.count
        lost = obj.get("lost", 0)
        if isinstance(lost, int) and not isinstance(lost, bool) and lost > 0:
            rec.lost_chunks = lost
            rec.warnings.append(f"{self.name}:{lineno}: the recorder could not write {lost} chunks (disk full?)")
        checksum_ok = obj.get("sha256") in (None, "", self._digest.hexdigest())
        if counted != found:
            rec.warnings.append(
                f"{self.name}:{lineno}: trailer counts {str(counted)[:20]} chunks, found {found}; checksum "
                + ("matches" if checksum_ok else "does not match: chunks are missing or altered")
            )
            rec.checksum_ok = checksum_ok
        elif not checksum_ok:
            raise RecordingError(self.name, lineno, "checksum in trailer does not match the chunks")

    def finish(self) -> Recording:
        rec = self.recording
        if rec is None:
            raise RecordingError(self.name, 1, "empty file")
        if not rec.complete:
            rec.warnings.append(
                f"{self.name}: no trailer: the recorder did not close the file (killed, or still recording); "
                f"{self.count} chunks read"
            )
        return rec


class _TornLineError(Exception):
    """A line that is the start of a chunk line, cut off."""


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("t is not a number")
    return float(value)


def iter_lines(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, line, is_last_unterminated)`` for every line of ``data`` (1-based)."""
    start, lineno, size = 0, 1, len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            yield lineno, data[start:], True
            return
        yield lineno, data[start:end], False
        start, lineno = end + 1, lineno + 1


def parse_lines(lines: Iterable[tuple[int, bytes, bool]], name: str = "<recording>") -> Recording:
    """A recording from numbered lines (as ``iter_lines`` gives them, or a file reader)."""
    parser = RecordingParser(name)
    for lineno, raw, last in lines:
        if parser.recording is None:
            if lineno == 1 and not raw.strip() and last:
                break
            parser.header(raw)
        else:
            parser.line(lineno, raw, last=last)
    return parser.finish()


def parse_recording(data: bytes, name: str = "<recording>") -> Recording:
    """Decode a whole .klr file held in memory (a file reader streams it line by line instead).
    Torn lines are skipped and flagged; anything else that is wrong raises ``RecordingError``
    naming the line."""
    return parse_lines(iter_lines(data), name)


# -- streaming plan --------------------------------------------------------------------------------

#: connection numbers below this are remembered in a bitmap (one bit each, at most 16 MiB); others in a set
_BITMAP_CONNS = 1 << 27


class _ConnSet:
    """Connection numbers seen: a bit per number for the small ones (recorders count from 0), so
    millions of connections cost a few hundred KiB rather than a Python set's ~60 bytes each."""

    __slots__ = ("_bits", "_other")

    def __init__(self) -> None:
        self._bits = bytearray()
        self._other: set[int] = set()

    def __contains__(self, conn: int) -> bool:
        if conn < _BITMAP_CONNS:
            at = conn >> 3
            return at < len(self._bits) and bool(self._bits[at] & (1 << (conn & 7)))
        return conn in self._other

    def add(self, conn: int) -> None:
        if conn >= _BITMAP_CONNS:
            self._other.add(conn)
            return
        at = conn >> 3
        if at >= len(self._bits):
            self._bits.extend(bytes(max(at + 1 - len(self._bits), len(self._bits))))  # doubling: linear overall
        self._bits[at] |= 1 << (conn & 7)


class ConnectionPlan:
    """What a first pass over a recording's chunks learns so that a second pass can decode it
    connection by connection without holding it: the first ``head_bytes`` bytes sent to the printer
    (to choose the text encoding from), how many chunks there are, and where each connection's
    print stream ends.

    A connection's chunks to the printer usually come in one run (the recorder writes one job after
    another); such a connection ends where another connection's chunk to the printer appears. Only a
    connection that comes back after another one's chunks (a long-lived connection with others inside
    it) is listed in ``resumes``, with the number of its last chunk to the printer (counted from 0 among
    the chunks to the printer). Memory: ``head_bytes``, a bit per connection number, and an entry per
    connection that comes back.
    """

    __slots__ = ("_current", "_head_bytes", "_printer", "_seen", "chunks", "head", "resumes")

    def __init__(self, head_bytes: int) -> None:
        self._head_bytes = head_bytes
        self.head = bytearray()  # the first ``head_bytes`` bytes to the printer, all connections in file order
        self.chunks = 0  # chunks read, both directions
        self.resumes: dict[int, int] = {}  # connection -> its last chunk to the printer, when it comes back
        self._seen = _ConnSet()
        self._current = -1
        self._printer = 0

    def add(self, chunk: Chunk) -> None:
        """The next chunk of the file (either direction)."""
        self.chunks += 1
        if chunk.direction != TO_PRINTER:
            return
        at, conn = self._printer, chunk.conn
        self._printer += 1
        if len(self.head) < self._head_bytes:
            self.head += chunk.data[: self._head_bytes - len(self.head)]
        if conn != self._current:
            self._current = conn
            if conn in self._seen:
                self.resumes[conn] = at
                return
            self._seen.add(conn)
        elif conn in self.resumes:
            self.resumes[conn] = at
