"""``klx replay`` as a Locust user class, so Locust's (distributed) workers scale the same replay.

Needs the ``load`` extra (``pip install 'kelaile-cli[load]'``). Each Locust user is one simulated store:
it claims its own device, then uploads the recordings' receipts — decoded, detected and extracted by the
same ``workload`` code as ``klx replay``, signed by ``core/cloud/protocol`` — one pass after another, each
pass a new occurrence in the idempotency key; a failed attempt (5xx, dropped connection) is retried with
the same key, and every retry is its own entry (``POST /v1/transactions [retry]``) in Locust's stats::

    KLX_REPLAY_RECORDINGS=recordings KLX_REPLAY_USER_RATE=10 \\
      locust -f kelaile_cli/services/replay/locust_user.py --headless -u 100 -r 100 -t 60s \\
             --host http://127.0.0.1:8787          # 100 stores × 10 uploads/s = 1,000/s

``KLX_REPLAY_RECORDINGS``: files/directories (``os.pathsep``-separated; default ``recordings``);
``KLX_REPLAY_USER_RATE``: uploads per second per user (0 = as fast as answers come; default 1);
``KLX_REPLAY_ATTEMPTS``: tries per upload (default 6).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any, cast

from locust import FastHttpUser, constant, constant_throughput, task

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.replay.workload import Item, load_workload

__all__ = ["ReplayUser", "items"]

_TRANSACTIONS = f"{cp.API_PREFIX}/transactions"
_store_numbers = itertools.count(1)
_items: list[Item] | None = None


def items() -> list[Item]:
    """The replayable receipts of ``KLX_REPLAY_RECORDINGS``, loaded once per Locust process."""
    global _items  # noqa: PLW0603  (one workload per process, shared by all its users)
    if _items is None:
        paths = [Path(p) for p in os.environ.get("KLX_REPLAY_RECORDINGS", "recordings").split(os.pathsep) if p]
        work = load_workload(paths, Detector(load_profiles().profiles))
        for problem in work.problems:
            print(f"klx replay (locust): {problem.line()}")
        if not work.items:
            raise SystemExit("klx replay (locust): nothing to replay in KLX_REPLAY_RECORDINGS")
        _items = work.items
    return _items


def _rate() -> float:
    return float(os.environ.get("KLX_REPLAY_USER_RATE", "1"))


class ReplayUser(FastHttpUser):
    """One simulated store replaying the recordings against ``--host`` (a Kelaile cloud)."""

    wait_time = constant_throughput(_rate()) if _rate() > 0 else constant(0)
    attempts = int(os.environ.get("KLX_REPLAY_ATTEMPTS", "6"))

    def on_start(self) -> None:
        self.store = next(_store_numbers)
        serial = f"locust-{os.getpid()}-{secrets.token_hex(3)}-{self.store:04d}"
        claim = {"serial": serial, "model": "klx-locust", "store": f"store-{self.store:04d}"}
        with self.client.post(
            f"{cp.API_PREFIX}/devices/claim", json=claim, name="claim", catch_response=True
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"claim refused: {answer.status_code} {answer.text[:200]}")
                raise RuntimeError(f"claim refused ({answer.status_code})")
            doc = answer.json()
        self.device_id: str = doc["device_id"]
        self.secret: str = doc["secret"]
        self.sequence = itertools.count()

    def _headers(self, body: bytes, key: str) -> dict[str, str]:
        headers = cp.signed_headers(
            self.device_id, self.secret, "POST", _TRANSACTIONS, int(time.time()), body, key, secrets.token_hex(8)
        )
        headers["content-type"] = "application/json"
        return headers

    @task
    def upload(self) -> None:
        work = items()
        seq = next(self.sequence)
        pass_no, index = divmod(seq, len(work))
        item = work[index]
        copies = max(i.copy for i in work) + 1
        key = cp.idempotency_key(self.device_id, item.digest, pass_no * copies + item.copy)
        for attempt in range(1, self.attempts + 1):
            name = _TRANSACTIONS if attempt == 1 else f"{_TRANSACTIONS} [retry]"
            with self.client.post(
                _TRANSACTIONS,
                data=cast(Any, item.body),
                headers=self._headers(item.body, key),
                name=name,
                catch_response=True,
            ) as answer:
                status = answer.status_code
                if status in (200, 201):
                    doc: dict[str, Any] = json.loads(answer.content or b"{}")
                    if "transaction_id" in doc:
                        answer.success()
                        return
                    answer.failure("answer without a transaction id")
                    return
                retry = status == 0 or status >= 500 or status == 429  # 0: the connection died unanswered
                answer.failure(f"{status} {(answer.text or '')[:120]}")
                if not retry:
                    return
            time.sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + secrets.randbelow(500) / 1000))
