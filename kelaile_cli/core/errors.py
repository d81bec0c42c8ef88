"""The one error vocabulary of klx. Every error a user can see is a ``KlxError``; the CLI has one boundary
that prints it on one line and exits with its ``exit_code``.

::

    KlxError(message, remedy=, code=, layer=, next_command=)    what, what to do, where it happened
    ├── InputError                  exit 2: bad usage or input the user can fix (file, value, option)
    │   ├── ProfileError            a profile file (names file:line)           core/profiles/profile.py
    │   ├── RecordingError          a recording file (names file:line/offset)  core/formats/recording.py
    │   └── ImageRejected           a firmware image that fails its checks     core/box/firmware.py
    ├── JobError                    exit 1: the job failed (device, network, a check that did not pass)
    │   ├── DeviceError             the box or a port: cable/USB, box layer
    │   │   ├── PortError           a port that is missing, busy or not allowed (one mapping of OS errors)
    │   │   ├── DeviceTimeoutError       the box did not answer in time (typed: never matched by message text)
    │   │   └── BoxError            the box answered with an error code          services/box/client.py
    │   └── CloudError              the cloud: DNS, connect, TLS, HTTP status, signature
    │                                                                            services/cloud/client.py
    └── ProtocolError               exit 1: bytes or a message that break the box protocol (malformed CBOR,
                                    a missing field, a bad slot transition); the device answers them with
                                    an error code instead of crashing      core/box/messages.py, slots.py

``Refused`` (the box declining a request with a protocol error code) is a ``ProtocolError`` carrying that
code. ``code`` is a short stable identifier (``PORT_BUSY``, ``CLOUD_DNS``, ``PRINTER_OFFLINE``…) that scripts and
docs key on; ``layer`` is where the fault is (``cable``, ``box``, ``network``, ``cloud``, ``printer``, ``pos``,
``input``); ``next_command`` is the command to run next, when there is one.
"""

from __future__ import annotations

__all__ = [
    "DeviceError",
    "DeviceTimeoutError",
    "InputError",
    "JobError",
    "KlxError",
    "PortError",
    "ProtocolError",
]


class KlxError(Exception):
    """Base of every error klx reports to a user. ``exit_code`` follows the documented table."""

    exit_code = 1
    default_layer: str | None = None

    def __init__(
        self,
        message: str,
        *,
        remedy: str | None = None,
        code: str | None = None,
        layer: str | None = None,
        next_command: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.code = code
        self.layer = layer or self.default_layer
        self.next_command = next_command

    def __str__(self) -> str:
        return f"{self.message} ({self.remedy})" if self.remedy else self.message

    def as_dict(self) -> dict[str, str | int | None]:
        """The error as a JSON object (``--json`` output and event streams)."""
        return {
            "error": self.message,
            "code": self.code,
            "layer": self.layer,
            "remedy": self.remedy,
            "next": self.next_command,
            "exit_code": self.exit_code,
        }


class InputError(KlxError):
    """Bad usage or input the user can fix: a missing file, a broken value. Exit 2."""

    exit_code = 2
    default_layer = "input"


class JobError(KlxError):
    """The job itself failed (device, network, a check that did not pass). Exit 1."""

    exit_code = 1


class DeviceError(JobError):
    """The box or the port it hangs on failed."""

    default_layer = "box"


class PortError(DeviceError):
    """A port that does not exist, is busy, or may not be opened. Raised by the one serial opener."""

    default_layer = "cable"


class DeviceTimeoutError(DeviceError):
    """The device did not answer within its timeout."""


class ProtocolError(KlxError):
    """Bytes or a message that break the box protocol; ``code`` is the protocol's error code name."""

    exit_code = 1
    default_layer = "box"
