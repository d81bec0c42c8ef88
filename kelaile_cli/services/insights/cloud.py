"""Insight documents from a running cloud's admin reads (``GET /v1/devices``, ``GET /v1/transactions``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from kelaile_cli.core.errors import InputError, JobError

__all__ = ["cloud_documents"]

PAGE = 1000  # the most one GET /v1/transactions returns
MAX_PAGES = 1_000_000  # a bound on the paging loop (10⁹ transactions)


def _get(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        resp = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise JobError(f"{url}: cannot reach the cloud ({exc})", remedy="is `klx cloud serve` running?") from None
    if resp.status_code != 200:
        raise JobError(f"{url}: the cloud answered {resp.status_code}", remedy="admin reads answer loopback only")
    body: dict[str, Any] = resp.json()
    return body


def cloud_documents(base_url: str, timeout_s: float = 30.0) -> Iterator[dict[str, Any]]:
    """Every stored transaction, page by page, with its device's store."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(f"--cloud {base_url}: expected an http:// or https:// URL, e.g. http://127.0.0.1:8787")
    base = base_url.rstrip("/")
    with httpx.Client(timeout=timeout_s) as client:
        stores = {d["device_id"]: d.get("store") for d in _get(client, f"{base}/v1/devices")["devices"]}
        after = 0
        for _ in range(MAX_PAGES):
            page = _get(client, f"{base}/v1/transactions", {"after": after, "limit": PAGE})
            for row in page["transactions"]:
                tx = row["body"].get("transaction") or {}
                store = stores.get(row["device_id"]) or tx.get("store") or row["device_id"]
                yield {"seq": row["seq"], "store": store, "device": row["device_id"], "at": row["created_at"],
                       "body": row["body"]}  # fmt: skip
            if len(page["transactions"]) < PAGE:
                return
            after = page["next_after"]
