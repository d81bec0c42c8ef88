"""Host-side and device-side sessions: bytes in, protocol events out; protocol events in, bytes out.

Like h11, neither side does I/O: the caller feeds received bytes to ``receive`` and writes the
bytes that ``request``/``reply``/``event`` return. The host session matches each answer to its
request by id; the device session turns frames into requests and builds the answers.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from typing import Any

from kelaile_cli.core.box.framing import Frame, FrameDecoder, FrameError, encode_frame
from kelaile_cli.core.box.messages import (
    PROTOCOL_VERSION,
    ErrorCode,
    Message,
    MessageError,
    MsgType,
    decode_message,
    encode_message,
)

__all__ = [
    "HELLO_ID",
    "HELLO_PROBE",
    "DeviceSession",
    "Failure",
    "Garbage",
    "HostSession",
    "Notice",
    "Response",
]

# The probe is always the same 36 bytes: its id and text are chosen so that no byte of it is an
# ESC/POS command introducer (ESC, GS, FS, DLE) or a paper-moving control (LF, CR, FF, HT): sent
# to a receipt printer by mistake it runs no command and feeds no paper (see docs/box-protocol.md).
HELLO_ID = 0x4B4C5801
HELLO_BODY: dict[str, Any] = {"versions": [PROTOCOL_VERSION], "client": "klx"}
HELLO_PROBE = encode_frame(encode_message(Message(MsgType.HELLO, HELLO_ID, HELLO_BODY)), lead=True)


@dataclass(frozen=True, slots=True)
class Response:
    """The ``RESULT`` of request ``id``."""

    id: int
    request: MsgType
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failure:
    """The ``ERROR`` answer to request ``id``."""

    id: int
    request: MsgType
    code: ErrorCode | int
    text: str
    next: int | None = None  # FLASH_DATA errors: the offset the box expects next


@dataclass(frozen=True, slots=True)
class Notice:
    """An unsolicited event (tap data, state change, log line, boot)."""

    message: Message


@dataclass(frozen=True, slots=True)
class Garbage:
    """Received bytes that were not a valid frame or message (counted, never fatal)."""

    error: FrameError | MessageError | str

    def __str__(self) -> str:
        return str(self.error)


HostEvent = Response | Failure | Notice | Garbage


class HostSession:
    """The host's side: numbers requests, remembers what is outstanding, matches answers."""

    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self._ids = itertools.count(1)
        self.outstanding: dict[int, MsgType] = {}
        self.garbage = 0

    def hello(self) -> bytes:
        """The HELLO probe (always the same bytes) — the only thing sent before a box has answered."""
        self.outstanding[HELLO_ID] = MsgType.HELLO
        return HELLO_PROBE

    def request(self, mtype: MsgType, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """Assign an id to a new request; returns it with the bytes to send."""
        if mtype not in MsgType or mtype >= 0x40:
            raise ValueError(f"{mtype!r} is not a request")
        msg_id = next(self._ids)
        if msg_id == HELLO_ID:
            msg_id = next(self._ids)
        data = encode_frame(encode_message(Message(mtype, msg_id, body or {})))
        self.outstanding[msg_id] = mtype
        return msg_id, data

    def forget(self, msg_id: int) -> None:
        """Give up on a request (timed out); a late answer is then reported as ``Garbage``."""
        self.outstanding.pop(msg_id, None)

    def receive(self, data: bytes) -> list[HostEvent]:
        out: list[HostEvent] = []
        for item in self._decoder.feed(data):
            out.append(self._event(item))
        self.garbage += sum(isinstance(e, Garbage) for e in out)
        return out

    def _event(self, item: Frame | FrameError) -> HostEvent:
        if isinstance(item, FrameError):
            return Garbage(item)
        try:
            msg = decode_message(item.body)
        except MessageError as exc:
            return Garbage(exc)
        if msg.is_event:
            return Notice(msg)
        if msg.type not in (MsgType.RESULT, MsgType.ERROR):
            return Garbage(f"unexpected {msg.type.name} from the box")
        request = self.outstanding.pop(msg.id, None)
        if request is None:
            return Garbage(f"answer to unknown request id {msg.id}")
        if msg.type is MsgType.ERROR:
            code: ErrorCode | int = msg["code"]
            with contextlib.suppress(ValueError):
                code = ErrorCode(code)
            return Failure(msg.id, request, code, msg["text"], msg.get("next"))
        return Response(msg.id, request, msg.body)


class DeviceSession:
    """The box's side: frames in → requests out; builds results, errors and events.

    A frame that decodes but is not a valid request is answered here and now (``ERROR`` with the
    request's id when it is known); such replies are queued in ``pending_replies`` for the caller
    to send. Frame-level garbage cannot be answered (its id is unknown): it is only counted.
    """

    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self.garbage = 0
        self.pending_replies: list[bytes] = []

    def receive(self, data: bytes) -> list[Message]:
        requests: list[Message] = []
        for item in self._decoder.feed(data):
            if isinstance(item, FrameError):
                self.garbage += 1
                continue
            try:
                msg = decode_message(item.body)
            except MessageError as exc:
                self.garbage += 1
                if exc.id:
                    self.pending_replies.append(self.fail(exc.id, exc.error, exc.text))
                continue
            if not msg.is_request:
                self.garbage += 1
                continue
            requests.append(msg)
        return requests

    def take_replies(self) -> bytes:
        """The automatic error replies queued by ``receive``, joined, and forget them."""
        data = b"".join(self.pending_replies)
        self.pending_replies.clear()
        return data

    @staticmethod
    def reply(request: Message | int, body: dict[str, Any] | None = None) -> bytes:
        msg_id = request if isinstance(request, int) else request.id
        return encode_frame(encode_message(Message(MsgType.RESULT, msg_id, body or {})))

    @staticmethod
    def fail(request: Message | int, code: ErrorCode, text: str, next_offset: int | None = None) -> bytes:
        msg_id = request if isinstance(request, int) else request.id
        body: dict[str, Any] = {"code": int(code), "text": text}
        if next_offset is not None:
            body["next"] = next_offset
        return encode_frame(encode_message(Message(MsgType.ERROR, msg_id, body)))

    @staticmethod
    def event(mtype: MsgType, body: dict[str, Any]) -> bytes:
        if mtype not in MsgType or not 0x40 <= mtype < 0x80:
            raise ValueError(f"{mtype!r} is not an event")
        return encode_frame(encode_message(Message(mtype, 0, body)))
