"""Command-table machinery shared by the ESC/POS and Star decoders.

A table maps a command prefix (``b"\\x1b!"``) to a ``Spec``: its mnemonic, its op (see ``events.OPS``),
a *length rule* that tells from the bytes seen so far how long the whole command is, and a params
parser. Length rules answer ``NEED`` (more bytes needed), ``BAD`` (not a valid instance: report the
prefix as unknown and resynchronise) or the total length in bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BAD",
    "MAX_COMMAND",
    "NEED",
    "LengthRule",
    "Spec",
    "Table",
    "after_u16",
    "after_u32",
    "fixed",
    "terminated",
]

NEED = -1
BAD = -2
MAX_COMMAND = 16 * 1024 * 1024  # a declared length above this is treated as garbage, not buffered

#: (buffer, start of the command, end of valid data, prefix length) -> total length | NEED | BAD
LengthRule = Callable[[bytes | bytearray, int, int, int], int]
Params = Callable[[bytes], dict[str, Any]]


def _no_params(raw: bytes) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    op: str
    length: LengthRule
    params: Params = _no_params


def fixed(n_args: int) -> LengthRule:
    """``n_args`` bytes follow the prefix."""

    def rule(buf: bytes | bytearray, pos: int, end: int, plen: int) -> int:
        return plen + n_args

    return rule


def after_u16(extra: int = 0) -> LengthRule:
    """``pL pH`` follow the prefix (after ``extra`` bytes); then that many bytes."""

    def rule(buf: bytes | bytearray, pos: int, end: int, plen: int) -> int:
        at = pos + plen + extra
        if end < at + 2:
            return NEED
        return plen + extra + 2 + buf[at] + (buf[at + 1] << 8)

    return rule


def after_u32(buf: bytes | bytearray, pos: int, end: int, plen: int) -> int:
    """``p1 p2 p3 p4`` (little endian) follow the prefix; then that many bytes."""
    at = pos + plen
    if end < at + 4:
        return NEED
    n = int.from_bytes(buf[at : at + 4], "little")
    return BAD if n > MAX_COMMAND else plen + 4 + n


def terminated(term: int, max_len: int, skip: int = 0) -> LengthRule:
    """Data after the prefix (and ``skip`` argument bytes) up to and including byte ``term``."""

    def rule(buf: bytes | bytearray, pos: int, end: int, plen: int) -> int:
        start = pos + plen + skip
        limit = min(end, start + max_len + 1)
        idx = buf.find(bytes((term,)), start, limit)
        if idx >= 0:
            return idx - pos + 1
        return BAD if limit < end or end - start > max_len else NEED

    return rule


class Table:
    """Prefix -> Spec, with lookup that asks for more bytes while a prefix is still ambiguous."""

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
        self.single = {key[0]: spec for key, spec in specs.items() if len(key) == 1}
        #: two-byte commands by ``first << 8 | second``: what ``lookup`` answers for them, without slicing
        self.pairs = {key[0] << 8 | key[1]: spec for key, spec in specs.items() if len(key) == 2}
        for key in specs:
            if key in self.partials:
                raise ValueError(f"command key {key!r} is also a prefix of another key")

    def lookup(self, buf: bytes | bytearray, pos: int, end: int) -> tuple[Spec | None, int]:
        """(spec, prefix length) for the command at ``pos``; (None, 0) if more bytes are needed;
        (None, n) if the first n bytes are not a known command."""
        n = 1
        while True:
            key = bytes(buf[pos : pos + n])
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
