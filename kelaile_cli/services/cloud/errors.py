"""The cloud's errors: one ``CloudError`` family inside the hierarchy of ``core/errors``.

Every error carries a stable ``code`` and the ``layer`` the fault is in, so callers (``klx provision``,
reports) can tell "this shop's network" from "the cloud said no" without reading messages:

================  ===========  ==========================================================  ==========
code              layer        meaning                                                     retried
================  ===========  ==========================================================  ==========
CLOUD_DNS         network      the cloud's host name does not resolve                      yes
CLOUD_CONNECT     network      no TCP connection (refused, unreachable, no route)          yes
CLOUD_TLS         network      TLS handshake or certificate failed                         no
CLOUD_TIMEOUT     network      connected, but no answer in time                            yes
CLOUD_DROPPED     network      the connection closed before the answer was complete        yes
CLOUD_SIGNATURE   cloud        401: unsigned, bad or stale signature, replayed nonce      no
CLOUD_HTTP_<n>    cloud        any other non-2xx answer (5xx and 429 are retried)          5xx, 429
CLOUD_BAD_ANSWER  cloud        a 2xx answer that is not the JSON the API documents         no
================  ===========  ==========================================================  ==========

The classes say what to do: ``CloudUnreachableError`` (fix the network or the address),
``CloudUnavailableError`` (the cloud is there but failing: retry later), ``CloudAuthError`` (claim
again or fix the clock), ``CloudRefusedError`` (the request itself is wrong). ``kind`` is the short
name reports group by.
"""

from __future__ import annotations

from kelaile_cli.core.errors import JobError

__all__ = [
    "RETRIED_CODES",
    "CloudAuthError",
    "CloudError",
    "CloudRefusedError",
    "CloudUnavailableError",
    "CloudUnreachableError",
    "http_code",
    "transport_error",
]

RETRIED_CODES = frozenset({"CLOUD_DNS", "CLOUD_CONNECT", "CLOUD_TIMEOUT", "CLOUD_DROPPED"})
_NETWORK_CODES = RETRIED_CODES | {"CLOUD_TLS"}


class CloudError(JobError):
    """A request the cloud did not accept or never answered.

    ``status`` is the HTTP status when there was an answer; ``cloud_error`` the API's own short error
    string (``"unknown device"``, ``"idempotency conflict"``…) when the answer carried one.
    """

    kind = "cloud"
    default_layer = "cloud"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        remedy: str | None = None,
        status: int | None = None,
        cloud_error: str = "",
        next_command: str | None = None,
    ) -> None:
        layer = "network" if code in _NETWORK_CODES else "cloud"
        super().__init__(message, remedy=remedy, code=code, layer=layer, next_command=next_command)
        self.status = status
        self.cloud_error = cloud_error

    @property
    def retried(self) -> bool:
        """Whether the client tries such a failure again (network trouble, 5xx, 429)."""
        return self.code in RETRIED_CODES or self.status in (429, 500, 502, 503, 504)


class CloudUnreachableError(CloudError):
    """No connection could be made: DNS, TCP connect or TLS."""

    kind = "unreachable"


class CloudUnavailableError(CloudError):
    """Connected, but no good answer (5xx, timeouts, dropped answers, an answer that is not JSON)."""

    kind = "unavailable"


class CloudAuthError(CloudError):
    """The cloud does not accept these credentials (bad/stale/replayed signature, unknown device)."""

    kind = "credentials"


class CloudRefusedError(CloudError):
    """The cloud understood and refused the request (key reused with another body, invalid body, too large)."""

    kind = "refused"


def http_code(status: int) -> str:
    """The error code of a non-2xx answer: ``CLOUD_SIGNATURE`` for 401, else ``CLOUD_HTTP_<status>``."""
    return "CLOUD_SIGNATURE" if status == 401 else f"CLOUD_HTTP_{status}"


def transport_error(code: str, detail: str) -> CloudError:
    """What a transport raises when a request got no answer: ``code`` is one of the network codes."""
    if code not in _NETWORK_CODES:
        raise ValueError(f"not a network error code: {code}")
    cls = CloudUnreachableError if code in ("CLOUD_DNS", "CLOUD_CONNECT", "CLOUD_TLS") else CloudUnavailableError
    return cls(detail, code=code)
