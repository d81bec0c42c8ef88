"""The transport interface: the client signs and retries once for every transport; failures get codes."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

import httpx
import pytest

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.errors import JobError
from kelaile_cli.services.cloud.client import (
    AsyncCloudClient,
    CloudClient,
    CloudError,
    CloudUnavailableError,
    CloudUnreachableError,
    Credentials,
    RetryEvent,
    RetryPolicy,
)
from kelaile_cli.services.cloud.errors import transport_error
from kelaile_cli.services.cloud.transport import AsyncHttpxTransport, HttpRequest, HttpResponse, network_code
from kelaile_cli.services.replay.http import AiohttpTransport, aiohttp_error
from tests.doubles.bad_http import bad_http_server
from tests.services.cloud.sandbox.conftest import body, key_of

FAST = RetryPolicy(attempts=3, base_s=0.001, cap_s=0.002)


class Scripted:
    """A transport that records what the client sends and answers from a script (no network)."""

    def __init__(self, answers: list[HttpResponse | CloudError]) -> None:
        self.answers, self.sent = answers, []

    def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, CloudError):
            raise answer
        return answer

    def close(self) -> None:
        pass


def _ok(doc: bytes) -> HttpResponse:
    return HttpResponse(201, {"content-type": "application/json"}, doc)


def test_the_client_signs_every_attempt_afresh_and_retries_through_any_transport() -> None:
    answer = b'{"transaction_id":"tx_1","duplicate":false,"answer":{"qr":"q"}}'
    transport = Scripted([transport_error("CLOUD_DROPPED", "reset"), HttpResponse(503, {}, b"{}"), _ok(answer)])
    events: list[RetryEvent] = []
    device = Credentials("dev_1", "s3cret")
    with CloudClient("http://cloud.example/base", device, retry=FAST, on_retry=events.append,
                     transport=transport) as client:  # fmt: skip
        result = client.upload(body(1), "key-1")
    assert result.transaction_id == "tx_1" and result.attempts == 3
    assert [e.reason for e in events] == ["dropped", "http 503"]
    nonces = {r.headers[cp.HEADER_NONCE] for r in transport.sent}
    assert len(nonces) == 3 and all(r.headers[cp.HEADER_IDEMPOTENCY] == "key-1" for r in transport.sent)
    for sent in transport.sent:  # each attempt verifies under the secret, with the base URL's path signed
        assert sent.url == "http://cloud.example/base/v1/transactions"
        stamp = int(sent.headers[cp.HEADER_TIMESTAMP])
        assert cp.verify("s3cret", "POST", "/base/v1/transactions", stamp, sent.body, sent.headers[cp.HEADER_SIGNATURE],
                         stamp, sent.headers[cp.HEADER_NONCE], "key-1") is None  # fmt: skip


def test_tls_failures_and_refusals_are_not_retried() -> None:
    transport = Scripted([transport_error("CLOUD_TLS", "certificate verify failed")])
    with CloudClient("https://c", retry=FAST, transport=transport) as client, pytest.raises(CloudUnreachableError) as e:
        client.claim("SN", "m")
    assert e.value.code == "CLOUD_TLS" and e.value.layer == "network" and len(transport.sent) == 1
    refusal = HttpResponse(413, {}, b'{"error":"too large","detail":"over 262144 bytes"}')
    transport = Scripted([refusal])
    with CloudClient("http://c", retry=FAST, transport=transport) as client, pytest.raises(CloudError) as e:
        client.claim("SN", "m")
    assert (e.value.code, e.value.layer, e.value.status, e.value.cloud_error) == ("CLOUD_HTTP_413", "cloud", 413,
                                                                                   "too large")  # fmt: skip
    assert isinstance(e.value, JobError) and e.value.exit_code == 1 and len(transport.sent) == 1


def test_an_answer_that_is_not_json_is_a_bad_answer() -> None:
    with bad_http_server("garbage") as port:
        client = CloudClient(f"http://127.0.0.1:{port}", retry=FAST)
        with client, pytest.raises(CloudUnavailableError) as e:
            client.claim("SN", "m")
    assert e.value.code == "CLOUD_BAD_ANSWER" and "no JSON" in str(e.value)


def _sync_httpx(url: str, timeout: float, events: list[RetryEvent]) -> Callable[[], object]:
    client = CloudClient(url, retry=FAST, timeout=timeout, on_retry=events.append)

    def run() -> object:
        with client:
            return client.claim("SN", "m")

    return run


def _async_with(make: Callable[[float], object]) -> Callable[[str, float, list[RetryEvent]], Callable[[], object]]:
    def factory(url: str, timeout: float, events: list[RetryEvent]) -> Callable[[], object]:
        async def go() -> object:
            async with AsyncCloudClient(url, retry=FAST, timeout=timeout, on_retry=events.append,
                                        transport=make(timeout), owns_transport=True) as cloud:  # type: ignore[arg-type]  # fmt: skip
                return await cloud.claim("SN", "m")

        return lambda: asyncio.run(go())

    return factory


FLAVOURS = {
    "httpx": _sync_httpx,
    "httpx-async": _async_with(AsyncHttpxTransport),
    "aiohttp": _async_with(lambda t: AiohttpTransport.open(4, t)),
}


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("mode", "scheme", "code", "reasons"),
    [
        ("silent", "http", "CLOUD_TIMEOUT", ["timeout", "timeout"]),
        ("drop", "http", "CLOUD_DROPPED", ["dropped", "dropped"]),
        ("plain", "https", "CLOUD_TLS", []),
    ],
)
def test_every_transport_classifies_real_network_failures_alike(
    flavour: str, mode: str, scheme: str, code: str, reasons: list[str]
) -> None:
    events: list[RetryEvent] = []
    with bad_http_server(mode) as port:
        run = FLAVOURS[flavour](f"{scheme}://127.0.0.1:{port}", 0.3, events)
        with pytest.raises(CloudError) as e:
            run()
    assert e.value.code == code and e.value.layer == "network", str(e.value)
    assert [ev.reason for ev in events] == reasons


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_transport_reports_a_closed_port_as_connect(flavour: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    events: list[RetryEvent] = []
    with pytest.raises(CloudUnreachableError) as e:
        FLAVOURS[flavour](f"http://127.0.0.1:{port}", 1.0, events)()
    assert e.value.code == "CLOUD_CONNECT" and [ev.reason for ev in events] == ["connect", "connect"]


def test_dns_and_tls_are_recognised_anywhere_in_the_cause_chain() -> None:
    # No real DNS lookups (tests send nothing beyond 127.0.0.1): the OS errors are raised as a resolver would.
    def chained(inner: BaseException, outer: Exception) -> Exception:
        try:
            try:
                raise inner
            except BaseException as exc:
                raise outer from exc
        except Exception as caught:
            return caught

    gai = chained(socket.gaierror(-2, "Name or service not known"), httpx.ConnectError("x"))
    assert network_code(gai, connecting=True) == "CLOUD_DNS"
    tls = chained(ssl.SSLCertVerificationError(1, "certificate verify failed"), httpx.ConnectError("x"))
    assert network_code(tls, connecting=True) == "CLOUD_TLS"
    assert network_code(httpx.ConnectError("refused"), connecting=True) == "CLOUD_CONNECT"
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    key = ConnectionKey("cloud.invalid", 443, True, True, None, None, None)
    dns = aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))
    assert aiohttp_error(dns).code == "CLOUD_DNS"
    assert aiohttp_error(TimeoutError()).code == "CLOUD_TIMEOUT"
    assert aiohttp_error(aiohttp.ServerDisconnectedError()).code == "CLOUD_DROPPED"


def test_client_codes_live_in_the_one_hierarchy(tmp_path) -> None:
    from kelaile_cli.services.cloud.sandbox import running_cloud

    with running_cloud(tmp_path / "c.sqlite") as cloud, CloudClient(cloud.url, retry=FAST) as client:
        creds = client.claim("SN-1", "m")
        liar = CloudClient(cloud.url, type(creds)(creds.device_id, "wrong"), retry=FAST)
        with liar, pytest.raises(CloudError) as e:
            liar.upload(body(1), key_of(creds, 1))
    assert (e.value.code, e.value.layer, e.value.status, e.value.kind) == ("CLOUD_SIGNATURE", "cloud", 401,
                                                                            "credentials")  # fmt: skip
    assert e.value.as_dict()["code"] == "CLOUD_SIGNATURE"
