"""The box's cloud link driven by its config: a CONFIG_SET takes effect without a restart, and STATE
says how far the box got (claimed, store, last upload, last error with its layer)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kelaile_cli.services import jobs
from kelaile_cli.services.box.client import BoxClient
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.provisioning import read_devices
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.printer import NetworkPrinter


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KLX_RUNTIME_DIR", str(tmp_path / "run"))
    with NetworkPrinter() as printer:
        sim = BoxSim(SimOptions(state=tmp_path / "box", listen="socket://127.0.0.1:0", pos="listen://127.0.0.1:0",
                                printer=printer.url))  # fmt: skip
        sim.start()
        try:
            yield sim
        finally:
            sim.stop()


def wait_for(c: BoxClient, ready: Callable[[dict[str, Any]], bool], timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not ready(cloud := (c.state().cloud or {})) and time.monotonic() < deadline:
        time.sleep(0.1)
    return cloud


def test_setting_cloud_url_and_store_claims_and_uploads_without_a_restart(box: BoxSim, tmp_path: Path) -> None:
    with running_cloud(tmp_path / "c.sqlite") as cloud, BoxClient.connect(box.port) as c:
        assert (c.state().cloud or {})["claimed"] is False
        c.config_set({"cloud_url": cloud.url, "store": "S-7"})
        status = wait_for(c, lambda s: s["claimed"])
        assert status["claimed"] and status["store"] == "S-7" and status["device_id"]
        port = int(box.pos_address.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(jobs.sample_source().data)
        status = wait_for(c, lambda s: s["last_upload"] is not None)
        assert status["last_answer"]["qr"] and status["last_error"] is None
        rows = read_devices(cloud.config.db)
        assert [(r["serial"], r["store"]) for r in rows] == [(box.state.serial, "S-7")]
        assert rows[0]["transactions"] >= 1


def test_an_unreachable_cloud_is_reported_with_its_layer(box: BoxSim) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with BoxClient.connect(box.port) as c:
        c.config_set({"cloud_url": f"http://127.0.0.1:{port}", "store": "S-7"})
        status = wait_for(c, lambda s: s["last_error"] is not None)
    error = status["last_error"]
    assert status["claimed"] is False
    assert (error["code"], error["layer"], error["during"]) == ("CLOUD_CONNECT", "network", "claim")
    assert error["remedy"]
