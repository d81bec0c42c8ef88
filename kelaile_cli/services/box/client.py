"""Talking to a box (or ``klx box sim``) over a serial port or a pyserial URL.

``BoxClient.connect(url)`` opens the port exclusively and sends the HELLO probe — the only bytes
ever written to a port before something has answered like a box (see docs/box-protocol.md: the probe
is harmless to an ESC/POS printer). Then: ``request`` (send and wait for the answer), ``send`` +
``collect`` for pipelined requests (the windowed flash), ``events`` for tap/state/log/boot events.
"""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kelaile_cli.core.box.messages import ErrorCode, Message, MessageError, MsgType
from kelaile_cli.core.box.replies import Hello, Identity, State
from kelaile_cli.core.box.session import Failure, HostEvent, HostSession, Notice, Response
from kelaile_cli.core.errors import DeviceError, DeviceTimeoutError, InputError, JobError, ProtocolError
from kelaile_cli.transports.serial import SerialLink

__all__ = ["DEFAULT_BAUD", "LINK_BROKEN", "NOT_A_BOX", "NO_BOX", "BoxClient", "BoxError", "find_box_port"]

DEFAULT_BAUD = 115200
HELLO_TIMEOUT = 2.0
REQUEST_TIMEOUT = 5.0
READ_SIZE = 65536
T = TypeVar("T")
KEEPALIVE = 2.0  # seconds of silence from the host before ``events`` sends a PING
READ_WAIT = 0.05  # seconds one read of the port waits for bytes
WRITE_TIMEOUT = 10.0  # seconds a write may take before the link counts as broken
# error codes (KlxError.code) of the host side; a box's own refusals carry the protocol's code names
LINK_BROKEN = "LINK_BROKEN"  # the port failed while open (cable pulled, the peer hung up)
NO_BOX = "NO_BOX"  # nothing answered HELLO in time
NOT_A_BOX = "NOT_A_BOX"  # something answered, but not the box protocol
BOX_TIMEOUT = "BOX_TIMEOUT"  # the box did not answer a request in time


class BoxError(DeviceError):
    """The box answered a request with ``ERROR``: ``error`` is the typed protocol code, ``code`` its name
    (the stable identifier scripts key on), ``next`` a resume offset (FLASH_DATA)."""

    def __init__(
        self,
        request: MsgType,
        error: ErrorCode | int,
        text: str,
        next_offset: int | None = None,
        remedy: str | None = None,
    ) -> None:
        name = error.name if isinstance(error, ErrorCode) else str(error)
        super().__init__(f"box refused {request.name}: {text} [{name}]", code=name, remedy=remedy)
        self.request = request
        self.error = error
        self.text = text
        self.next = next_offset

    @classmethod
    def from_failure(cls, failure: Failure) -> BoxError:
        """The error for an ``ERROR`` answer the host session reported."""
        return cls(failure.request, failure.code, failure.text, failure.next)


def find_box_port(serial_number: str) -> str:
    """The port of the attached box with this USB serial number (port names change after a reset)."""
    from kelaile_cli.services.box.discovery import list_devices

    boxes = [d for d in list_devices() if d["kind"] == "box"]
    for d in boxes:
        if d.get("serial_number") == serial_number:
            return str(d["path"])
    seen = ", ".join(f"{d['serial_number']} on {d['path']}" for d in boxes) or "none"
    raise JobError(f"no box with serial number {serial_number} is attached (boxes: {seen})", remedy="plug it in")


