"""Upload profile and flash from the box screen, against a real emulated box (in-process BoxSim on a pty)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, OptionList, ProgressBar, Static

from kelaile_cli.core.errors import PortError
from kelaile_cli.services.box import firmware_files as files
from kelaile_cli.services.box.client import BoxClient
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.slot_store import open_backend
from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.services.monitor.sources import BoxSource
from kelaile_cli.tui.app import MonitorApp
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.dialogs import ConfirmScreen, FileScreen

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "profiles" / "chenguang-cafe.yaml"


async def _until(pilot, check, what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.05)


def _status(app: MonitorApp) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def _open_connected(app: MonitorApp, pilot, serial: str) -> None:
    await _until(
        pilot,
        lambda: serial in app.model.boxes and app.model.boxes[serial].link_up is True,
        "the monitor never connected to the box",
    )
    app.open_box(serial)
    await pilot.pause(0.2)


async def test_upload_profile_picked_from_the_list_is_stored_and_activated(tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    shutil.copy(PROFILE, tmp_path / "work" / PROFILE.name)
    (tmp_path / "work" / "broken.yaml").write_text("id: [unclosed\n")
    monkeypatch.chdir(tmp_path / "work")
    box = BoxSim(SimOptions(state=tmp_path / "box"))
    box.start()
    try:
        app = MonitorApp(Feed(FleetModel()), [BoxSource(box.port)], write=True, refresh_s=0.1)
        serial = box.state.serial
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_connected(app, pilot, serial)
            await pilot.press("u")
            await pilot.pause(0.1)
            assert isinstance(app.screen, FileScreen)
            choices = app.screen.query_one("#choices", OptionList)
            offered = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
            assert offered == ["broken.yaml", PROFILE.name]  # the YAML files of the working directory
            activate = app.screen.query_one("#activate", Checkbox)
            assert "active profile: no" in str(activate.label)
            activate.value = True
            await pilot.pause()
            assert "active profile: yes" in str(activate.label)  # readable without colours (NO_COLOR)
            choices.focus()
            choices.highlighted = 1
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert isinstance(app.screen, ConfirmScreen)
            assert "chenguang-cafe.yaml" in app.screen.question and "make it active" in app.screen.question
            await pilot.press("y")
            await _until(pilot, lambda: "stored" in _status(app), f"no result line: {_status(app)}")
            assert "profile chenguang-cafe stored and active" in _status(app)
            assert (box.state.profiles_dir / PROFILE.name).read_bytes() == PROFILE.read_bytes()
            assert box.state.config.get("profile") == "chenguang-cafe"
            # a profile the box refuses: one clear line with the box's reason, nothing stored
            await pilot.press("u")
            await pilot.pause(0.1)
            path = app.screen.query_one("#path", Input)
            path.value = "broken.yaml"
            path.focus()
            await pilot.press("enter")
            await pilot.pause(0.1)
            await pilot.press("y")
            await _until(pilot, lambda: "failed" in _status(app), f"no error line: {_status(app)}")
            assert _status(app).startswith("upload-profile failed: box refused PROFILE_UPLOAD: profile rejected")
            assert "broken.yaml:2" in _status(app)  # where in the file
            assert not (box.state.profiles_dir / "broken.yaml").exists()
            assert isinstance(app.screen, BoxScreen)
    finally:
        box.stop()


async def test_upload_profile_of_a_missing_file_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    box = BoxSim(SimOptions(state=tmp_path / "box"))
    box.start()
    try:
        app = MonitorApp(Feed(FleetModel()), [BoxSource(box.port)], write=True, refresh_s=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_connected(app, pilot, box.state.serial)
            await pilot.press("u")
            await pilot.pause(0.1)
            assert "no matching file" in str(app.screen.query_one("#none", Static).render())
            await pilot.press(*"nowhere.yaml", "enter")
            await pilot.pause(0.1)
            await pilot.press("y")
            await _until(pilot, lambda: "failed" in _status(app), f"no error line: {_status(app)}")
            assert "nowhere.yaml: cannot read" in _status(app)
    finally:
        box.stop()


async def test_flash_shows_progress_and_ends_confirmed(tmp_path, monkeypatch):
    keys = tmp_path / "keys"
    files.keygen(keys)
    payload = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(96 * 1024 // 32))
    (tmp_path / "payload.bin").write_bytes(payload)
    (tmp_path / "fw").mkdir()
    files.build_file(tmp_path / "payload.bin", "1.4.0", keys, tmp_path / "fw" / "fw-1.4.0.kfw", built=1_700_000_000)
    monkeypatch.chdir(tmp_path / "fw")
    box = BoxSim(SimOptions(state=tmp_path / "box", slots=open_backend(tmp_path / "box" / "slots", keys)))
    box.start()
    try:
        app = MonitorApp(Feed(FleetModel()), [BoxSource(box.port)], write=True, refresh_s=0.1)
        serial = box.state.serial
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_connected(app, pilot, serial)
            await pilot.press("f")
            await pilot.pause(0.1)
            assert isinstance(app.screen, FileScreen)
            app.screen.query_one("#path", Input).value = "fw-1.4.0.kfw"  # typed (a picked one: below)
            await pilot.press("enter")
            await pilot.pause(0.1)
            await pilot.press("escape")  # declined at the confirmation: nothing happens
            await pilot.pause(0.2)
            assert isinstance(app.screen, BoxScreen) and serial not in app.running
            await pilot.press("f")
            await pilot.pause(0.1)
            app.screen.query_one("#choices", OptionList).focus()
            await pilot.press("enter")  # the only .kfw offered
            await pilot.pause(0.1)
            assert "fw-1.4.0.kfw" in app.screen.question  # type: ignore[attr-defined]
            await pilot.press("y")
            seen: set[int] = set()
            deadline = time.monotonic() + 60
            while not app.running[serial].done.is_set():
                assert time.monotonic() < deadline, "the flash never finished"
                bar = app.screen.query_one("#progress", ProgressBar)
                if bar.has_class("shown") and bar.total:
                    seen.add(int(bar.percentage * 100))
                await pilot.pause(0.05)
            await _until(pilot, lambda: "flash 1.4.0" in _status(app), f"no result line: {_status(app)}")
            assert "installed, slot B, confirmed" in _status(app)
            assert len(seen) >= 2, f"the bar did not move: {sorted(seen)}"  # it showed progress as it went
            bar = app.screen.query_one("#progress", ProgressBar)
            await _until(pilot, lambda: not bar.has_class("shown"), "the bar stayed after the flash")
            await _until(pilot, lambda: app.model.boxes[serial].link_up is True, "the monitor never reconnected")
            await _until(pilot, lambda: app.model.boxes[serial].firmware == "1.4.0", "the new firmware not shown")
            assert any("flashing: transfer" in line for line in app.model.boxes[serial].log)
        deadline = time.monotonic() + 5
        while True:  # the monitor's source thread lets go of the port (exclusive) once the app has stopped
            try:
                with BoxClient.connect(box.port) as client:
                    ident = client.identity()
                break
            except PortError:
                assert time.monotonic() < deadline, "the monitor kept the port after it quit"
                time.sleep(0.1)
        assert ident.fw == "1.4.0" and not ident.trial
    finally:
        box.stop()
