"""Can this machine reach a Kelaile cloud? One bounded check, its failure classified by layer.

Used by the box (emulator) to answer the host's cloud check and to report its last cloud error, and by
``klx provision`` as the host-side fallback for a box that cannot check for itself. Codes::

    CLOUD_DNS        network  the host name does not resolve
    CLOUD_CONNECT    network  no TCP connection (refused, no route, firewall)
    CLOUD_TLS        network  the TLS handshake failed (certificate, clock, proxy)
    CLOUD_TIMEOUT    network  connected or resolving, but no answer in time
    CLOUD_HTTP_<n>   cloud    the cloud answered with HTTP status n
    CLOUD_SIGNATURE  cloud    the cloud refused the device's signature (401)
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["HEALTH_PATH", "REMEDIES", "Reach", "check_cloud", "classify_exception", "classify_status"]

HEALTH_PATH = "/v1/health"  # unsigned; docs/cloud-api.md

REMEDIES = {
    "CLOUD_DNS": "check the cloud address and the shop router's DNS (is the box's network up?)",
    "CLOUD_CONNECT": "check the box's network cable/Wi-Fi and that the shop firewall lets it out to the cloud",
    "CLOUD_TLS": "check the box's clock and that no proxy intercepts HTTPS",
    "CLOUD_TIMEOUT": "the network is slow or filtered: check the shop's internet connection, then re-run",
    "CLOUD_SIGNATURE": "the box's credentials are not accepted: re-run klx provision with a new claim code",
    "CLOUD_HTTP": "the cloud refused the request: check the --cloud URL; if it is right, contact support",
}


@dataclass(frozen=True, slots=True)
class Reach:
    """The outcome of one check: ``ok``, or a ``code`` with its ``layer`` and a one-line ``detail``."""

    ok: bool
    code: str | None
    layer: str | None
    detail: str
    elapsed_s: float

    @property
    def remedy(self) -> str | None:
        if self.code is None:
            return None
        return REMEDIES.get(self.code) or REMEDIES["CLOUD_HTTP"]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "remedy": self.remedy}


def classify_status(status: int, error: str = "") -> tuple[str, str]:
    """``(code, layer)`` of an HTTP answer that is not a success."""
    if status == 401 and "signature" in error:
        return "CLOUD_SIGNATURE", "cloud"
    return f"CLOUD_HTTP_{status}", "cloud"


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """``(code, layer)`` of a transport failure (httpx or socket level)."""
    chain = _causes(exc)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "CLOUD_DNS", "network"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "CLOUD_TLS", "network"
    if any(isinstance(e, (httpx.TimeoutException, TimeoutError, socket.timeout)) for e in chain):
        return "CLOUD_TIMEOUT", "network"
    text = " ".join(str(e).lower() for e in chain)
    if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text:
        return "CLOUD_DNS", "network"
    if "ssl" in text or "certificate" in text:
        return "CLOUD_TLS", "network"
    return "CLOUD_CONNECT", "network"


def check_cloud(base_url: str, timeout_s: float = 8.0) -> Reach:
    """GET the cloud's health endpoint (unsigned) within ``timeout_s``; a cloud without one (404) is asked
    for its OpenAPI document instead, which any cloud of this API answers unsigned."""
    start = time.monotonic()
    host = urlsplit(base_url).hostname or base_url
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
    try:
        url = base_url.rstrip("/") + HEALTH_PATH
        response = httpx.get(url, timeout=timeout)
        if response.status_code == 404:
            url = base_url.rstrip("/") + "/openapi.json"
            response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        code, layer = classify_exception(exc)
        return Reach(False, code, layer, f"{host}: {exc or type(exc).__name__}", time.monotonic() - start)
    elapsed = time.monotonic() - start
    if response.status_code >= 400:
        code, layer = classify_status(response.status_code)
        return Reach(False, code, layer, f"{url} answered HTTP {response.status_code}", elapsed)
    return Reach(True, None, None, f"{host} answered in {elapsed * 1000:.0f} ms", elapsed)
