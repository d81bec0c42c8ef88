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


# -- privacy, full disks, bombs (issue 13) --------------------------------------------------------------

import gzip  # noqa: E402
import json  # noqa: E402
import stat  # noqa: E402

import pytest  # noqa: E402

from kelaile_cli.core.errors import InputError  # noqa: E402
from kelaile_cli.core.formats.recording import RecordingError  # noqa: E402


def test_recordings_are_private_and_never_written_through_a_symlink(tmp_path):
    path = tmp_path / "a.klr"
    path.write_bytes(b"old")
    path.chmod(0o644)
    with RecordingWriter(path, Header("tcp://p", T0, "0.1.0")) as w:
        w.write(Chunk(T0, "out", 0, b"card 4111 1111 1111 1111"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "b.klr.gz"
    RecordingWriter(fresh, Header("tcp://p", T0, "0.1.0")).close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    link = tmp_path / "link.klr"
    link.symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        RecordingWriter(link, Header("tcp://p", T0, "0.1.0"))
    assert target.read_bytes() == b"keep me"


DISK_FULL = textwrap.dedent(
    """
    import resource, signal, sys
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file gives EFBIG, as a full disk gives ENOSPC
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    problems = []
    w = RecordingWriter(sys.argv[1], Header("pty", 1795609800.0, "test"), on_problem=problems.append)
    for i in range(30):
        if i == 10:
            resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))  # the disk fills ...
        if i == 20:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # ... and frees
        w.write(Chunk(1795609800.0 + i, "out", i, (b"job %02d " % i) * 40))
    lost, errors = w.lost, w.write_errors
    w.close()
    print(json.dumps({"lost": lost, "errors": errors, "problems": problems}))
    """
).replace("import resource", "import json, resource")


@pytest.mark.parametrize("name", ["full.klr", "full.klr.gz"])
def test_a_disk_that_fills_then_frees_loses_only_what_could_not_be_written(tmp_path, name):
    path = tmp_path / name
    probe = tmp_path / ("probe" + name[4:])
    with RecordingWriter(probe, Header("pty", T0, "test")) as w:  # how big the file is after 10 jobs
        for i in range(10):
            w.write(Chunk(T0 + i, "out", i, (b"job %02d " % i) * 40))
        size_after_10 = os.fstat(w._fd).st_size  # type: ignore[arg-type]
    limit = size_after_10 + (5 if name.endswith(".gz") else 100)  # room for part of job 10: a torn line
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(path), str(limit)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["lost"] == 10 and report["errors"] >= 10
    assert len(report["problems"]) == 2 and "cannot write" in report["problems"][0]
    assert "writing again" in report["problems"][1]
    rec = read_recording(path)
    got = [c.conn for c in rec.chunks]
    assert got == list(range(10)) + list(range(20, 30))  # before the disk filled, and after it freed
    for c in rec.chunks:
        assert c.data == (b"job %02d " % c.conn) * 40
    assert rec.complete and rec.lost_chunks == 10
    assert any("could not write 10 chunks" in w for w in rec.warnings)
    if name.endswith(".klr"):
        assert rec.torn_lines == 1 and any(f"{path}:12: torn line" in w for w in rec.warnings)


def test_a_gzip_bomb_is_refused_without_reading_it_into_memory(tmp_path):
    head = b'{"klr":1,"started_epoch":0}\n'
    one_line = tmp_path / "line.klr.gz"
    with gzip.open(one_line, "wb") as fh:
        fh.write(head + b'{"t":0,"d":"out","c":0,"s":"')
        for _ in range(64):
            fh.write(b"A" * 1024 * 1024)
    with pytest.raises(RecordingError, match=r"line\.klr\.gz:2: line longer than") as info:
        read_recording(one_line)
    assert info.value.exit_code == 2
    many_lines = tmp_path / "lines.klr.gz"
    with gzip.open(many_lines, "wb") as fh:
        fh.write(head)
        for _ in range(70):
            fh.write((b" " * 1023 + b"\n") * 1024)
    with pytest.raises(RecordingError, match="gzip bomb"):
        read_recording(many_lines)


def test_a_torn_gzip_member_is_skipped_and_the_next_member_read(tmp_path):
    path = tmp_path / "torn.klr.gz"
    with RecordingWriter(path, Header("pty", T0, "test")) as w:
        w.write(Chunk(T0, "out", 0, b"first"))
    first = path.read_bytes()
    second = gzip.compress(b'\n{"t":1,"d":"out","c":1,"s":"second"}\n')
    path.write_bytes(first[: len(first) - 30] + b"\x00garbage" + second)
    rec = read_recording(path)
    assert [c.data for c in rec.chunks][-1] == b"second"


def test_running_out_of_memory_is_a_clear_error(tmp_path):
    path = tmp_path / "big.klr"
    with RecordingWriter(path, Header("pty", T0, "test")) as w:
        for i in range(2000):
            w.write(Chunk(T0, "out", i, b"x" * 60_000))
    script = textwrap.dedent(
        """
        import resource, sys
        from kelaile_cli.core.errors import KlxError
        from kelaile_cli.services.capture.recorder import read_recording
        import kelaile_cli.core.formats.recording, zlib, json  # everything the reader needs, loaded first
        size = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 60_000_000, resource.RLIM_INFINITY))  # 60 MB to spare
        try:
            read_recording(sys.argv[1])
        except KlxError as exc:
            print(exc.exit_code, exc.message)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith(f"2 {path}: not enough memory")
