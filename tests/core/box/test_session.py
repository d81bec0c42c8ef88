"""Messages and sessions: schemas, typed errors, request/response matching, events, the HELLO probe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelaile_cli.core.box.framing import FrameDecoder, encode_frame
from kelaile_cli.core.box.messages import (
    HEADER,
    ErrorCode,
    Message,
    MessageError,
    MsgType,
    decode_message,
    encode_message,
)
from kelaile_cli.core.box.session import (
    HELLO_PROBE,
    DeviceSession,
    Failure,
    Garbage,
    HostSession,
    Notice,
    Response,
)


def test_message_roundtrip_keeps_type_id_and_typed_fields():
    msg = Message(MsgType.FLASH_DATA, 77, {"offset": 4096, "data": b"\x00\xff" * 10, "crc": 123, "z": True})
    back = decode_message(encode_message(msg))
    assert back == msg
    assert isinstance(back["data"], bytes)


@pytest.mark.parametrize(
    ("body", "needle"),
    [({"data": b"x", "crc": 1}, "missing field 'offset'"), ({"offset": "0", "data": b"x", "crc": 1}, "must be int")],
)
def test_schema_violations_are_bad_payload_with_the_request_id(body, needle):
    raw = HEADER.pack(1, MsgType.FLASH_DATA, 9) + __import__("cbor2").dumps(body)
    with pytest.raises(MessageError, match=needle) as info:
        decode_message(raw)
    assert info.value.error is ErrorCode.BAD_PAYLOAD and info.value.id == 9


def test_bool_is_not_an_int_and_unknown_type_and_version_are_typed():
    with pytest.raises(ValueError, match="must be int"):
        encode_message(Message(MsgType.SET_BAUD, 1, {"baud": True}))
    with pytest.raises(MessageError) as info:
        decode_message(HEADER.pack(1, 0x3E, 5))
    assert info.value.error is ErrorCode.UNKNOWN_TYPE and info.value.id == 5
    with pytest.raises(MessageError) as info:
        decode_message(HEADER.pack(9, MsgType.PING, 5))
    assert info.value.error is ErrorCode.BAD_VERSION and info.value.id == 5


@given(st.binary(max_size=200))
def test_random_bodies_are_messages_or_message_errors(raw: bytes):
    try:
        decode_message(raw)
    except MessageError as exc:
        assert isinstance(exc.error, ErrorCode) and exc.code == exc.error.name


def test_request_response_matching_out_of_order_with_events_between():
    host, box = HostSession(), DeviceSession()
    a, wire_a = host.request(MsgType.STATE)
    b, wire_b = host.request(MsgType.CONFIG_GET, {"keys": ["store"]})
    assert a != b
    reqs = box.receive(wire_a + wire_b)
    assert [(r.type, r.id) for r in reqs] == [(MsgType.STATE, a), (MsgType.CONFIG_GET, b)]
    back = (
        box.reply(reqs[1], {"config": {"store": "S1"}})
        + box.event(MsgType.EV_LOG, {"level": "info", "text": "hi"})
        + box.fail(reqs[0], ErrorCode.BUSY, "busy")
    )
    events = host.receive(back)
    assert events[0] == Response(b, MsgType.CONFIG_GET, {"config": {"store": "S1"}})
    assert isinstance(events[1], Notice) and events[1].message["text"] == "hi"
    assert events[2] == Failure(a, MsgType.STATE, ErrorCode.BUSY, "busy")
    assert host.outstanding == {}


def test_late_or_duplicate_answers_are_garbage_not_crashes():
    host = HostSession()
    rid, _ = host.request(MsgType.PING)
    host.forget(rid)
    (ev,) = host.receive(DeviceSession.reply(rid))
    assert isinstance(ev, Garbage) and "unknown request" in str(ev)
    assert host.garbage == 1


def test_device_answers_invalid_requests_itself_and_counts_frame_garbage():
    box = DeviceSession()
    bad = encode_frame(HEADER.pack(1, MsgType.SET_BAUD, 42) + __import__("cbor2").dumps({"baud": "fast"}))
    assert box.receive(b"\x01\x02junk\x00" + bad) == []
    assert box.garbage == 2
    host = HostSession()
    host.outstanding[42] = MsgType.SET_BAUD
    (ev,) = host.receive(box.take_replies())
    assert isinstance(ev, Failure) and ev.code is ErrorCode.BAD_PAYLOAD and "baud" in ev.text
    assert box.take_replies() == b""


def test_hello_probe_is_fixed_and_harmless_to_an_escpos_printer():
    host = HostSession()
    assert host.hello() == HELLO_PROBE == HostSession().hello()
    # no command introducer (ESC GS FS DLE), no paper movement (LF CR FF HT), no cancel/bell
    forbidden = {0x07, 0x09, 0x0A, 0x0C, 0x0D, 0x10, 0x18, 0x1B, 0x1C, 0x1D}
    assert not forbidden & set(HELLO_PROBE)
    assert len(HELLO_PROBE) <= 40
    (frame,) = FrameDecoder().feed(HELLO_PROBE)
    msg = decode_message(frame.body)  # type: ignore[union-attr]
    assert msg.type is MsgType.HELLO and msg["versions"] == [1]


def test_events_and_requests_are_not_confused():
    with pytest.raises(ValueError, match="not a request"):
        HostSession().request(MsgType.EV_TAP, {"seq": 1, "data": b""})
    with pytest.raises(ValueError, match="not an event"):
        DeviceSession.event(MsgType.PING, {})


_events = st.one_of(
    st.builds(lambda s, d: (MsgType.EV_TAP, {"seq": s, "data": d}), st.integers(0, 2**32), st.binary(max_size=300)),
    st.builds(lambda t: (MsgType.EV_LOG, {"level": "info", "text": t}), st.text(max_size=50)),
)


@given(st.lists(st.one_of(_events, st.just("answer")), min_size=1, max_size=12), st.data())
def test_any_mix_of_answers_and_events_under_any_chunking_reaches_the_host_intact(items, data):
    host = HostSession()
    wire, expected = b"", []
    for item in items:
        if item == "answer":
            rid, _ = host.request(MsgType.STATE)
            wire += DeviceSession.reply(rid, {"queue": rid})
            expected.append(("answer", rid))
        else:
            wire += DeviceSession.event(*item)
            expected.append((item[0], item[1]))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        for ev in host.receive(wire[a:b]):
            if isinstance(ev, Response):
                assert ev.body == {"queue": ev.id}
                got.append(("answer", ev.id))
            else:
                assert isinstance(ev, Notice)
                got.append((ev.message.type, ev.message.body))
    assert got == expected
    assert host.outstanding == {} and host.garbage == 0
