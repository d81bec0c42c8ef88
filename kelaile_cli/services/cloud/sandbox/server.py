"""Running the sandbox cloud under uvicorn: in the foreground (``klx cloud serve``) or in a thread (tests).

``running_cloud(...)`` is the helper for tests and emulators::

    with running_cloud(tmp_path / "cloud.sqlite", faults=Faults(drop_rate=0.1, seed=1)) as cloud:
        client = CloudClient(cloud.url)          # http://127.0.0.1:<ephemeral port>
        ...
        cloud.storage.stats()                    # the server's own Storage, for assertions

It binds 127.0.0.1 on an ephemeral port, waits until the server accepts connections and on exit
stops it cleanly (open connections closed, the thread joined).
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.services.cloud.sandbox.app import CloudConfig, create_app
from kelaile_cli.services.cloud.sandbox.faults import Faults
from kelaile_cli.services.cloud.sandbox.limits import HeaderTimeoutProtocol
from kelaile_cli.services.cloud.sandbox.storage import Storage

__all__ = ["RunningCloud", "bind", "is_loopback", "running_cloud", "serve"]

_ENV_CONFIG = "KLX_CLOUD_CONFIG"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or one clear line: port in use, address not here, no permission."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise JobError(f"{host}:{port}: cannot listen ({reason})",
                       remedy="stop what uses the port or pick another --port/--host") from None  # fmt: skip
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(
    app: Any, workers: int = 1, log_level: str = "warning", access_log: bool = False, header_timeout_s: float = 10.0
) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        date_header=False,
        lifespan="on",
        workers=workers,
        backlog=2048,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,  # requests still running (injected latency) get this long at a stop
        factory=isinstance(app, str),
        http=HeaderTimeoutProtocol,  # httptools with a deadline on each request's headers (slowloris)
    )
    config.klx_header_timeout_s = header_timeout_s  # type: ignore[attr-defined]  # read by HeaderTimeoutProtocol
    return config


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGINT/SIGTERM after its graceful shutdown; here the signal that
    stopped the server is remembered instead (``stopped_by``) and the caller decides the exit code.
    ``on_started`` is called once the server listens, inside uvicorn's signal handling: a stop asked
    for after it is always graceful."""

    stopped_by: int | None = None
    on_started: Callable[[], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit and self.on_started is not None:
            self.on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        if self.stopped_by is None:
            self.stopped_by = sig


class _Supervisor(Multiprocess):
    """uvicorn's worker supervisor, remembering whether Ctrl-C (SIGINT) stopped it."""

    stopped_by: int | None = None

    def handle_int(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGTERM
        super().handle_term()


@dataclass
class RunningCloud:
    """A sandbox cloud running in this process."""

    url: str
    host: str
    port: int
    storage: Storage
    config: CloudConfig


@contextlib.contextmanager
def running_cloud(
    db: str | Path,
    *,
    faults: Faults | None = None,
    auto_pay_s: float | None = None,
    port: int = 0,
    config: CloudConfig | None = None,
) -> Iterator[RunningCloud]:
    """Run the sandbox on 127.0.0.1 in a background thread for the duration of the ``with`` block
    (``config``, when given, supplies every setting but ``db``)."""
    base = config or CloudConfig()
    config = replace(base, db=db, faults=faults or base.faults, auto_pay_s=auto_pay_s or base.auto_pay_s)
    storage = Storage(db, key_file=config.key_file)
    uv = _uvicorn_config(create_app(config, storage), header_timeout_s=config.header_timeout_s)
    server = uvicorn.Server(uv)
    sock = bind("127.0.0.1", port)
    actual = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"klx-cloud:{actual}", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise JobError(f"sandbox cloud on 127.0.0.1:{actual} failed to start")
            thread.join(0.01)
        yield RunningCloud(f"http://127.0.0.1:{actual}", "127.0.0.1", actual, storage, config)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# -- foreground serving (klx cloud serve) ----------------------------------------------------------
def _settle_gc() -> None:
    """A server process keeps its startup objects for good: freeze them out of the collector's scans
    (shorter collection pauses under load)."""
    gc.collect()
    gc.freeze()


def app_from_env() -> Any:
    """uvicorn factory for worker processes: the config travels in an environment variable."""
    raw = json.loads(os.environ[_ENV_CONFIG])
    faults = Faults(**raw.pop("faults"))
    app = create_app(CloudConfig(faults=faults, **raw))
    _settle_gc()
    return app


def serve(
    config: CloudConfig,
    host: str = "127.0.0.1",
    port: int = 8787,
    workers: int = 1,
    ready: Callable[[str], None] | None = None,
    access_log: bool = False,
    warn: Callable[[str], None] | None = None,
) -> int | None:
    """Serve until SIGINT/SIGTERM; returns the signal that stopped the server (the CLI exits 130 after
    Ctrl-C). Opens the database and binds first, so those fail with one clear line; ``warn`` hears,
    once, that a new server key was created for a database whose devices must claim again."""
    if workers < 1:
        raise InputError(f"--workers {workers}: must be at least 1")
    sock = bind(host, port)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    try:
        # create the schema and the server key (and find an unwritable path) before any worker starts
        storage = Storage(config.db, key_file=config.key_file)
        storage.close()
        if storage.lost_devices and warn is not None:
            warn(f"{storage.key_file}: a new server key for {storage.path}, which holds {storage.lost_devices} "
                 "claimed device(s) sealed under a lost key: each must claim again (e.g. klx provision)")  # fmt: skip
        url = f"http://{host}:{sock.getsockname()[1]}"
        # "ready" is said only once SIGINT/SIGTERM are handled: a supervisor that waits for it and then
        # stops the server always gets a graceful stop (one signal earlier is the default, abrupt one)
        if workers == 1:
            uv = _uvicorn_config(create_app(config), access_log=access_log, header_timeout_s=config.header_timeout_s)
            server = _Server(uv)
            if ready is not None:
                server.on_started = lambda: ready(url)
            _settle_gc()
            server.run(sockets=[sock])
            return server.stopped_by
        faults = {k: v for k, v in asdict(config.faults).items() if not k.startswith("_")}
        plain = {
            "db": str(config.db),
            "auto_pay_s": config.auto_pay_s,
            "max_body": config.max_body,
            "body_timeout_s": config.body_timeout_s,
            "key_file": str(config.key_file) if config.key_file else None,
        }
        os.environ[_ENV_CONFIG] = json.dumps({**plain, "faults": faults})  # fmt: skip
        uv = _uvicorn_config(f"{__name__}:app_from_env", workers=workers, access_log=access_log,
                             header_timeout_s=config.header_timeout_s)  # fmt: skip
        supervisor = _Supervisor(uv, sockets=[sock])  # its signal handlers are set here
        if ready is not None:
            ready(url)
        supervisor.run()
        return supervisor.stopped_by
    finally:
        sock.close()
