"""The cloud reachability check: the health endpoint of a real sandbox, the fallback for a cloud without
one, and the error codes of clouds that are down or broken."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from kelaile_cli.services.cloud.reach import HEALTH_PATH, check_cloud
from kelaile_cli.services.cloud.sandbox import running_cloud
from tests.doubles.bad_http import bad_http_server


@contextlib.contextmanager
def _old_cloud(openapi_status: int) -> Iterator[tuple[str, list[str]]]:
    """A cloud with no health endpoint (404) whose ``/openapi.json`` answers ``openapi_status``."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            status = openapi_status if self.path == "/openapi.json" else 404
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_the_sandbox_answers_its_health_endpoint_unsigned(tmp_path) -> None:
    with running_cloud(tmp_path / "cloud.sqlite") as cloud:
        body = httpx.get(cloud.url + HEALTH_PATH, timeout=5).json()
        reach = check_cloud(cloud.url, timeout_s=5)
    assert body["ok"] is True and body["time"] > 0
    assert reach.ok and reach.code is None


def test_a_cloud_without_health_is_asked_for_its_openapi_document() -> None:
    with _old_cloud(200) as (url, asked):
        reach = check_cloud(url, timeout_s=5)
    assert reach.ok
    assert asked == [HEALTH_PATH, "/openapi.json"]


def test_a_cloud_that_fails_both_is_reported_with_the_url_it_asked() -> None:
    with _old_cloud(503) as (url, _):
        reach = check_cloud(url, timeout_s=5)
    assert not reach.ok and reach.code is not None
    assert "/openapi.json" in reach.detail and "503" in reach.detail


def test_a_silent_cloud_times_out_and_a_dead_one_is_a_connect_error() -> None:
    with bad_http_server("silent") as port:
        silent = check_cloud(f"http://127.0.0.1:{port}", timeout_s=0.5)
    with bad_http_server("drop") as port:
        pass
    dead = check_cloud(f"http://127.0.0.1:{port}", timeout_s=2)
    assert (silent.ok, silent.code) == (False, "CLOUD_TIMEOUT")
    assert not dead.ok and dead.layer == "network"
