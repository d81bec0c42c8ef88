"""``klx box sim --cloud URL``: the emulated box claims itself, uploads, and prints the answer above the cut."""

from __future__ import annotations

import time

from kelaile_cli.services.cloud.sandbox import read_stats, running_cloud
from kelaile_cli.services.demo import network_printer, send_job
from tests.helpers import TEA_JOB as JOB
from tests.helpers import start_sim
from tests.helpers import stop_sim as stop


def test_sim_with_a_cloud_uploads_and_prints_the_answer(tmp_path):
    paper = tmp_path / "paper.bin"
    with running_cloud(tmp_path / "cloud.sqlite") as cloud, network_printer(paper) as printer:
        proc, info = start_sim("--state", str(tmp_path / "box"), "--pos", "listen://127.0.0.1:0",
                               "--printer", printer.url, "--cloud", cloud.url)  # fmt: skip
        try:
            send_job(info["pos"], JOB)
            deadline = time.monotonic() + 15
            while read_stats(tmp_path / "cloud.sqlite")["transactions"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop(proc)
        stats = read_stats(tmp_path / "cloud.sqlite")
    assert (stats["devices"], stats["transactions"]) == (1, 1)
    printed = paper.read_bytes()
    assert printed.startswith(JOB[:-4]) and printed.endswith(b"\x1dVA\x00")
    assert b"\x1d(k" in printed  # the answer's QR, above the cut
    assert (tmp_path / "box" / "cloud.json").is_file()