class BoxClient:
    """A HELLO-checked connection to one box. Not thread-safe: one user at a time."""

    def __init__(self, link: SerialLink, url: str) -> None:
        self.link = link
        self.url = url
        self.session = HostSession()
        self._hello_answer: Hello | None = None
        self._answers: dict[int, Response | Failure] = {}
        self._notices: collections.deque[Message] = collections.deque()
        self.bytes_sent = 0
        self.bytes_received = 0
        self._last_sent = time.monotonic()
        self._keepalives: set[int] = set()
        self.by_serial: str | None = None  # opened by USB serial number: re-resolve the port on reconnect

    # -- connecting ----------------------------------------------------------------------------------
    @classmethod
    def connect(
        cls, url: str, *, baud: int = DEFAULT_BAUD, timeout: float = HELLO_TIMEOUT, expect_serial: str | None = None
    ) -> BoxClient:
        """Open the port and say HELLO; refuse (and write nothing more) if no box answers."""
        client = cls(SerialLink.open(url, baud=baud, timeout=READ_WAIT, write_timeout=WRITE_TIMEOUT), url)
        try:
            client._hello(timeout)
        except BaseException:
            client.close()
            raise
        if expect_serial is not None and client.hello.serial != expect_serial:
            found = client.hello.serial
            client.close()
            raise JobError(
                f"{url}: this is box {found}, not {expect_serial}",
                remedy="pick the port of the right box (`klx devices`)",
            )
        return client

    @classmethod
    def find(cls, serial_number: str, *, baud: int = DEFAULT_BAUD, timeout: float = HELLO_TIMEOUT) -> BoxClient:
        """Connect to the box with this USB serial number, wherever it is attached."""
        client = cls.connect(find_box_port(serial_number), baud=baud, timeout=timeout, expect_serial=serial_number)
        client.by_serial = serial_number
        return client

    def _hello(self, timeout: float) -> None:
        try:
            self._hello_exchange(timeout)
        except DeviceError as exc:
            if exc.code != LINK_BROKEN:
                raise
            raise DeviceError(
                f"{self.url}: the other end hung up before answering HELLO", code=LINK_BROKEN,
                remedy="is another klx already connected to this box? close it and re-run",
            ) from None  # fmt: skip

    def _hello_exchange(self, timeout: float) -> None:
        with contextlib.suppress(Exception):  # what the port held before we opened it is stale
            self.link.discard_input()
        self._write(self.session.hello())
        deadline = time.monotonic() + timeout
        garbage_before = self.session.garbage
        while time.monotonic() < deadline:
            for ev in self._read_events():
                if isinstance(ev, Response) and ev.request is MsgType.HELLO:
                    self._hello_answer = self._typed(Hello.from_body, ev.body)
                    return
                if isinstance(ev, Failure) and ev.request is MsgType.HELLO:
                    raise BoxError(MsgType.HELLO, ev.code, ev.text, remedy="update klx or the box")
        noise = self.bytes_received
        if noise or self.session.garbage > garbage_before:
            raise DeviceError(
                f"{self.url}: the device answered ({noise} bytes) but not like a Kelaile box; nothing else was sent",
                remedy="is this the printer's or another device's port? pick the box's port (`klx devices`)",
                code=NOT_A_BOX,
            )
        raise DeviceTimeoutError(
            f"{self.url}: no box answered within {timeout:g} s; nothing else was sent",
            remedy="check the cable and that the box is powered, or pick another port (`klx devices`)",
            code=NO_BOX,
        )

    @property
    def hello(self) -> Hello:
        """The box's HELLO answer (set by ``connect``)."""
        if self._hello_answer is None:
            raise DeviceError(f"{self.url}: no HELLO from the box yet", code=NO_BOX)
        return self._hello_answer

    def _typed(self, parse: Callable[[dict[str, Any]], T], body: dict[str, Any]) -> T:
        """A typed answer; a box that breaks the answer schema is a ``ProtocolError`` naming the port."""
        try:
            return parse(body)
        except MessageError as exc:
            raise ProtocolError(f"{self.url}: {exc.message}", code=exc.code, remedy="update klx or the box") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a port whose device is gone must not mask the real error
            self.link.close()

    def __enter__(self) -> BoxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- I/O ---------------------------------------------------------------------------------------
    def _broken(self, exc: OSError) -> DeviceError:
        return DeviceError(
            f"{self.url}: the link to the box broke ({exc})", remedy="check the cable; re-run", code=LINK_BROKEN
        )

    def _write(self, data: bytes) -> None:
        try:
            self.link.write(data)
        except OSError as exc:  # pyserial's SerialException is an OSError
            raise self._broken(exc) from None
        self.bytes_sent += len(data)
        self._last_sent = time.monotonic()

    def _read_events(self) -> list[HostEvent]:
        try:
            data = self.link.read(READ_WAIT)
        except OSError as exc:
            raise self._broken(exc) from None
        if not data:
            return []
        self.bytes_received += len(data)
        return self.session.receive(bytes(data))

    def pump(self) -> int:
        """Read what has arrived (waits at most the port's read timeout); returns how many items came."""
        events = self._read_events()
        for ev in events:
            if isinstance(ev, (Response, Failure)):
                if ev.id in self._keepalives:
                    self._keepalives.discard(ev.id)
                    continue
                self._answers[ev.id] = ev
            elif isinstance(ev, Notice):
                self._notices.append(ev.message)
        return len(events)

    # -- requests ------------------------------------------------------------------------------------
    def send(self, mtype: MsgType, body: dict[str, Any] | None = None) -> int:
        """Send a request without waiting; collect its answer with ``answer``."""
        msg_id, data = self.session.request(mtype, body)
        self._write(data)
        return msg_id

    def answer(self, msg_id: int, timeout: float = REQUEST_TIMEOUT) -> Response | Failure | None:
        """The answer to ``msg_id`` if it comes within ``timeout`` (None: timed out, the request is forgotten)."""
        deadline = time.monotonic() + timeout
        while msg_id not in self._answers:
            if time.monotonic() >= deadline:
                self.session.forget(msg_id)
                return None
            self.pump()
        return self._answers.pop(msg_id)

    def ready(self) -> list[Response | Failure]:
        """Answers that have arrived (without waiting), oldest first; they are handed out once."""
        out = list(self._answers.values())
        self._answers.clear()
        return out

    def request(self, mtype: MsgType, body: dict[str, Any] | None = None, timeout: float = REQUEST_TIMEOUT) -> dict:
        """Send and wait; ``BoxError`` for an ERROR answer, ``DeviceTimeoutError`` when none comes in time."""
        ans = self.answer(self.send(mtype, body), timeout)
        if ans is None:
            raise DeviceTimeoutError(
                f"{self.url}: the box did not answer {mtype.name} within {timeout:g} s",
                remedy="the box may be busy or rebooting; re-run", code=BOX_TIMEOUT,
            )  # fmt: skip
        if isinstance(ans, Failure):
            raise BoxError.from_failure(ans)
        return ans.body

    def events(self, timeout: float | None = None, stop: Callable[[], bool] = lambda: False) -> Iterator[Message]:
        """Unsolicited events (tap data, state, log, boot) as they come, until ``timeout`` or ``stop()``.

        While waiting it keeps the link alive (a PING after ``KEEPALIVE`` s of silence), so the box
        does not take the host for gone and turn tap off."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not stop() and (deadline is None or time.monotonic() < deadline):
            while self._notices:
                yield self._notices.popleft()
            if time.monotonic() - self._last_sent > KEEPALIVE:
                self._keepalives.add(self.send(MsgType.PING))
            self.pump()
        while self._notices:
            yield self._notices.popleft()

    @property
    def garbage(self) -> int:
        return self.session.garbage

    # -- helpers -------------------------------------------------------------------------------------
    def ping(self, timeout: float = REQUEST_TIMEOUT) -> float:
        """Round-trip time of a PING in seconds."""
        t = time.monotonic()
        self.request(MsgType.PING, timeout=timeout)
        return time.monotonic() - t

    def identity(self) -> Identity:
        return self._typed(Identity.from_body, self.request(MsgType.IDENTITY))

    def state(self) -> State:
        return self._typed(State.from_body, self.request(MsgType.STATE))

    def config_get(self, keys: list[str] | None = None) -> dict:
        return dict(self.request(MsgType.CONFIG_GET, {"keys": keys} if keys else {})["config"])

    def config_set(self, values: dict[str, Any]) -> dict:
        return self.request(MsgType.CONFIG_SET, {"values": values})

    def tap(self, on: bool) -> None:
        self.request(MsgType.TAP, {"on": on})

    def reboot(self) -> None:
        """Ask the box to reboot; the link drops afterwards (use ``reconnect``)."""
        self.request(MsgType.REBOOT)

    def reconnect(self, timeout: float = 15.0, baud: int = DEFAULT_BAUD) -> None:
        """Close and reopen the same port until the same box (by serial number) answers HELLO again."""
        serial_no = self.hello.serial
        self.close()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                url = find_box_port(self.by_serial) if self.by_serial else self.url
                fresh = BoxClient.connect(url, baud=baud, timeout=1.0, expect_serial=serial_no)
            except (JobError, InputError) as exc:
                last = exc
                time.sleep(0.1)
                continue
            self.link, self.session, self._hello_answer, self.url = fresh.link, fresh.session, fresh.hello, fresh.url
            self._answers.clear()
            self._notices.clear()
            return
        raise JobError(f"{self.url}: the box did not come back within {timeout:g} s ({last})", remedy="re-run")
