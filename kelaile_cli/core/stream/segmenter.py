"""Cut a decoded event stream into print jobs (one job = one receipt).

A job ends after a cut, before a re-initialisation (``ESC @``) that follows printed content, and
before an idle gap when capture timestamps are known. Events that print nothing (feeds, blank lines,
settings, a lone ``ESC @``) never make a job on their own: they are carried into the next job, or
dropped at the end of the stream (the ``\n\r`` many programs send after their last cut).
"""

from __future__ import annotations

from typing import Final

from kelaile_cli.core.escpos.events import Command, Event, Text

__all__ = ["CONTENT_OPS", "Job", "Segmenter"]

#: ops that put something on paper or act in the shop (a drawer kick). Real-time status queries
#: are not content: a POS asks them after every job, and alone they would make empty receipts.
CONTENT_OPS: Final = frozenset({"image", "graphics_print", "logo", "barcode", "code2d_print", "drawer"})


class Job:
    """The events of one print job and the capture time of its first byte (if known)."""

    __slots__ = ("content", "events", "timestamp")

    def __init__(
        self, events: list[Event] | None = None, timestamp: float | None = None, content: bool = False
    ) -> None:
        self.events = [] if events is None else events
        self.timestamp = timestamp
        self.content = content

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Job):
            return NotImplemented
        return (self.events, self.timestamp, self.content) == (other.events, other.timestamp, other.content)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"Job(events={self.events!r}, timestamp={self.timestamp!r}, content={self.content!r})"

    def add(self, ev: Event) -> None:
        self.events.append(ev)
        if not self.content:
            if isinstance(ev, Command):
                self.content = ev.op in CONTENT_OPS
            elif isinstance(ev, Text):
                self.content = bool(ev.raw.strip())  # blank lines and feeds alone print nothing
            else:
                self.content = True


class Segmenter:
    """Incremental: ``feed(events, timestamp)`` returns the jobs completed so far."""

    def __init__(self, idle_gap: float | None = 2.0) -> None:
        self.idle_gap = idle_gap
        self._job = Job()
        self._last_time: float | None = None

    def feed(self, events: list[Event], timestamp: float | None = None) -> list[Job]:
        done: list[Job] = []
        if (
            timestamp is not None
            and self.idle_gap is not None
            and self._last_time is not None
            and timestamp - self._last_time > self.idle_gap
            and self._job.content
        ):
            done.append(self._finish())
        if timestamp is not None:
            self._last_time = timestamp
        job = self._job
        for ev in events:
            if isinstance(ev, Command):
                op = ev.op
                if op == "init" and job.content:
                    done.append(job)
                    job = self._job = Job()
                if not job.events:
                    job.timestamp = timestamp
                job.events.append(ev)
                if not job.content:
                    job.content = op in CONTENT_OPS  # a cut never is: it ends only a job with content
                elif op == "cut":
                    done.append(job)
                    job = self._job = Job()
            else:
                if not job.events:
                    job.timestamp = timestamp
                job.add(ev)
        return done

    def close(self) -> list[Job]:
        """Flush the last job if it printed anything; a content-free tail is dropped."""
        if self._job.content:
            return [self._finish()]
        return []

    def _finish(self) -> Job:
        job, self._job = self._job, Job()
        return job
