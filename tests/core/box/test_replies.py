"""Typed answers mirror the answer schemas; a body that breaks them is BAD_PAYLOAD, never a KeyError."""

from __future__ import annotations

from dataclasses import fields

import pytest

from kelaile_cli.core.box.errors import ErrorCode
from kelaile_cli.core.box.messages import ANSWER_SCHEMAS, SCHEMAS, Message, MessageError, MsgType, encode_message
from kelaile_cli.core.box.replies import Hello, Identity, SlotInfo, State

HELLO = {
    "version": 1, "model": "K1", "serial": "KLB01", "hw": "K1-r2", "fw": "1.4.0", "slot": "A",
    "caps": ["tap", "flash"], "max_frame": 8192, "bauds": [9600, 115200], "baud": 115200, "chunk": 4096,
    "window": 16,
}  # fmt: skip
IDENTITY = {
    "model": "K1", "serial": "KLB01", "hw": "K1-r2", "fw": "1.4.0", "active": "B", "trial": True,
    "slots": [{"name": "A", "state": "valid", "version": "1.3.0", "size": 10, "sha256": b"\x01\x02", "confirmed": True},
              {"name": "B", "state": "valid", "version": "1.4.0", "size": 12, "sha256": "ab", "confirmed": False}],
}  # fmt: skip
STATE = {
    "uptime": 3, "boot": {"slot": "A", "version": "1.4.0", "trial": False}, "links": {"host": {"baud": 9600}},
    "counters": {"receipts": 2}, "queue": 1, "last_errors": [], "tap": False,
}  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "request_type"), [(Hello, MsgType.HELLO), (Identity, MsgType.IDENTITY), (State, MsgType.STATE)]
)
def test_each_typed_answer_has_exactly_the_fields_of_its_schema(cls, request_type):
    assert [f.name for f in fields(cls)] == list(ANSWER_SCHEMAS[request_type])


def test_answers_round_trip_and_a_newer_box_may_add_fields():
    hello = Hello.from_body({**HELLO, "something_new": 1})
    assert hello.serial == "KLB01" and hello.caps == ["tap", "flash"] and hello.to_body() == HELLO
    ident = Identity.from_body(IDENTITY)
    assert ident.running == SlotInfo("B", "valid", "1.4.0", 12, "ab", False)
    assert ident.slots[0].sha256 == "0102"  # bytes from an older box read as hex
    state = State.from_body(STATE)
    assert (state.boot.version, state.counters["receipts"], state.queue) == ("1.4.0", 2, 1)
    assert State.from_body(state.to_body()) == state


@pytest.mark.parametrize(
    ("parse", "body", "needle"),
    [
        (Hello.from_body, {k: v for k, v in HELLO.items() if k != "serial"}, "missing field 'serial'"),
        (Hello.from_body, {**HELLO, "baud": True}, "'baud' must be int"),
        (Identity.from_body, {**IDENTITY, "trial": "yes"}, "'trial' must be bool"),
        (State.from_body, {**STATE, "queue": "1"}, "'queue' must be int"),
    ],
)
def test_a_broken_answer_is_bad_payload(parse, body, needle):
    with pytest.raises(MessageError, match=needle) as info:
        parse(body)
    assert info.value.error is ErrorCode.BAD_PAYLOAD


def test_flash_begin_downgrade_is_in_the_schema():
    assert SCHEMAS[MsgType.FLASH_BEGIN]["downgrade"] == ((bool,), False)
    body = {"header": b"h", "size": 1, "sha256": b"s" * 32}
    encode_message(Message(MsgType.FLASH_BEGIN, 1, {**body, "downgrade": True}))
    with pytest.raises(MessageError, match="'downgrade' must be bool"):
        encode_message(Message(MsgType.FLASH_BEGIN, 1, {**body, "downgrade": 1}))
