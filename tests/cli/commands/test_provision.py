"""The acceptance of issue 11, as a technician runs it: klx cloud serve, klx cloud claim-code, klx box sim
(POS listening, a printer on TCP), klx provision --json; a POS prints a recorded meiwei-pos receipt once
provision waits for one. Then: SIGKILL after the claim and a re-run; a printer offline and a cloud
unreachable end non-zero within 20 s with the layer and a remedy."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kelaile_cli.services import jobs
from kelaile_cli.services.emulator.printer import NetworkPrinter
from tests.cli.commands.test_cloud import _start
from tests.cli.test_app import ROOT, klx

SAMPLE = jobs.sample_source().data  # a recorded meiwei-pos print stream
BOUND_S = 60  # no run of a subprocess here may outlive this


@dataclass
class Sim:
    proc: subprocess.Popen
    port: str
    pos_port: int


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "KLX_RUNTIME_DIR": str(tmp_path / "run"), "KLX_STATE_DIR": str(tmp_path / "prov"),
            "NO_COLOR": "1"}  # fmt: skip


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "c.sqlite"
    proc, url = _start("--db", str(db))
    try:
        yield url, db
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


@pytest.fixture
def printer() -> Iterator[NetworkPrinter]:
    with NetworkPrinter() as p:
        yield p


def start_sim(tmp_path: Path, env: dict[str, str], printer: NetworkPrinter, *extra: str) -> Sim:
    cmd = [sys.executable, "-m", "kelaile_cli", "box", "sim", "--state", str(tmp_path / "st"),
           "--pos", "listen://127.0.0.1:0", "--printer", printer.url, "--json", *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"box sim did not start: {proc.stderr.read() if proc.stderr else ''}")
    info = json.loads(line)
    return Sim(proc, info["port"], int(info["pos"].rsplit(":", 1)[1]))


@pytest.fixture
def sims() -> Iterator[list[Sim]]:
    started: list[Sim] = []
    yield started
    for s in started:
        s.proc.send_signal(signal.SIGINT)
        try:
            s.proc.wait(10)
        except subprocess.TimeoutExpired:
            s.proc.kill()


def claim_code(db: Path, store: str = "S-0042") -> str:
    r = klx("cloud", "claim-code", "--db", str(db), "--store", store, "--json")
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["code"])


def pos_print(pos_port: int) -> None:
    with socket.create_connection(("127.0.0.1", pos_port), timeout=5) as s:
        s.sendall(SAMPLE)


def run_provision(
    args: list[str], env: dict[str, str], sim: Sim, kill_after: str | None = None
) -> tuple[int, list[dict], float]:
    """Run klx provision --json; the POS prints when it waits for a receipt; SIGKILL after step ``kill_after``."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "kelaile_cli", "provision", *args, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        event = json.loads(line)
        events.append(event)
        if event.get("step") == "pos" and event.get("status") == "waiting":
            pos_print(sim.pos_port)
        if kill_after and event.get("step") == kill_after and event.get("status") == "ok":
            proc.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() - start < BOUND_S
    code = proc.wait(BOUND_S)
    return code, events, time.monotonic() - start


