"""The box protocol's error codes and its one exception: ``Refused``, a ``ProtocolError`` carrying the code.

Where each fits in klx's hierarchy (core/errors.py):

- ``Refused(ProtocolError)``: the box declines a request; the device answers ``ERROR error text [next]``.
  ``error`` is the typed ``ErrorCode``, ``code`` its name (``BAD_STATE``…), ``next`` a resume offset.
- ``MessageError(Refused)``: bytes that decode to no valid message (core/box/messages.py); ``id`` is the
  request's when known, so the answer can name it.
- ``SlotError(Refused)``: a slot transition not allowed now (core/box/slots.py); ``state`` is the state to
  keep after the refusal when it changed (a failed verify invalidates the slot).
- On the host, an ``ERROR`` answer arrives as a ``session.Failure`` event (data, not an exception) and
  becomes ``BoxError(DeviceError)`` in services/box/client.py; a request with no answer in time is a
  ``DeviceTimeoutError``.
"""

from __future__ import annotations

from enum import IntEnum

from kelaile_cli.core.errors import ProtocolError

__all__ = ["ErrorCode", "Refused"]


class ErrorCode(IntEnum):
    """Typed error codes carried by ``ERROR`` (``code``); never reuse a number."""

    UNKNOWN_TYPE = 1  # the box does not know this request type
    BAD_PAYLOAD = 2  # a field is missing or has the wrong type
    BAD_VERSION = 3  # no common protocol version
    BAD_STATE = 4  # not now (e.g. FLASH_DATA without FLASH_BEGIN)
    BUSY = 5  # another operation is running
    BAD_CHUNK = 6  # a flash chunk's CRC or decompression failed
    BAD_OFFSET = 7  # a flash chunk outside the image
    TOO_LARGE = 8  # an image larger than a slot, a frame larger than allowed
    VERIFY_FAILED = 9  # the slot's hash is not the announced one
    REJECTED = 10  # the image is refused: signature, unknown key, wrong target, downgrade
    BAD_CONFIG = 11  # an unknown config key or an invalid value
    NOT_FOUND = 12  # e.g. an unknown profile
    UNSUPPORTED = 13  # e.g. a baud rate the box cannot do
    INTERNAL = 14  # the box failed; its log says why


class Refused(ProtocolError):  # noqa: N818  (a protocol answer, named for what the box does)
    """The box declines a request: answer ``ERROR error text`` (and ``next`` for flash data)."""

    def __init__(self, error: ErrorCode, text: str, next_offset: int | None = None) -> None:
        super().__init__(text, code=error.name)
        self.error = error
        self.text = text
        self.next = next_offset
