"""The emulator's log for an unattended box: one plain line per event on stderr, with a syslog-style
``<N>`` level prefix that journald reads (``sd-daemon(3)``), when stderr is the journal.

systemd sets ``JOURNAL_STREAM`` for a service whose stderr goes to the journal; only then are lines
written (an interactive ``klx box sim`` keeps its quiet terminal; the host still hears every line as
EV_LOG). ``KLX_JOURNAL=1`` forces it (another supervisor collecting stderr), ``KLX_JOURNAL=0`` silences it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

__all__ = ["LEVELS", "Journal"]

LEVELS = {"error": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}


class Journal:
    """``write(level, text)`` -> ``<N>text`` on ``stream`` when enabled (see the module docstring)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream
        if enabled is None:
            forced = os.environ.get("KLX_JOURNAL")
            enabled = forced == "1" if forced in ("0", "1") else bool(os.environ.get("JOURNAL_STREAM"))
        self.enabled = enabled
        self._lock = threading.Lock()

    def write(self, level: str, text: str) -> None:
        if not self.enabled:
            return
        line = " ".join(text.split())  # one event, one line
        with self._lock:
            stream = self.stream or sys.stderr
            try:
                stream.write(f"<{LEVELS.get(level, 6)}>{line}\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # the journal went away: the box goes on
