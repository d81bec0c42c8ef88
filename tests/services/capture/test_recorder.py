"""Recording files on disk: gzip, and the promise that kill -9 loses nothing already written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from kelaile_cli.core.formats.recording import Chunk, Header
from kelaile_cli.services.capture.recorder import RecordingWriter, is_recording, read_recording

T0 = 1795609800.0  # 2026-11-25 12:30:00 UTC


def test_plain_and_gzip_round_trip(tmp_path):
    for name in ("a.klr", "a.klr.gz"):
        path = tmp_path / name
        with RecordingWriter(path, Header("tcp://p", T0, "0.1.0")) as w:
            for i in range(50):
                w.write(Chunk(T0 + i, "out", i % 3, bytes([i]) * i))
        rec = read_recording(path)
        assert rec.complete and len(rec.chunks) == 50
        assert rec.stream("out") == b"".join(bytes([i]) * i for i in range(50))
        assert is_recording(path)
    raw = tmp_path / "job.bin"
    raw.write_bytes(b"\x1b@hello")
    assert not is_recording(raw)


WRITER = textwrap.dedent(
    """
    import sys, time
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter
    w = RecordingWriter(sys.argv[1], Header("pty", time.time(), "test"))
    i = 0
    while True:
        w.write(Chunk(time.time(), "out", 0, (b"%06d|" % i) * 7))
        print(i, flush=True)
        i += 1
    """
)


def test_sigkill_mid_recording_loses_nothing_written(tmp_path):
    for name in ("kill.klr", "kill.klr.gz"):
        path = tmp_path / name
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        acknowledged = -1
        deadline = time.monotonic() + 30
        while acknowledged < 300 and time.monotonic() < deadline:
            acknowledged = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        rec = read_recording(path)
        assert not rec.complete
        assert len(rec.chunks) >= acknowledged + 1  # every write that returned is in the file
        for i, chunk in enumerate(rec.chunks):
            assert chunk.data == (b"%06d|" % i) * 7
