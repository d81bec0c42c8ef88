"""The ``.klr`` recording: model and on-disk codec (format: docs/recording-format.md).

A recording is a header, then one line per chunk — the bytes seen on the wire in one read, with
capture time, direction and connection — then, after a clean close, a trailer. JSON Lines, one
object per line, so a support engineer can open it, and a recording torn by a crash loses at most
the line being written. Sans-IO: bytes in, objects out; files are the recorder service's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from kelaile_cli.core.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "TO_HOST",
    "TO_PRINTER",
    "UPGRADES",
    "Chunk",
    "Direction",
    "Header",
    "Recording",
    "RecordingError",
    "Trailer",
    "encode_chunk",
    "encode_header",
    "encode_trailer",
    "looks_like_recording",
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


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes as they crossed the wire in one read."""

    t: float  # capture time, seconds since the Unix epoch
    direction: Direction
    conn: int  # connection number within the recording (one TCP connection = one job stream)
    data: bytes


@dataclass(slots=True)
class Header:
    source: str  # where the bytes came from: an endpoint URL, a capture file, ...
    started: float  # epoch seconds
    klx_version: str
    notes: dict[str, str] = field(default_factory=dict)
    version: int = FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class Trailer:
    ended: float
    chunks: int
    sha256: str  # of every chunk's data in order


@dataclass(slots=True)
class Recording:
    header: Header
    chunks: list[Chunk] = field(default_factory=list)
    complete: bool = False  # a trailer was found: the recorder closed the file cleanly
    torn_tail: bool = False  # the last line was cut off mid-write (a crash); it was ignored
    warnings: list[str] = field(default_factory=list)

    def connections(self) -> list[int]:
        """Connection numbers in order of first appearance."""
        return list(dict.fromkeys(c.conn for c in self.chunks))

    def stream(self, direction: Direction = TO_PRINTER, conn: int | None = None) -> bytes:
        """The concatenated bytes of one direction (and one connection, if given)."""
        return b"".join(c.data for c in self.chunks if c.direction == direction and (conn is None or c.conn == conn))


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
    return _line({"end": _iso(t.ended), "end_epoch": round(t.ended, 6), "chunks": t.chunks, "sha256": t.sha256})


# -- versions -----------------------------------------------------------------------------------------


def _v0_to_v1(obj: dict[str, Any], is_header: bool) -> dict[str, Any]:
    """v0 (klx 0.0 drafts): header {"version": 0, "source", "start"}; chunks {"time" (absolute), "dir"
    "tx"/"rx", "hex"}. Kept so old captures still open."""
    if is_header:
        return {
            "klr": 1,
            "source": obj.get("source", "?"),
            "started_epoch": float(obj.get("start", 0.0)),
            "klx_version": obj.get("klx_version", "0.0"),
            "notes": obj.get("notes", {}),
        }
    if "hex" not in obj:
        return obj
    return {
        "t_abs": float(obj["time"]),
        "d": "out" if obj.get("dir", "tx") == "tx" else "in",
        "c": int(obj.get("conn", 0)),
        "s": bytes.fromhex(obj["hex"]).decode("latin-1"),
    }


#: version n -> converter to version n + 1, applied line by line (mitmproxy's io/compat pattern).
UPGRADES: dict[int, Callable[[dict[str, Any], bool], dict[str, Any]]] = {0: _v0_to_v1}


def _version(header: dict[str, Any]) -> int:
    if "klr" in header:
        return int(header["klr"])
    return int(header.get("version", -1))


# -- decoding --------------------------------------------------------------------------------------


def looks_like_recording(head: bytes) -> bool:
    """True if these first bytes start a .klr file (plain JSON Lines header)."""
    start = head.lstrip()[:40]
    return start.startswith(b'{"klr"') or start.startswith(b'{"version"')


def _header(obj: dict[str, Any], name: str) -> Header:
    try:
        started = float(obj["started_epoch"]) if "started_epoch" in obj else _parse_iso(obj["started"])
        return Header(
            source=str(obj.get("source", "")),
            started=started,
            klx_version=str(obj.get("klx_version", "")),
            notes={str(k): str(v) for k, v in dict(obj.get("notes") or {}).items()},
            version=FORMAT_VERSION,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordingError(name, 1, f"bad header ({exc})") from None


def _parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_recording(data: bytes, name: str = "<recording>") -> Recording:
    """Decode a whole .klr file. A torn last line (a crash mid-write) is ignored and flagged;
    anything else that is wrong raises ``RecordingError`` naming the line."""
    lines = data.split(b"\n")
    last_complete = data.endswith(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise RecordingError(name, 1, "empty file")
    try:
        head = json.loads(lines[0])
    except ValueError as exc:
        raise RecordingError(name, 1, f"not JSON ({exc.args[0][:60]})") from None
    if not isinstance(head, dict):
        raise RecordingError(name, 1, "header is not an object")
    version = _version(head)
    if version > FORMAT_VERSION:
        raise RecordingError(name, 1, f"format version {version} is newer than this klx ({FORMAT_VERSION})")
    if version < 0:
        raise RecordingError(name, 1, "no format version in header")
    steps = [UPGRADES[v] for v in range(version, FORMAT_VERSION)]
    for step in steps:
        head = step(head, True)
    rec = Recording(_header(head, name))
    started = rec.header.started
    digest = hashlib.sha256()
    for i, raw in enumerate(lines[1:], start=2):
        is_last = i == len(lines)
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("line is not an object")
            for step in steps:
                obj = step(obj, False)
            if "end" in obj or "end_epoch" in obj:
                rec.complete = True
                if int(obj.get("chunks", -1)) != len(rec.chunks):
                    rec.warnings.append(
                        f"{name}:{i}: trailer counts {obj.get('chunks')} chunks, found {len(rec.chunks)}"
                    )
                elif obj.get("sha256") and obj["sha256"] != digest.hexdigest():
                    raise ValueError("checksum in trailer does not match the chunks")
                continue
            t = float(obj["t_abs"]) if "t_abs" in obj else started + float(obj["t"])
            direction = obj["d"]
            if direction not in ("out", "in"):
                raise ValueError(f"direction {direction!r} is not 'out' or 'in'")
            chunk = Chunk(t, direction, int(obj.get("c", 0)), str(obj["s"]).encode("latin-1"))
        except (ValueError, KeyError, TypeError, UnicodeEncodeError) as exc:
            if is_last and not last_complete:
                rec.torn_tail = True
                rec.warnings.append(f"{name}:{i}: last line cut off mid-write (ignored)")
                break
            reason = exc.args[0] if isinstance(exc, ValueError) and exc.args else exc
            if isinstance(exc, KeyError):
                reason = f"missing field {exc.args[0]!r}"
            raise RecordingError(name, i, f"bad chunk ({str(reason)[:80]})") from None
        if rec.complete:
            raise RecordingError(name, i, "data after the trailer")
        digest.update(chunk.data)
        rec.chunks.append(chunk)
    return rec
