"""klx redact and record --redact, as a user runs them."""

from __future__ import annotations

import json
import signal

from kelaile_cli.services.capture.recorder import read_recording
from tests.helpers import PII, SAMPLES, FakePrinter, klx, pos_print
from tests.helpers import pii_job as job
from tests.helpers import start_capture as start


def test_redact_recording_keeps_chunking_and_masks(tmp_path):
    out = tmp_path / "red.klr"
    r = klx("redact", str(SAMPLES / "zh-cn-restaurant-80mm.klr"), "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"member": 1}
    src, red = read_recording(SAMPLES / "zh-cn-restaurant-80mm.klr"), read_recording(out)
    assert [len(c.data) for c in src.chunks] == [len(c.data) for c in red.chunks]
    assert red.header.notes["redacted"]
    assert b"8800 1234 5678" in src.stream() and b"8800 1234 5678" not in red.stream()


def test_redact_raw_job_and_refuse_overwrite(tmp_path):
    raw = tmp_path / "job.bin"
    raw.write_bytes(job(PII))
    r = klx("redact", str(raw), "-o", str(raw))
    assert r.returncode == 2 and "overwrite" in r.stderr
    r = klx("redact", str(raw), "-o", str(tmp_path / "red.bin"))
    assert r.returncode == 0 and "1 card" in r.stdout


def test_record_redact_masks_the_file_never_the_printer(tmp_path):
    printer = FakePrinter()
    out = tmp_path / "x.klr"
    proc, port = start("record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer.port}",
                       "-o", str(out), "--redact")  # fmt: skip
    data = job(PII)
    pos_print(port, data)
    pos_print(port, data)
    assert printer.wait_for(2) == [data, data]  # the printer got the real receipt
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    printer.close()
    assert proc.returncode == 0, stderr
    rec = read_recording(out)
    assert len(rec.stream()) == 2 * len(data)
    assert b"13812345678\n" not in rec.stream() and b"4111 1111 1111 1111" not in rec.stream()
    assert rec.header.notes["redacted"]
