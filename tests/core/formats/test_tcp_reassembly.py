"""TCP reassembly: any order, duplicates, overlaps and wraparound give back the exact stream."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER
from kelaile_cli.core.formats.tcp_reassembly import Segment, TcpReassembler

POS, PRINTER = ("10.0.0.5", 51000), ("10.0.0.9", 9100)


def segments(data: bytes, isn: int, cuts: list[int]) -> list[Segment]:
    points = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    return [
        Segment(float(i), POS, PRINTER, (isn + 1 + a) % (1 << 32), data[a:b])
        for i, (a, b) in enumerate(itertools.pairwise(points))
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=1, max_size=3000),
    st.sampled_from([0, 1000, (1 << 32) - 1, (1 << 32) - 700]),
    st.lists(st.integers(0, 5000), max_size=25),
    st.randoms(use_true_random=False),
    st.integers(0, 6),
)
def test_any_order_with_duplicates_and_overlaps_reassembles_exactly(data, isn, cuts, rnd, dups):
    segs = segments(data, isn, cuts)
    extra = [rnd.choice(segs) for _ in range(dups)] if segs else []
    if len(data) > 10:  # an overlapping retransmission that straddles two segments
        a = rnd.randrange(len(data) - 5)
        extra.append(Segment(99.0, POS, PRINTER, (isn + 1 + a) % (1 << 32), data[a : a + 5]))
    body = segs + extra
    rnd.shuffle(body)
    r = TcpReassembler()
    out = r.add(Segment(0.0, POS, PRINTER, isn, syn=True))
    for s in body:
        out += r.add(s)
    out += r.close()
    assert b"".join(c.data for c in out if c.direction == TO_PRINTER) == data
    assert not r.stats.gaps


def test_missing_segment_is_a_reported_gap_and_never_invented():
    data = bytes(range(256)) * 4
    segs = segments(data, 7, [100, 200, 300])
    r = TcpReassembler()
    out = r.add(Segment(0.0, POS, PRINTER, 7, syn=True))
    for s in segs[:1] + segs[2:]:  # bytes 100..200 never captured
        out += r.add(s)
    out += r.close()
    got = b"".join(c.data for c in out)
    assert got == data[:100] + data[200:]
    [gap] = r.stats.gaps
    assert (gap.offset, gap.length, gap.direction) == (100, 100, TO_PRINTER)


def test_both_directions_and_connections_are_kept_apart():
    r = TcpReassembler()
    pos2 = ("10.0.0.6", 52000)
    out = []
    out += r.add(Segment(0, POS, PRINTER, 10, syn=True))
    out += r.add(Segment(0, pos2, PRINTER, 90, syn=True))
    out += r.add(Segment(1, PRINTER, POS, 500, syn=True))
    out += r.add(Segment(2, POS, PRINTER, 11, b"job-one"))
    out += r.add(Segment(2, pos2, PRINTER, 91, b"job-two"))
    out += r.add(Segment(3, PRINTER, POS, 501, b"\x16"))
    by = {(c.conn, c.direction): c.data for c in out}
    assert by == {(0, TO_PRINTER): b"job-one", (1, TO_PRINTER): b"job-two", (0, TO_HOST): b"\x16"}
    assert r.ports_seen == {51000, 52000, 9100}


def test_port_reuse_after_fin_is_a_new_connection():
    r = TcpReassembler()
    out = r.add(Segment(0, POS, PRINTER, 10, syn=True)) + r.add(Segment(1, POS, PRINTER, 11, b"first"))
    out += r.add(Segment(2, POS, PRINTER, 16, fin=True))
    out += r.add(Segment(3, POS, PRINTER, 900, syn=True)) + r.add(Segment(4, POS, PRINTER, 901, b"second"))
    assert [(c.conn, c.data) for c in out] == [(0, b"first"), (1, b"second")]


def test_capture_started_mid_connection():
    r = TcpReassembler()
    out = r.add(Segment(0, POS, PRINTER, 123456, b"middle of a job"))
    assert [c.data for c in out] == [b"middle of a job"]


def test_unrelated_traffic_is_ignored():
    r = TcpReassembler()
    assert r.add(Segment(0, ("10.0.0.1", 4000), ("10.0.0.2", 443), 1, b"tls")) == []
    assert r.stats.segments == 0 and 443 in r.ports_seen
    random.seed(0)
