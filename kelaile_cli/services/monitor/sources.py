"""Where monitor events come from: boxes over their protocol, the cloud's admin API, recordings.

Each source runs until ``stop`` is set and hands every event to ``emit`` (thread-safe: the monitor
queues them and coalesces). ``BoxSource.run`` and ``ReplaySource.run`` block (run them in a thread);
``CloudSource.run`` is a coroutine (run it in an asyncio task). Sources never raise for a box or a
cloud that goes away: they emit ``link``/``cloud`` events with the reason and retry with backoff.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError, KlxError
from kelaile_cli.services.monitor.events import MonitorEvent, read_events

__all__ = ["BACKOFF", "Action", "BoxSource", "CloudSource", "Emit", "ReplaySource", "backoff_delays"]

Emit = Callable[[MonitorEvent], None]
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between reconnects; the last one repeats
STATE_EVERY = 2.0  # STATE poll period (also the heartbeat)


def backoff_delays() -> collections.abc.Iterator[float]:
    """0.5, 1, 2, 4, 8, 8, 8… s: a box that went away is retried without hammering its port."""
    yield from BACKOFF
    while True:
        yield BACKOFF[-1]


class Action:
    """A write request for a box (test print, reboot, config set, upload profile, flash) run on the
    source's own thread. A flash reports ``phase`` and ``progress`` (image bytes acknowledged, total)
    as it goes; the screen reads them at its own pace."""

    def __init__(self, name: str, args: dict[str, Any] | None = None) -> None:
        self.name, self.args = name, args or {}
        self.done = threading.Event()
        self.result: str = ""
        self.ok = False
        self.phase = ""
        self.progress: tuple[int, int] | None = None


class BoxSource:
    """One box over its host protocol: HELLO, IDENTITY, CONFIG, tap on, STATE every 2 s, events.

    ``target`` is a port or pyserial URL, or (``by_serial``) a USB serial number looked up each time.
    """

    def __init__(self, target: str, *, by_serial: bool = False, detector: Any = None) -> None:
        self.target, self.by_serial, self.detector = target, by_serial, detector
        self.serial = target  # until the box says HELLO
        self.actions: collections.deque[Action] = collections.deque()

    def submit(self, action: Action) -> Action:
        self.actions.append(action)
        return action

    def run(self, emit: Emit, stop: threading.Event) -> None:
        delays = backoff_delays()
        while not stop.is_set():
            try:
                flash = self._session(emit, stop)
                delays = backoff_delays()
                if flash is not None:  # the session closed the port: the flash opens its own
                    self._flash(flash, emit)
                continue
            except KlxError as exc:
                reason = exc.message
            except OSError as exc:
                reason = str(exc)
            emit(MonitorEvent("link", self.serial, time.time(), {"up": False, "reason": reason, "via": self.target}))
            stop.wait(next(delays))

    def _connect(self) -> Any:
        from kelaile_cli.services.box.client import BoxClient

        if self.by_serial:
            return BoxClient.find(self.target, timeout=1.0)
        return BoxClient.connect(self.target, timeout=1.0)

    def _session(self, emit: Emit, stop: threading.Event) -> Action | None:
        """Watch the box until ``stop`` (None) or until a flash is asked for (that action: the port
        must be free for it)."""
        from kelaile_cli.core.box.messages import MsgType
        from kelaile_cli.services.monitor.receipts import TapDecoder

        with self._connect() as client:
            self.serial = str(client.hello.serial or self.target)
            ident = client.identity().to_body()  # the typed answers, read as the documented maps
            config = client.config_get()
            state = client.state().to_body()
            client.tap(True)  # up once it watches: a receipt printed from now on is seen
            tap = TapDecoder(self.detector)
            now = time.time()
            emit(MonitorEvent("link", self.serial, now, {"up": True, "reason": "connected", "via": self.target}))
            emit(MonitorEvent("state", self.serial, time.time(), _box_state(state, ident, config)))
            next_state = time.monotonic() + STATE_EVERY
            while not stop.is_set():
                for msg in client.events(timeout=0.2, stop=stop.is_set):
                    now = time.time()
                    if msg.type is MsgType.EV_TAP:
                        for data in tap.feed(msg["data"], msg.get("conn"), now):
                            emit(MonitorEvent("receipt", self.serial, now, data))
                    elif msg.type is MsgType.EV_STATE:
                        emit(MonitorEvent("state", self.serial, now, _box_state(msg["state"], None, None)))
                    elif msg.type is MsgType.EV_LOG:
                        emit(MonitorEvent("log", self.serial, now, {"level": msg["level"], "text": msg["text"]}))
                    elif msg.type is MsgType.EV_BOOT:
                        emit(
                            MonitorEvent("log", self.serial, now, {"level": "info", "text": f"booted {msg['version']}"})
                        )
                while self.actions:
                    action = self.actions.popleft()
                    if action.name == "flash":
                        return action
                    self._act(client, action, emit)
                if time.monotonic() >= next_state:
                    next_state = time.monotonic() + STATE_EVERY
                    state = client.state().to_body()
                    emit(MonitorEvent("state", self.serial, time.time(), _box_state(state, None, None)))
        return None

    def _act(self, client: Any, action: Action, emit: Emit) -> None:
        try:
            if action.name == "test-print":
                client.request(_msg("TEST_PRINT"), {})
                action.result = "test print sent"
            elif action.name == "reboot":
                client.reboot()
                action.result = "reboot requested"
            elif action.name == "config-set":
                client.config_set(action.args)
                action.result = f"config set: {', '.join(sorted(action.args))}"
            elif action.name == "upload-profile":
                action.result = _upload_profile(client, Path(action.args["path"]), bool(action.args.get("activate")))
            else:
                raise InputError(f"unknown action {action.name}")
            action.ok = True
        except KlxError as exc:
            action.result = _failed(action, exc)
        finally:
            action.done.set()
        emit(MonitorEvent("log", self.serial, time.time(), {"level": "info", "text": action.result}))

    def _flash(self, action: Action, emit: Emit) -> None:
        """Install the image in ``action.args["path"]`` with ``services/box/flash.py`` on this thread
        (the monitor's own connection is closed meanwhile); the box shows offline, "flashing: PHASE"."""
        from kelaile_cli.services.box.client import find_box_port
        from kelaile_cli.services.box.flash import FlashOptions, flash

        def phase(name: str) -> None:
            action.phase = name
            emit(MonitorEvent("link", self.serial, time.time(), {"up": False, "reason": f"flashing: {name}"}))

        def progress(done: int, total: int) -> None:
            action.progress = (done, total)

        try:
            port = find_box_port(self.target) if self.by_serial else self.target
            report = flash(Path(action.args["path"]), port, FlashOptions(on_phase=phase, on_progress=progress))
            action.result = (
                f"flash {report.version}: {report.outcome}, slot {report.slot}, "
                f"{'confirmed' if report.confirmed else 'not confirmed'} ({report.elapsed_s:.1f} s)"
            )
            action.ok = True
        except KlxError as exc:
            action.result = _failed(action, exc)
        except OSError as exc:
            action.result = f"flash failed: {exc}"
        finally:
            action.done.set()
        emit(MonitorEvent("log", self.serial, time.time(), {"level": "info", "text": action.result}))


def _failed(action: Action, exc: KlxError) -> str:
    """One line: what failed, why, and what to do (the error's remedy) when it says."""
    text = f"{action.name} failed: {exc.message}"
    return f"{text} — {exc.remedy}" if exc.remedy else text


def _upload_profile(client: Any, path: Path, activate: bool) -> str:
    """PROFILE_UPLOAD of the YAML in ``path`` (the box checks it before storing it)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    answer = client.request(_msg("PROFILE_UPLOAD"), {"name": path.name, "yaml": data, "activate": activate})
    known = answer.get("profiles") or []
    return f"profile {answer.get('id')} stored{' and active' if activate else ''}; the box knows {len(known)}"


def _msg(name: str) -> Any:
    from kelaile_cli.core.box.messages import MsgType

    return MsgType[name]


def _box_state(state: dict[str, Any], ident: dict[str, Any] | None, config: dict[str, Any] | None) -> dict[str, Any]:
    """A box's STATE (plus IDENTITY and config when just read) as a ``state`` event's data."""
    out = dict(state)
    if ident:
        out["fw"] = ident.get("fw")
        out["model"] = ident.get("model")
        out["slots"] = ident.get("slots", [])
    if config is not None:
        out["config"] = config
        out["store"] = config.get("store")
        out["profile"] = config.get("profile") or None
    return out


class ReplaySource:
    """A recorded monitor session, played at its own pace (``speed`` × real time; 0: at once).

    Times are shifted so the recording's first event happens now: ages and rates look live."""

    def __init__(self, path: Path, speed: float = 1.0, loop: bool = False) -> None:
        self.events = read_events(path)
        if not self.events:
            raise InputError(f"{path}: no events in this recording")
        self.speed, self.loop = speed, loop

    def run(self, emit: Emit, stop: threading.Event) -> None:
        first = self.events[0].t
        while not stop.is_set():
            wall0 = time.time()
            for ev in self.events:
                offset = ev.t - first
                if self.speed:
                    wait = wall0 + offset / self.speed - time.time()
                    if wait > 0 and stop.wait(wait):
                        return
                    emit(MonitorEvent(ev.kind, ev.serial, wall0 + offset / self.speed, ev.data))
                else:  # at once: the recording's last event happens now
                    emit(MonitorEvent(ev.kind, ev.serial, wall0 - (self.events[-1].t - ev.t), ev.data))
                if stop.is_set():
                    return
            if not self.loop:
                return


class CloudSource:
    """Every device the (sandbox) cloud knows: its device list and heartbeats, and new transactions."""

    def __init__(self, url: str, every: float = 2.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"--cloud {url}: expected an http:// or https:// URL, e.g. http://127.0.0.1:8787")
        self.url, self.every = url.rstrip("/"), every
        self._after = 0
        self._serials: dict[str, str] = {}  # device id -> serial
        self._orders_sent: dict[str, tuple[int, int]] = {}  # serial -> (queued, failed) last emitted
        self.orders_api = True  # False once the cloud said it has no order book (not the sandbox)

    async def run(self, emit: Emit, stop: threading.Event) -> None:
        import httpx

        delays = backoff_delays()
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0) as http:
            while not stop.is_set():
                try:
                    await self.poll(http, emit)
                    delays = backoff_delays()
                    wait = self.every
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    emit(MonitorEvent("cloud", "", time.time(), {"ok": False, "reason": _why(exc, self.url)}))
                    wait = next(delays)
                for _ in range(int(wait / 0.1)):
                    if stop.is_set():
                        return
                    await asyncio.sleep(0.1)

    async def poll(self, http: Any, emit: Emit) -> None:
        """One round: the device list, then every transaction stored since the last round."""
        resp = await http.get("/v1/devices")
        resp.raise_for_status()
        now = time.time()
        emit(MonitorEvent("cloud", "", now, {"ok": True, "reason": ""}))
        devices = resp.json()["devices"]
        for dev in devices:
            serial = str(dev.get("serial") or dev["device_id"])
            self._serials[str(dev["device_id"])] = serial
            state = dev.get("state") if isinstance(dev.get("state"), dict) else {}
            data = {**state, "store": dev.get("store"), "model": dev.get("model")}
            seen = dev.get("last_seen")
            emit(MonitorEvent("state", serial, float(seen) if seen else float(dev.get("claimed_at") or now), data))
        if self.orders_api:
            await self.poll_orders(http, devices, emit)
        for _ in range(50):  # at most 50 pages a round: a huge backlog is read over several rounds
            resp = await http.get("/v1/transactions", params={"after": self._after, "limit": 1000})
            resp.raise_for_status()
            doc = resp.json()
            for tx in doc["transactions"]:
                serial = self._serials.get(str(tx["device_id"]), str(tx["device_id"]))
                body = tx.get("body") if isinstance(tx.get("body"), dict) else {}
                answer = tx.get("answer")
                data = {
                    "transaction_id": tx.get("transaction_id"), "kind": tx.get("kind"),
                    "profile": body.get("profile"), "answer": bool(answer), "answer_body": answer,
                    "receipt_sha256": body.get("receipt_sha256"),
                    "transaction": body.get("transaction"),
                }  # fmt: skip
                emit(MonitorEvent("upload", serial, float(tx.get("created_at") or now), data))
            if doc["next_after"] == self._after:
                break
            self._after = int(doc["next_after"])

    async def poll_orders(self, http: Any, devices: list[dict[str, Any]], emit: Emit) -> None:
        """Online orders not printed yet, per box: those offered to it, and its store's not offered to any
        box yet. Emitted only when a box's counts change (a thousand idle boxes cost nothing)."""
        pending: list[dict[str, Any]] = []
        for status in ("received", "printing", "failed"):
            resp = await http.get("/v1/sandbox/orders", params={"status": status, "limit": 1000})
            if resp.status_code == 404:  # a cloud without the sandbox's order book
                self.orders_api = False
                return
            resp.raise_for_status()
            pending += resp.json()["orders"]
        by_key: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])  # device id or "store:S" -> counts
        for order in pending:
            key = str(order.get("device_id") or f"store:{order.get('store')}")
            by_key[key][0] += 1
            by_key[key][1] += order.get("status") == "failed"
        now = time.time()
        for dev in devices:
            serial = str(dev.get("serial") or dev["device_id"])
            mine, store = by_key.get(str(dev["device_id"]), [0, 0]), by_key.get(f"store:{dev.get('store')}", [0, 0])
            counts = (mine[0] + store[0], mine[1] + store[1])
            if self._orders_sent.get(serial, (0, 0)) != counts:
                self._orders_sent[serial] = counts
                emit(MonitorEvent("orders", serial, now, {"queued": counts[0], "failed": counts[1]}))


def _why(exc: Exception, url: str) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return f"cloud {url} unreachable (connection refused)"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"cloud {url} answered {exc.response.status_code}"
    return f"cloud {url}: {type(exc).__name__}: {exc}"