def test_acceptance_provision_a_store_then_killed_and_rerun(tmp_path, env, cloud, printer, sims) -> None:
    url, db = cloud
    code = claim_code(db)
    sim = start_sim(tmp_path, env, printer)
    sims.append(sim)
    args = ["--port", sim.port, "--cloud", url, "--claim", code, "--yes"]
    # killed (SIGKILL) right after the claim step, then the same command again finishes
    killed, _, _ = run_provision(args, env, sim, kill_after="claim")
    assert killed == -signal.SIGKILL
    rc, events, _ = run_provision(args, env, sim)
    assert rc == 0, events[-1]
    done = events[-1]
    assert done["event"] == "done" and done["ok"] is True
    assert (done["store"], done["profile"]) == ("S-0042", "meiwei-pos")
    assert all({"step", "status", "elapsed_s"} <= set(e) for e in events[:-1])
    # the cloud lists the box with its store and install record
    listed = klx("cloud", "devices", "--db", str(db), "--json")
    rows = [d for d in json.loads(listed.stdout) if d["serial"] == done["serial"]]
    assert len(rows) == 1 and rows[0]["store"] == "S-0042" and rows[0]["install"]["store"] == "S-0042"
    # the printer received the ticket, and klx parse of what it received finds the QR
    received = tmp_path / "printer.bin"
    received.write_bytes(printer.jobs())
    parsed = klx("parse", str(received), "--json")
    assert parsed.returncode == 0, parsed.stderr
    ticket_url = next(e for e in events if e["step"] == "test_print" and e["status"] == "ok")["qr"]
    assert ticket_url in parsed.stdout
    # the box reports itself claimed and uploading
    deadline = time.monotonic() + 15
    while True:
        info = klx("box", "info", "--port", sim.port, "--json", env=env)
        assert info.returncode == 0, info.stderr
        box_cloud = json.loads(info.stdout)["state"]["cloud"]
        if box_cloud["last_upload"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert box_cloud["claimed"] and box_cloud["store"] == "S-0042" and box_cloud["last_upload"]


@pytest.mark.parametrize(("fault", "layer"), [("printer-offline", "printer"), ("cloud-unreachable", "network")])
def test_printer_offline_or_cloud_unreachable_fail_within_20_s(
    tmp_path, env, cloud, printer, sims, fault, layer
) -> None:
    url, db = cloud
    sim = start_sim(tmp_path, env, printer, "--fault", fault)
    sims.append(sim)
    rc, events, took = run_provision(["--port", sim.port, "--cloud", url, "--claim", claim_code(db), "--yes"], env, sim)
    assert rc == 1
    assert took < 20
    error = events[-1]["error"]
    assert error["layer"] == layer and error["remedy"] and error["code"]


def test_rich_output_names_each_step_and_the_failure(tmp_path, env, cloud, printer, sims) -> None:
    url, db = cloud
    sim = start_sim(tmp_path, env, printer, "--fault", "paper-out")
    sims.append(sim)
    r = klx("provision", "--port", sim.port, "--cloud", url, "--claim", claim_code(db), "--yes", env=env)
    assert r.returncode == 1
    assert "PRINTER_PAPER_END" in r.stdout and "load a paper roll" in r.stdout
    assert "claim the box for the store" in r.stdout and "Traceback" not in r.stderr


def test_a_mistyped_code_is_a_usage_error_before_anything_is_claimed(tmp_path, env, cloud, printer, sims) -> None:
    url, _ = cloud
    sim = start_sim(tmp_path, env, printer)
    sims.append(sim)
    r = klx("provision", "--port", sim.port, "--cloud", url, "--claim", "ABCD-EFGH-2", "--yes", "--json", env=env)
    assert r.returncode == 2
    done = json.loads(r.stdout.splitlines()[-1])
    assert done["ok"] is False and done["error"]["code"] == "CLAIM_CODE_MALFORMED"


def test_ctrl_c_while_waiting_for_the_pos_then_resume_finishes(tmp_path, env, cloud, printer, sims) -> None:
    url, db = cloud
    sim = start_sim(tmp_path, env, printer)
    sims.append(sim)
    cmd = [sys.executable, "-m", "kelaile_cli", "provision", "--port", sim.port, "--cloud", url, "--claim",
           claim_code(db), "--yes", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1].get("step") == "pos" and lines[-1].get("status") == "waiting":
            proc.send_signal(signal.SIGINT)  # the technician presses Ctrl-C
    assert proc.wait(BOUND_S) == 130
    assert lines[-1] == {"event": "done", "ok": False, "interrupted": True, "next": "klx provision --resume"}
    rc, events, _ = run_provision(["--resume"], env, sim)  # port, cloud and code come from the saved state
    assert rc == 0, events[-1]
    assert events[-1]["ok"] is True and events[-1]["store"] == "S-0042"


def test_batch_provisions_each_row_in_turn(tmp_path, env, cloud, sims) -> None:
    url, db = cloud
    with NetworkPrinter() as p1, NetworkPrinter() as p2:
        boxes = [start_sim(tmp_path / "a", env, p1), start_sim(tmp_path / "b", env, p2)]
        sims.extend(boxes)
        rows = "port,claim,store\n" + "".join(
            f"{b.port},{claim_code(db, s)},{s}\n" for b, s in zip(boxes, ("S-1", "S-2"), strict=True)
        )
        (tmp_path / "stores.csv").write_text(rows)
        csv_file = str(tmp_path / "stores.csv")
        cmd = [sys.executable, "-m", "kelaile_cli", "provision", "--batch", csv_file, "--cloud", url, "--yes", "--json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        assert proc.stdout is not None
        events = []
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1].get("step") == "pos" and events[-1].get("status") == "waiting":
                pos_print(boxes[events[-1]["row"] - 1].pos_port)
        assert proc.wait(BOUND_S) == 0
    done = [e for e in events if e.get("event") == "done"]
    assert [(d["row"], d["ok"], d["store"]) for d in done] == [(1, True, "S-1"), (2, True, "S-2")]
