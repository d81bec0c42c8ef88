"""Issue 13 (8–12): the sandbox cannot be flooded or tricked — body limits, slowloris timeouts, bad timestamps,
another device's order, undecodable claim bodies. Real sockets against a real server."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time

import httpx
import pytest

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.services.cloud.client import CloudClient, CloudRefusedError
from kelaile_cli.services.cloud.sandbox import RunningCloud, running_cloud
from kelaile_cli.services.cloud.sandbox.app import CloudConfig
from kelaile_cli.services.cloud.sandbox.limits import MAX_BODY
from tests.services.cloud.sandbox.conftest import body, key_of


def _read_answer(sock: socket.socket, deadline_s: float) -> bytes:
    """What the server sent until it closed the connection or ``deadline_s`` passed."""
    sock.settimeout(0.2)
    got, end = b"", time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    return got


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_a_declared_oversized_body_is_refused_before_it_is_sent(cloud: RunningCloud) -> None:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000000\r\n\r\n")  # fmt: skip
        answer = _read_answer(sock, 3.0)  # not one body byte sent: the answer cannot wait for them
    assert _status(answer) == 413 and b"too large" in answer and str(MAX_BODY).encode() in answer


def test_a_streamed_body_is_cut_off_at_the_limit_and_nothing_is_stored(tmp_path) -> None:
    with running_cloud(tmp_path / "c.sqlite", config=CloudConfig(max_body=4096)) as cloud:
        with CloudClient(cloud.url) as client:
            creds = client.claim("SN-1", "m")
        path = f"/v1/devices/{creds.device_id}/heartbeat"
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()  # fmt: skip
        chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
        sent, answer = 0, b""
        with socket.create_connection(("127.0.0.1", cloud.port), timeout=5) as sock:
            sock.sendall(head)
            try:
                while sent < 64 * 1024 * 1024 and not select.select([sock], [], [], 0)[0]:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the server closed the connection: it stopped reading, as it should
            answer = _read_answer(sock, 3.0)
        stats = cloud.storage.stats()
    assert _status(answer) == 413
    assert sent < 64 * 1024 * 1024  # answered long before the stream ended (the server did not read it all)
    assert stats["heartbeats"] == 0


def test_a_signed_body_over_the_limit_is_refused_not_stored(tmp_path) -> None:
    with running_cloud(tmp_path / "c.sqlite", config=CloudConfig(max_body=4096)) as cloud, CloudClient(cloud.url) as c:
        c.claim("SN-1", "m")
        with pytest.raises(CloudRefusedError) as info:
            c.heartbeat({"pad": "x" * 5000})
        c.heartbeat({"pad": "x" * 3000})  # under the limit: fine
        assert c.devices()[0]["heartbeats"] == 1
    assert info.value.status == 413 and info.value.code == "CLOUD_HTTP_413"


def test_slow_headers_and_slow_bodies_are_closed_in_bounded_time_without_blocking_others(tmp_path) -> None:
    config = CloudConfig(header_timeout_s=1.0, body_timeout_s=1.0)
    with running_cloud(tmp_path / "c.sqlite", config=config) as cloud:
        slow_headers = [socket.create_connection(("127.0.0.1", cloud.port), timeout=5) for _ in range(40)]
        slow_bodies = [socket.create_connection(("127.0.0.1", cloud.port), timeout=5) for _ in range(10)]
        idle = [socket.create_connection(("127.0.0.1", cloud.port), timeout=5) for _ in range(10)]
        for sock in slow_headers:
            sock.sendall(b"POST /v1/devices/claim HTTP/1.1\r\nHost: x\r\n")
        for sock in slow_bodies:
            sock.sendall(b"POST /v1/devices/claim HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        open_ = set(slow_headers + slow_bodies + idle)
        answers: dict[socket.socket, bytes] = {}
        served_meanwhile = None
        for tick in range(30):  # 30 × 0.2 s: each slow client trickles one more byte per tick
            for sock in list(open_):
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-a: b\r\n" if sock in slow_headers else b" " if sock in slow_bodies else b"")
            if tick == 2:  # a well-behaved client is served while the slow ones hang on
                t0 = time.monotonic()
                with CloudClient(cloud.url, timeout=2.0) as client:
                    client.claim("SN-OK", "m")
                served_meanwhile = time.monotonic() - t0
            readable, _, _ = select.select(list(open_), [], [], 0.2)
            for sock in readable:
                answers[sock] = _read_answer(sock, 0.5)
                open_.discard(sock)
            if not open_:
                break
        elapsed = time.monotonic() - started
        for sock in slow_headers + slow_bodies + idle:
            sock.close()
    assert not open_, f"{len(open_)} slow connections still open after {elapsed:.1f} s"
    assert elapsed < 5.0
    assert served_meanwhile is not None and served_meanwhile < 1.0
    assert all(answers[s] == b"" for s in slow_headers + idle)  # closed without a word: no request to answer
    assert all(_status(answers[s]) == 408 for s in slow_bodies)


def test_a_400_digit_timestamp_is_a_clear_401(device: CloudClient, cloud: RunningCloud) -> None:
    creds = device.credentials
    raw = json.dumps(body(1)).encode()
    headers = cp.signed_headers(creds.device_id, creds.secret, "POST", "/v1/transactions", int(time.time()), raw,
                                key_of(creds, 1), "n-ts")  # fmt: skip
    for stamp in ("9" * 400, "-5", "1e9", "+1700000000", "1_700_000_000"):
        headers[cp.HEADER_TIMESTAMP] = stamp
        answer = httpx.post(f"{cloud.url}/v1/transactions", content=raw, headers=headers, timeout=5)
        assert answer.status_code == 401, stamp
        assert answer.json()["error"] == "bad timestamp" and "Unix seconds" in answer.json()["detail"]
        assert len(answer.json()["detail"]) < 120  # the 400 digits are not echoed back


def test_a_device_cannot_read_another_devices_order(device: CloudClient, cloud: RunningCloud) -> None:
    order = device.upload(body(5, kind="pre_bill"), key_of(device.credentials, 5)).answer["order_no"]
    assert device.payment_status(order)["status"] == "pending"
    with CloudClient(cloud.url) as other:
        other.claim("SN-OTHER", "m")
        with pytest.raises(CloudRefusedError) as info:
            other.payment_status(order)
    assert info.value.status == 404 and info.value.cloud_error == "unknown order"


@pytest.mark.parametrize("raw", [b'{"serial": "\xff\xfe", "model": "m"}', b"\x80\x81", b"{not json"])
def test_an_undecodable_claim_body_is_422_as_documented(cloud: RunningCloud, raw: bytes) -> None:
    answer = httpx.post(f"{cloud.url}/v1/devices/claim", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"] == "invalid body"


def test_a_signed_5_mb_heartbeat_is_refused_at_the_default_limit(device: CloudClient, cloud: RunningCloud) -> None:
    with pytest.raises(CloudRefusedError) as info:
        device.heartbeat({"pad": "x" * 5_000_000})
    assert info.value.status == 413 and str(MAX_BODY) in str(info.value)
    assert cloud.storage.stats()["heartbeats"] == 0
