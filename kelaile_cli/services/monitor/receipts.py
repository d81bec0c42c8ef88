"""Tap bytes → receipt events, with the library code ``klx show`` and ``klx detect`` use."""

from __future__ import annotations

import time
from typing import Any

from kelaile_cli.core.cloud.protocol import receipt_digest
from kelaile_cli.core.profiles.analysis import analyse
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import PrintStream
from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["TapDecoder", "receipt_data"]


def receipt_data(receipt: Receipt, detector: Detector | None, raw: bytes | None = None) -> dict[str, Any]:
    """A receipt event's data: the text as on paper, the POS that printed it, its QR codes and cut, and
    (given the connection's bytes) the digest the box sends as ``receipt_sha256`` — the cloud's stored
    transaction is matched to the receipt by it."""
    identity = analyse(receipt, detector).identity() if detector is not None else {}
    tx = identity.get("transaction")
    return {
        "text": render_text(receipt, markers=False),
        "profile": identity.get("profile"),
        "recognised": identity.get("profile") is not None,
        "kind": identity.get("kind"),
        "qr": [c.data for c in receipt.codes if "qr" in c.symbology.lower()],
        "cut": receipt.cut,
        "transaction": tx,
        "sha256": receipt_digest(raw[receipt.start : receipt.end]) if raw is not None else None,
    }


class TapDecoder:
    """Feeds a box's tap (``EV_TAP`` data, one stream per POS connection) and returns finished receipts."""

    def __init__(self, detector: Detector | None) -> None:
        self.detector = detector
        self._conn: int | None = None
        self._stream = PrintStream()
        self._raw = bytearray()  # this connection's bytes: receipts' offsets point into it

    def feed(self, data: bytes, conn: int | None = None, now: float | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if conn is not None and conn != self._conn:
            if self._conn is not None:
                out += self.close()
            self._conn = conn
        self._raw += data
        found = self._stream.feed(data, time.time() if now is None else now)
        return out + [receipt_data(r, self.detector, bytes(self._raw)) for r in found]

    def close(self) -> list[dict[str, Any]]:
        found = self._stream.close()
        raw = bytes(self._raw)
        self._stream, self._raw = PrintStream(), bytearray()
        return [receipt_data(r, self.detector, raw) for r in found]
