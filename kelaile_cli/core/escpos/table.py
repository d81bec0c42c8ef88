"""Command-table machinery shared by the ESC/POS and Star decoders.

A table maps a command prefix (``b"\\x1b!"``) to a ``Spec``: its mnemonic, its op (see ``events.OPS``),
a *length rule* that tells from the bytes seen so far how long the whole command is, and a params
parser. Length rules answer ``NEED`` (more bytes needed), ``BAD`` (not a valid instance: report the
prefix as unknown and resynchronise) or the total length in bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

__all__ = [
    "BAD",
    "MAX_COMMAND",
    "NEED",
    "Entry",
    "Fixed",
    "LengthRule",
    "Parsed",
    "Spec",
    "Table",
    "after_u16",
    "after_u32",
    "fixed",
    "terminated",
]

NEED: Final = -1
BAD: Final = -2
MAX_COMMAND: Final = 16 * 1024 * 1024  # a declared length above this is treated as garbage, not buffered

#: (buffer, start of the command, end of valid data, prefix length) -> total length | NEED | BAD
LengthRule = Callable[[bytes, int, int, int], int]
Params = Callable[[bytes], dict[str, Any]]


def _no_params(raw: bytes) -> dict[str, Any]:
    return {}


class Spec:
    """What the table knows of one command: its mnemonic, its meaning, how long it is and how to read
    its parameters (a value, never changed once made)."""

    __slots__ = ("length", "name", "op", "params")

    def __init__(self, name: str, op: str, length: LengthRule, params: Params = _no_params) -> None:
        self.name: Final = name
        self.op: Final = op
        self.length: Final = length
        self.params: Final = params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spec):
            return NotImplemented
        return (self.name, self.op, self.length, self.params) == (other.name, other.op, other.length, other.params)

    def __hash__(self) -> int:
        return hash((self.name, self.op, self.length, self.params))

    def __repr__(self) -> str:
        return f"Spec(name={self.name!r}, op={self.op!r}, length={self.length!r}, params={self.params!r})"


class Fixed:
    """The length rule of a command with ``n_args`` argument bytes after its prefix (a class, not a
    closure, so that a table can read ``n_args`` and spare the decoder the call)."""

    def __init__(self, n_args: int) -> None:
        self.n_args = n_args

    def __call__(self, buf: bytes, pos: int, end: int, plen: int) -> int:
        return plen + self.n_args


def fixed(n_args: int) -> LengthRule:
    """``n_args`` bytes follow the prefix."""
    return Fixed(n_args)


def after_u16(extra: int = 0) -> LengthRule:
    """``pL pH`` follow the prefix (after ``extra`` bytes); then that many bytes."""

    def rule(buf: bytes, pos: int, end: int, plen: int) -> int:
        at = pos + plen + extra
        if end < at + 2:
            return NEED
        return plen + extra + 2 + buf[at] + (buf[at + 1] << 8)

    return rule


def after_u32(buf: bytes, pos: int, end: int, plen: int) -> int:
    """``p1 p2 p3 p4`` (little endian) follow the prefix; then that many bytes."""
    at = pos + plen
    if end < at + 4:
        return NEED
    n = int.from_bytes(buf[at : at + 4], "little")
    return BAD if n > MAX_COMMAND else plen + 4 + n


def terminated(term: int, max_len: int, skip: int = 0) -> LengthRule:
    """Data after the prefix (and ``skip`` argument bytes) up to and including byte ``term``."""

    def rule(buf: bytes, pos: int, end: int, plen: int) -> int:
        start = pos + plen + skip
        limit = min(end, start + max_len + 1)
        idx = buf.find(bytes((term,)), start, limit)
        if idx >= 0:
            return idx - pos + 1
        return BAD if limit < end or end - start > max_len else NEED

    return rule


class Parsed:
    """The meaning of one command's bytes, shared by every event of those bytes (``raw`` too: bytes
    are immutable). ``params`` is never handed out itself (``Command`` copies it when read), so it
    must hold nothing mutable."""

    def __init__(self, raw: bytes, op: str, params: dict[str, Any]) -> None:
        self.raw = raw
        self.op = op
        self.params = params


#: the commands whose parse an ``Entry`` remembers: at most this many bytes, at most the last one an argument
MEMO_SIZE: Final = 3


class Entry:
    """A command the decoder finds by its first two bytes: its spec, prefix length, total length
    when it is fixed (else 0: ask the spec's rule), and — for fixed commands of at most ``MEMO_SIZE``
    bytes — the parse of each argument byte seen so far (``memo[arg]``; ``memo[0]`` when it has none).
    A spec's params depend on the command's bytes alone, so what is remembered holds for any stream."""

    def __init__(self, spec: Spec, plen: int) -> None:
        self.spec = spec
        self.plen = plen
        rule = spec.length
        self.size = plen + rule.n_args if isinstance(rule, Fixed) else 0
        self.memoizable = 0 < self.size <= MEMO_SIZE and self.size - plen <= 1
        self.memo: list[Parsed | None] | None = None  # made when the first parse is remembered


class Table:
    """Prefix -> Spec, with lookup that asks for more bytes while a prefix is still ambiguous.

    ``entry_at`` finds most commands by their first bytes in short lists instead: ``single[first]``
    for a one-byte command, ``rows[first][second]`` for a two-byte prefix, ``rows3[first << 8 |
    second][third]`` for a three-byte one (``GS ( k``, ``GS v 0``, the ``GS (`` family's fallback)."""

    def __init__(
        self,
        specs: dict[bytes, Spec],
        fallbacks: dict[bytes, Spec] | None = None,
        prefix_names: dict[int, str] | None = None,
    ) -> None:
        self.specs = specs
        self.fallbacks = fallbacks or {}
        self.prefix_names = prefix_names or {}
        self.partials: set[bytes] = set()
        for key in [*specs, *self.fallbacks]:
            for i in range(1, len(key)):
                self.partials.add(key[:i])
        self.partials.update(self.fallbacks)
        for key in specs:
            if key in self.partials:
                raise ValueError(f"command key {key!r} is also a prefix of another key")
        self.single: list[Entry | None] = [None] * 0x20
        self.rows: list[list[Entry | None] | None] = [None] * 0x20
        self.rows3: dict[int, list[Entry | None]] = {}
        for prefix in sorted(self.partials, key=len):
            if prefix[0] >= 0x20:
                continue
            if len(prefix) == 1:
                self.rows[prefix[0]] = [None] * 256
            elif len(prefix) == 2:
                fallback = self.fallbacks.get(prefix)
                whole = Entry(fallback, 3) if fallback is not None else None  # any other third byte
                self.rows3[prefix[0] << 8 | prefix[1]] = [whole] * 256
        for key, spec in specs.items():
            if key[0] >= 0x20 or len(key) > 3:
                continue
            if len(key) == 1:
                self.single[key[0]] = Entry(spec, 1)
            elif len(key) == 2:
                self.rows[key[0]][key[1]] = Entry(spec, 2)  # type: ignore[index]  # made above
            else:
                self.rows3[key[0] << 8 | key[1]][key[2]] = Entry(spec, 3)
        for key in self.partials:  # a longer command starts with these three bytes: lookup walks on
            if len(key) == 3 and key[0] < 0x20:
                self.rows3[key[0] << 8 | key[1]][key[2]] = None

    def entry_at(self, buf: bytes, pos: int, end: int) -> Entry | None:
        """The ``Entry`` of the command at ``pos`` (``buf[pos]`` < 0x20) when up to three of its bytes
        tell it; None: ask ``lookup``."""
        first = buf[pos]
        row = self.rows[first]
        if row is None:
            return self.single[first]
        if pos + 1 >= end:
            return None
        entry = row[buf[pos + 1]]
        if entry is None and pos + 2 < end:
            row3 = self.rows3.get(first << 8 | buf[pos + 1])
            if row3 is not None:
                return row3[buf[pos + 2]]
        return entry

    def lookup(self, buf: bytes, pos: int, end: int) -> tuple[Spec | None, int]:
        """(spec, prefix length) for the command at ``pos``; (None, 0) if more bytes are needed;
        (None, n) if the first n bytes are not a known command."""
        n = 1
        while True:
            key = buf[pos : pos + n]
            spec = self.specs.get(key)
            if spec is not None:
                return spec, n
            if key not in self.partials:
                parent = key[:-1]
                if parent in self.fallbacks:
                    return self.fallbacks[parent], n
                return None, n
            if pos + n >= end:
                return None, 0
            n += 1

    def describe(self, raw: bytes) -> str:
        """Mnemonic for unknown bytes, e.g. ``ESC 0x99``."""
        if not raw:
            return ""
        head = self.prefix_names.get(raw[0], f"0x{raw[0]:02X}")
        return " ".join([head, *(_sym(b) for b in raw[1:])])


def _sym(b: int) -> str:
    return chr(b) if 0x21 <= b <= 0x7E else f"0x{b:02X}"
