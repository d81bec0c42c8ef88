"""Messages of the box protocol: a 6-byte header and a CBOR map, checked against a per-type schema.

Body of a frame: ``version:u8 type:u8 id:u32le`` then the payload, a CBOR map (RFC 8949) with short
text keys. CBOR because payloads mix small integers, text and raw byte strings (tap data, flash
chunks) and grow optional fields over time: it is compact (a 4 KiB flash chunk costs 3 bytes of
framing), self-describing (an old host can skip a new field) and a maintained library (cbor2, C
accelerated) does the work; a fixed ``struct`` layout would need a version bump for every new field.

Requests carry an id chosen by the host (1..2**32-1); the box answers each with ``RESULT`` or
``ERROR`` bearing the same id. Events are unsolicited and carry id 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import cbor2

from kelaile_cli.core.box.errors import ErrorCode, Refused
from kelaile_cli.core.box.framing import MAX_BODY

__all__ = [
    "ANSWER_SCHEMAS",
    "EVENTS",
    "HEADER",
    "PROTOCOL_VERSION",
    "REQUESTS",
    "SCHEMAS",
    "ErrorCode",
    "Message",
    "MessageError",
    "MsgType",
    "check_answer",
    "decode_message",
    "encode_message",
]

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBI")


class MsgType(IntEnum):
    """Message types: requests 0x01-0x3F, events 0x40-0x7F, responses 0x80-0x81."""

    HELLO = 0x01
    PING = 0x02
    IDENTITY = 0x03
    CONFIG_GET = 0x04
    CONFIG_SET = 0x05
    PROFILE_UPLOAD = 0x06
    TAP = 0x07
    STATE = 0x08
    TEST_PRINT = 0x09
    REBOOT = 0x0A
    SET_BAUD = 0x0B
    CLOCK_SET = 0x0C
    CLOUD_CHECK = 0x0D
    FLASH_BEGIN = 0x10
    FLASH_DATA = 0x11
    FLASH_VERIFY = 0x12
    FLASH_ACTIVATE = 0x13
    FLASH_CONFIRM = 0x14
    FLASH_ABORT = 0x15
    EV_TAP = 0x40
    EV_STATE = 0x41
    EV_LOG = 0x42
    EV_BOOT = 0x43
    RESULT = 0x80
    ERROR = 0x81


REQUESTS = frozenset(t for t in MsgType if t < 0x40)
EVENTS = frozenset(t for t in MsgType if 0x40 <= t < 0x80)


# field -> (python types accepted, required). bytes fields are CBOR byte strings.
_Schema = dict[str, tuple[tuple[type, ...], bool]]
_INT, _STR, _BYTES, _BOOL, _MAP, _LIST = (int,), (str,), (bytes,), (bool,), (dict,), (list,)
SCHEMAS: dict[MsgType, _Schema] = {
    MsgType.HELLO: {"versions": (_LIST, True), "client": (_STR, False)},
    MsgType.PING: {},
    MsgType.IDENTITY: {},
    MsgType.CONFIG_GET: {"keys": (_LIST, False)},
    MsgType.CONFIG_SET: {"values": (_MAP, True)},
    MsgType.PROFILE_UPLOAD: {"name": (_STR, True), "yaml": (_BYTES, True), "activate": (_BOOL, False)},
    MsgType.TAP: {"on": (_BOOL, True)},
    MsgType.STATE: {},
    MsgType.TEST_PRINT: {"text": (_STR, False), "ticket": (_MAP, False)},
    MsgType.REBOOT: {},
    MsgType.SET_BAUD: {"baud": (_INT, True)},
    MsgType.CLOCK_SET: {"time": (_INT, True)},
    MsgType.CLOUD_CHECK: {"url": (_STR, False)},
    MsgType.FLASH_BEGIN: {
        "header": (_BYTES, True),
        "size": (_INT, True),
        "sha256": (_BYTES, True),
        "slot": (_STR, False),
        "downgrade": (_BOOL, False),  # the host's consent to an image older than the running one
    },
    MsgType.FLASH_DATA: {"offset": (_INT, True), "data": (_BYTES, True), "crc": (_INT, True), "z": (_BOOL, False)},
    MsgType.FLASH_VERIFY: {},
    MsgType.FLASH_ACTIVATE: {},
    MsgType.FLASH_CONFIRM: {},
    MsgType.FLASH_ABORT: {},
    MsgType.EV_TAP: {"seq": (_INT, True), "data": (_BYTES, True), "conn": (_INT, False)},
    MsgType.EV_STATE: {"state": (_MAP, True)},
    MsgType.EV_LOG: {"level": (_STR, True), "text": (_STR, True)},
    MsgType.EV_BOOT: {"slot": (_STR, True), "version": (_STR, True), "trial": (_BOOL, True)},
    MsgType.RESULT: {},  # free-form: the answer to the request with the same id
    MsgType.ERROR: {"code": (_INT, True), "text": (_STR, True), "next": (_INT, False)},
}


_FLOAT = (float, int)
# The RESULT of the requests whose answers the host reads field by field (core/box/replies.py mirrors them).
ANSWER_SCHEMAS: dict[MsgType, _Schema] = {
    MsgType.HELLO: {
        "version": (_INT, True),
        "model": (_STR, True),
        "serial": (_STR, True),
        "hw": (_STR, True),
        "fw": (_STR, True),
        "slot": (_STR, True),
        "caps": (_LIST, True),
        "max_frame": (_INT, True),
        "bauds": (_LIST, True),
        "baud": (_INT, True),
        "chunk": (_INT, True),
        "window": (_INT, True),
    },
    MsgType.IDENTITY: {
        "model": (_STR, True),
        "serial": (_STR, True),
        "hw": (_STR, True),
        "fw": (_STR, True),
        "active": (_STR, True),
        "trial": (_BOOL, True),
        "slots": (_LIST, True),
    },
    MsgType.STATE: {
        "uptime": (_FLOAT, True),
        "boot": (_MAP, True),
        "links": (_MAP, True),
        "counters": (_MAP, True),
        "queue": (_INT, True),
        "last_errors": (_LIST, True),
        "tap": (_BOOL, True),
        "answers": (_MAP, False),
        "orders": (_MAP, False),
        # a box with provisioning support (caps "clock", "claim", "printer-health"): docs/provisioning.md
        "clock": (_FLOAT, False),
        "cloud": (_MAP, False),
        "printer": (_MAP, False),
        "pos": (_MAP, False),
    },
}


class MessageError(Refused, ValueError):
    """A frame that is not a valid message; ``error`` is the code to answer with, ``id`` the request's if known."""

    def __init__(self, error: ErrorCode, text: str, msg_id: int = 0) -> None:
        super().__init__(error, text)
        self.id = msg_id


