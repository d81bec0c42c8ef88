"""The box's uploader to a Kelaile cloud: claim once, then deliver queued transactions, signed.

Plugs into the box emulator's upload queue (``box_state.Uploader``): ``upload(item)`` returns the
cloud's answer when the transaction was stored (a retry of an item that was in fact stored is
answered the same, by its idempotency key), or ``None`` to keep the item queued for the box's next
round — a dead cloud never loses a transaction and never counts one twice. A transaction the cloud
refuses for good (a key reused with another body, an invalid body) is set aside in ``refused.jsonl``
and leaves the queue, so it cannot block the ones behind it. The device credentials
live in the box's state directory (``cloud.json``), so a power cycle does not re-register the box.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import KlxError
from kelaile_cli.services.cloud.client import CloudClient, CloudError, CloudRefusedError, Credentials, RetryPolicy
from kelaile_cli.transports.files import append_durable

__all__ = ["CREDENTIALS_FILE", "REFUSED_FILE", "CloudUploader"]

CREDENTIALS_FILE = "cloud.json"
REFUSED_FILE = "refused.jsonl"  # transactions the cloud refused for good, kept for support
BOX_MODEL = "KLX-BOX-EMU"


class CloudUploader:
    """Delivers a box's transactions to ``base_url``; ``answers`` keeps the last answers for display."""

    def __init__(
        self,
        base_url: str,
        state_dir: Path,
        serial: str,
        *,
        store: str | None = None,
        on_answer: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials_file = state_dir / CREDENTIALS_FILE
        self.refused_file = state_dir / REFUSED_FILE
        self.serial = serial
        self.store = store
        self.on_answer = on_answer
        self.on_error = on_error
        # few tries per round: the box's queue retries later, and its pipeline must not stall long
        self.client = CloudClient(self.base_url, retry=retry or RetryPolicy(attempts=3, base_s=0.05, cap_s=0.5))
        self._lock = threading.Lock()
        self.delivered = 0
        self.refused = 0
        self.last_error: str | None = None

    def _ensure_claimed(self) -> None:
        if self.client.credentials is not None:
            return
        if self.credentials_file.exists():
            saved = Credentials.load(self.credentials_file)
            if saved.cloud in (None, self.base_url):
                self.client.credentials = saved
                return
        creds = self.client.claim(self.serial, BOX_MODEL, self.store)
        Credentials(creds.device_id, creds.secret, creds.store, self.serial, self.base_url).save(self.credentials_file)

    def device_client(self) -> CloudClient:
        """The claimed device's client (claiming first if need be), for the box's other cloud calls (online
        orders); raises ``CloudError`` when the cloud is away."""
        with self._lock:
            self._ensure_claimed()
        return self.client

    @property
    def device_id(self) -> str | None:
        return self.client.credentials.device_id if self.client.credentials else None

    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:  # the box's pipeline and its retry loop may both offer items
            try:
                self._ensure_claimed()
                result = self.client.upload(item["body"], str(item["key"]))
            except CloudRefusedError as exc:
                # the cloud will never take this one (retrying cannot help): set it aside for support
                # instead of letting it block every transaction queued behind it
                self.last_error = str(exc)
                self._set_aside(item, self.last_error)
                if self.on_error is not None:
                    self.on_error(self.last_error)
                return {"refused": self.last_error}
            except (CloudError, KlxError) as exc:
                self.last_error = str(exc)
                if self.on_error is not None:
                    self.on_error(self.last_error)
                return None
            self.delivered += 1
            self.last_error = None
        if self.on_answer is not None:
            self.on_answer(item, result.answer)
        return result.answer

    def _set_aside(self, item: dict[str, Any], reason: str) -> None:
        line = json.dumps({"reason": reason, "item": item}, ensure_ascii=False) + "\n"
        append_durable(self.refused_file, line.encode("utf-8"))
        self.refused += 1

    def close(self) -> None:
        self.client.close()
