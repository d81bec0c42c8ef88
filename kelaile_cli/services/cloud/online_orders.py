"""Online orders from the admin side: create them as a delivery platform would (one, or a stream at a rate),
and list them with their print status. The sandbox serves them (``sandbox/online_orders.py``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from kelaile_cli.core.errors import InputError, JobError

__all__ = ["create_orders", "list_orders", "parse_items"]

_ITEM = re.compile(r"^(?P<name>[^*@]+?)\s*(?:\*\s*(?P<qty>\d+))?\s*(?:@\s*(?P<price>\d+(?:\.\d{1,4})?))?$")


def parse_items(text: str) -> list[dict[str, Any]]:
    """``'宫保鸡丁*1@38,米饭*2@3'`` → items (quantity 1 and price 0 when left out); options after ``+``:
    ``'拉面*1@28+加蛋+少辣'``."""
    items = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        head, *options = (s.strip() for s in part.split("+"))
        m = _ITEM.match(head)
        if not m or not m.group("name").strip():
            raise InputError(f"--items {part!r}: expected NAME*QTY@PRICE", remedy="e.g. '宫保鸡丁*1@38,米饭*2@3'")
        items.append({"name": m.group("name").strip(), "qty": int(m.group("qty") or 1),
                      "price": m.group("price") or "0", "options": [o for o in options if o]})  # fmt: skip
    if not items:
        raise InputError("--items: no item given", remedy="e.g. '宫保鸡丁*1@38,米饭*2@3'")
    return items


def _check(cloud: str) -> str:
    if not cloud.startswith(("http://", "https://")):
        raise InputError(f"--cloud {cloud}: expected an http:// or https:// URL, e.g. http://127.0.0.1:8787")
    return cloud.rstrip("/")


def _answer(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text[:200]
        raise JobError(f"{what}: the cloud answered {response.status_code}: {detail}", layer="cloud",
                       code=f"CLOUD_HTTP_{response.status_code}")  # fmt: skip
    return response.json()


def create_orders(
    cloud: str, order: dict[str, Any], *, count: int = 1, rate: float | None = None,
    on_created: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Create ``count`` orders like ``order`` (``rate`` per second when given), each with its own number."""
    base = _check(cloud)
    if rate is not None and rate <= 0:
        raise InputError(f"--rate {rate}: must be more than 0 orders/s")
    made: list[dict[str, Any]] = []
    began = time.monotonic()
    try:
        with httpx.Client(base_url=base, timeout=10.0) as http:
            for i in range(count):
                if rate is not None:
                    delay = began + i / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                doc = dict(order)
                if count > 1 and order.get("number"):
                    doc["number"] = f"{order['number']}-{i + 1}"
                created = _answer(http.post("/v1/sandbox/orders", json=doc), "creating the order")
                made.append(created)
                if on_created is not None:
                    on_created(created)
    except httpx.TransportError as exc:
        raise JobError(f"{base}: the cloud is unreachable ({type(exc).__name__})", layer="network",
                       code="CLOUD_CONNECT", remedy="start it with klx cloud serve") from None  # fmt: skip
    return made


def list_orders(cloud: str, store: str | None = None, status: str | None = None, limit: int = 100) -> dict[str, Any]:
    """Orders, newest first, with their print status, and counts per status."""
    base = _check(cloud)
    params = {k: v for k, v in (("store", store), ("status", status), ("limit", limit)) if v is not None}
    try:
        return _answer(httpx.get(base + "/v1/sandbox/orders", params=params, timeout=10.0), "listing orders")
    except httpx.TransportError as exc:
        raise JobError(f"{base}: the cloud is unreachable ({type(exc).__name__})", layer="network",
                       code="CLOUD_CONNECT", remedy="start it with klx cloud serve") from None  # fmt: skip