@dataclass(frozen=True, slots=True)
class Message:
    type: MsgType
    id: int = 0
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def is_request(self) -> bool:
        return self.type in REQUESTS

    @property
    def is_event(self) -> bool:
        return self.type in EVENTS

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


def _check(mtype: MsgType, body: dict[str, Any], msg_id: int) -> None:
    _check_fields(SCHEMAS[mtype], mtype.name, body, msg_id)


def _check_fields(schema: _Schema, what: str, body: dict[str, Any], msg_id: int) -> None:
    for name, (types, required) in schema.items():
        if name not in body:
            if required:
                raise MessageError(ErrorCode.BAD_PAYLOAD, f"{what}: missing field '{name}'", msg_id)
            continue
        value = body[name]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            want = " or ".join(t.__name__ for t in types)
            got = type(value).__name__
            raise MessageError(ErrorCode.BAD_PAYLOAD, f"{what}: field '{name}' must be {want}, not {got}", msg_id)


def check_answer(request: MsgType, body: dict[str, Any]) -> None:
    """``MessageError`` (BAD_PAYLOAD) if ``body``, the RESULT of ``request``, breaks its answer schema."""
    _check_fields(ANSWER_SCHEMAS.get(request, {}), f"answer to {request.name}", body, 0)


def encode_message(msg: Message) -> bytes:
    """The frame body of ``msg``; ``ValueError`` if it breaks its schema or the frame size."""
    _check(msg.type, msg.body, msg.id)
    if not 0 <= msg.id <= 0xFFFFFFFF:
        raise ValueError(f"message id {msg.id} out of range")
    body = HEADER.pack(PROTOCOL_VERSION, msg.type, msg.id) + cbor2.dumps(msg.body)
    if len(body) > MAX_BODY:
        raise ValueError(f"{msg.type.name} of {len(body)} bytes exceeds the frame maximum of {MAX_BODY}")
    return body


def decode_message(body: bytes) -> Message:
    """Parse a frame body; ``MessageError`` (with the code to answer) if it is not a valid message."""
    if len(body) < HEADER.size:
        raise MessageError(ErrorCode.BAD_PAYLOAD, f"message of {len(body)} bytes is shorter than its header")
    version, raw_type, msg_id = HEADER.unpack_from(body)
    if version != PROTOCOL_VERSION:
        # the version byte and the id stay where they are in every version: the answer can name the request
        why = f"protocol version {version}, this side speaks {PROTOCOL_VERSION}"
        raise MessageError(ErrorCode.BAD_VERSION, why, msg_id)
    try:
        mtype = MsgType(raw_type)
    except ValueError:
        raise MessageError(ErrorCode.UNKNOWN_TYPE, f"unknown message type 0x{raw_type:02x}", msg_id) from None
    try:
        payload = cbor2.loads(body[HEADER.size :]) if len(body) > HEADER.size else {}
    except Exception as exc:  # untrusted bytes: any failure of the CBOR decoder is a bad payload
        raise MessageError(ErrorCode.BAD_PAYLOAD, f"{mtype.name}: payload is not CBOR ({exc})", msg_id) from None
    if not isinstance(payload, dict) or not all(isinstance(k, str) for k in payload):
        raise MessageError(ErrorCode.BAD_PAYLOAD, f"{mtype.name}: payload is not a map with text keys", msg_id)
    _check(mtype, payload, msg_id)
    return Message(mtype, msg_id, payload)
