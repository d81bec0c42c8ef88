"""Rebuild the byte streams of TCP connections from captured segments (sans-IO).

Each connection is one print job stream. Segments may arrive out of order, twice (retransmission)
or overlapping; sequence numbers wrap at 2**32. Data is released only when contiguous; bytes that
never appear are reported as gaps with their position — never invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, Direction

__all__ = ["Gap", "ReassemblyStats", "Segment", "TcpReassembler"]

MOD = 1 << 32
HALF = 1 << 31
Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Segment:
    t: float
    src: Address
    dst: Address
    seq: int
    payload: bytes = b""
    syn: bool = False
    fin: bool = False
    rst: bool = False


@dataclass(frozen=True, slots=True)
class Gap:
    conn: int
    direction: Direction
    offset: int  # stream offset where bytes are missing
    length: int


@dataclass(slots=True)
class ReassemblyStats:
    segments: int = 0
    retransmitted: int = 0  # segments whose bytes had all been seen already
    overlapping: int = 0  # segments partly new, partly seen
    out_of_order: int = 0  # segments held until the bytes before them arrived
    gaps: list[Gap] = field(default_factory=list)


@dataclass(slots=True)
class _Flow:
    """One direction of one connection."""

    conn: int
    direction: Direction
    base: int | None = None  # sequence number of stream offset 0
    next: int = 0  # next stream offset expected
    pending: dict[int, tuple[float, bytes]] = field(default_factory=dict)  # offset -> (t, data)
    last_t: float = 0.0  # capture time of the last bytes released

    def rel(self, seq: int) -> int:
        assert self.base is not None
        r = (seq - self.base) % MOD
        # unwrap relative to where we are: far behind reads as negative (old data)
        while r - self.next > HALF:
            r -= MOD
        while self.next - r > HALF:
            r += MOD
        return r


class TcpReassembler:
    """Feed segments in capture order; get back ``Chunk``s in stream order per connection, each
    stamped with the capture time at which its bytes became contiguous (so times never go back)."""

    def __init__(self, server_port: int = 9100) -> None:
        self.server_port = server_port
        self.stats = ReassemblyStats()
        self._flows: dict[tuple[tuple[Address, Address], Direction], _Flow] = {}
        self._conn_of: dict[tuple[Address, Address], int] = {}
        self._conns = 0
        self._closed: set[tuple[Address, Address]] = set()
        self.ports_seen: set[int] = set()

    def _key(self, seg: Segment) -> tuple[tuple[Address, Address], Direction] | None:
        self.ports_seen.update((seg.src[1], seg.dst[1]))
        if seg.dst[1] == self.server_port:
            return (seg.src, seg.dst), TO_PRINTER
        if seg.src[1] == self.server_port:
            return (seg.dst, seg.src), TO_HOST
        return None

    def _flow(self, key: tuple[Address, Address], direction: Direction, seg: Segment) -> _Flow:
        if key not in self._conn_of or (seg.syn and key in self._closed):  # a new connection (or port reuse)
            self._conn_of[key] = self._conns
            self._conns += 1
            self._closed.discard(key)
            self._flows.pop((key, TO_PRINTER), None)
            self._flows.pop((key, TO_HOST), None)
        flow = self._flows.get((key, direction))
        if flow is None:
            flow = self._flows[(key, direction)] = _Flow(self._conn_of[key], direction)
        return flow

    def add(self, seg: Segment) -> list[Chunk]:
        """One captured segment; returns data that became contiguous."""
        found = self._key(seg)
        if found is None:
            return []
        key, direction = found
        self.stats.segments += 1
        flow = self._flow(key, direction, seg)
        if flow.base is None:
            if seg.syn:
                flow.base = (seg.seq + 1) % MOD
            elif seg.payload:
                flow.base = seg.seq  # capture started mid-connection: count from here
            else:
                return []
        out: list[Chunk] = []
        if seg.payload:
            out = self._data(flow, seg.t, flow.rel(seg.seq + (1 if seg.syn else 0)), seg.payload)
        if seg.fin or seg.rst:
            self._closed.add(key)
        return out

    def _data(self, flow: _Flow, t: float, rel: int, data: bytes) -> list[Chunk]:
        end = rel + len(data)
        if end <= flow.next:
            self.stats.retransmitted += 1
            return []
        if rel < flow.next:
            self.stats.overlapping += 1
            data, rel = data[flow.next - rel :], flow.next
        if rel > flow.next:
            held = flow.pending.get(rel)
            if held is None or len(held[1]) < len(data):
                flow.pending[rel] = (t, data)
            self.stats.out_of_order += 1
            return []
        out = [Chunk(t, flow.direction, flow.conn, data)]
        flow.next = end
        while flow.pending:  # release what the new bytes made contiguous
            ready = [r for r in flow.pending if r <= flow.next]
            if not ready:
                break
            for r in sorted(ready):
                _, waiting = flow.pending.pop(r)
                if r + len(waiting) <= flow.next:
                    self.stats.retransmitted += 1
                    continue
                piece = waiting[flow.next - r :]
                out.append(Chunk(t, flow.direction, flow.conn, piece))  # in order only now
                flow.next += len(piece)
        flow.last_t = t
        return out

    def close(self) -> list[Chunk]:
        """End of capture: release held data after gaps, reporting each gap (bytes never seen)."""
        out: list[Chunk] = []
        for flow in self._flows.values():
            for r in sorted(flow.pending):
                t, data = flow.pending[r]
                if r + len(data) <= flow.next:
                    continue
                if r > flow.next:
                    self.stats.gaps.append(Gap(flow.conn, flow.direction, flow.next, r - flow.next))
                    flow.next = r
                piece = data[flow.next - r :]
                out.append(Chunk(max(t, flow.last_t), flow.direction, flow.conn, piece))
                flow.next += len(piece)
            flow.pending.clear()
        return out
