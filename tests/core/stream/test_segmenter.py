"""Segmenter: where one print job ends and the next begins."""

from __future__ import annotations

from kelaile_cli.core.escpos.events import Command, Event, Text
from kelaile_cli.core.stream.segmenter import Segmenter


class Stream:
    """Builds events with consistent offsets."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.pos = 0

    def text(self, s: str) -> Stream:
        raw = s.encode()
        self.events.append(Text(self.pos, raw))
        self.pos += len(raw)
        return self

    def cmd(self, op: str, raw: bytes = b"\x1b?", **params: object) -> Stream:
        self.events.append(Command(self.pos, raw, op.upper(), op, dict(params)))
        self.pos += len(raw)
        return self


def texts(job) -> str:
    return "".join(e.raw.decode() for e in job.events if isinstance(e, Text))


def test_cut_ends_a_job_and_the_cut_belongs_to_it():
    s = Stream().cmd("init").text("A").cmd("lf").cmd("cut").text("B").cmd("lf").cmd("cut")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert [texts(j) for j in jobs] == ["A", "B"]
    assert jobs[0].events[-1].op == "cut"
    assert jobs[0].events[0].op == "init"


def test_init_after_content_starts_a_new_job_but_a_leading_init_does_not():
    s = Stream().cmd("init").cmd("init").text("A").cmd("lf").cmd("init").text("B").cmd("lf")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert [texts(j) for j in jobs] == ["A", "B"]
    assert [e.op for e in jobs[0].events[:2]] == ["init", "init"]


def test_content_free_tail_is_dropped_and_feeds_are_carried_forward():
    s = Stream().text("A").cmd("cut").cmd("feed_lines", n=3).cmd("cut").cmd("init")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert [texts(j) for j in jobs] == ["A"]


def test_drawer_kick_alone_is_a_job():
    s = Stream().text("A").cmd("cut").cmd("drawer", pin=2)
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert len(jobs) == 2
    assert jobs[1].events[0].op == "drawer"


def test_idle_gap_splits_only_when_timestamps_say_so():
    a = Stream().text("A").cmd("lf")
    b = Stream()
    b.pos = a.pos
    b.text("B").cmd("lf")
    seg = Segmenter(idle_gap=2.0)
    assert seg.feed(a.events, timestamp=10.0) == []
    assert seg.feed(b.events, timestamp=11.0) == []  # 1 s later: same job
    later = seg.feed([Text(b.pos, b"C")], timestamp=14.0)  # 3 s of silence: new job
    assert [texts(j) for j in later] == ["AB"]
    assert later[0].timestamp == 10.0
    assert [texts(j) for j in seg.close()] == ["C"]


def test_every_event_lands_in_exactly_one_job():
    s = Stream()
    for i in range(20):
        s.text(f"line {i}").cmd("lf")
        if i % 4 == 3:
            s.cmd("cut")
        if i % 7 == 6:
            s.cmd("init")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    flat = [e for j in jobs for e in j.events]
    assert flat == s.events[: len(flat)]
    assert all(isinstance(e, Command) for e in s.events[len(flat) :])


def test_blank_lines_after_the_last_cut_make_no_receipt():
    # issue 14 defect 6: "\n\r" after the final cut (22 of 52 third-party jobs) gave an empty receipt
    s = Stream().text("A\n").cmd("cut").text("\n").cmd("cr", b"\r").text("  \n\n")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert [texts(j) for j in jobs] == ["A\n"]


def test_blank_lines_before_text_are_carried_into_its_job():
    s = Stream().text("A\n").cmd("cut").text("\n\n").text("B\n").cmd("cut")
    seg = Segmenter()
    jobs = seg.feed(s.events) + seg.close()
    assert [texts(j) for j in jobs] == ["A\n", "\n\nB\n"]
