"""The box's configuration keys: their types, which are secret, which apply only at the next boot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CONFIG_KEYS", "DEFAULT_CONFIG", "ConfigKey", "check_config", "public_config"]


@dataclass(frozen=True, slots=True)
class ConfigKey:
    type: type
    help: str
    secret: bool = False  # never read back, only "<set>" or None
    restart: bool = False  # takes effect at the next boot
    low: int = 1  # the range of an int key
    high: int = 10_000_000


CONFIG_KEYS: dict[str, ConfigKey] = {
    "store": ConfigKey(str, "the store (shop) id this box reports for"),
    "device_id": ConfigKey(str, "device id in cloud signatures (default: the serial number)"),
    "cloud_url": ConfigKey(str, "base URL of the Kelaile cloud"),
    "device_secret": ConfigKey(str, "the device's signing secret (write-only)", secret=True),
    "claim_code": ConfigKey(str, "a claim code: the box claims itself for the code's store (write-only)", secret=True),
    "pos": ConfigKey(
        str, "POS side: listen://HOST:PORT, a serial port, a USB printer gadget (/dev/g_printerN), or pty", restart=True
    ),
    "pos_baud": ConfigKey(int, "POS-side serial speed", restart=True),
    "printer": ConfigKey(
        str, "printer side: tcp://HOST:PORT, a serial port, usb://VID:PID, /dev/usb/lpN, a file, or empty", restart=True
    ),
    "printer_baud": ConfigKey(int, "printer-side serial speed", restart=True),
    "printer_flow": ConfigKey(str, "serial printer flow control: none, xonxoff or rtscts", restart=True),
    "backup_printer": ConfigKey(
        str, "online orders print here while the printer is offline (like 'printer'; empty: none)"
    ),
    "backup_printer_baud": ConfigKey(int, "backup printer serial speed"),
    "profile": ConfigKey(str, "active profile id; empty for automatic detection"),
    "order_copies": ConfigKey(
        str, "online orders: which copies to print, 'customer', 'kitchen' or both, comma-separated"
    ),
    "cut_wait_ms": ConfigKey(
        int, "longest a receipt's cut waits for the cloud's answer, ms (0: never wait)", low=0, high=30_000
    ),
    "printer_watch_s": ConfigKey(int, "ask the printer its status every this many seconds (0: only on demand)"),
}

DEFAULT_CONFIG: dict[str, Any] = {
    "store": "",
    "device_id": "",
    "cloud_url": "",
    "device_secret": None,
    "claim_code": None,
    "pos": "",
    "pos_baud": 9600,
    "printer": "",
    "printer_baud": 9600,
    "printer_flow": "none",
    "backup_printer": "",
    "backup_printer_baud": 9600,
    "profile": "",
    "cut_wait_ms": 1500,
    "order_copies": "customer",
    "printer_watch_s": 0,
}


def check_config(values: dict[str, Any]) -> str | None:
    """Why ``values`` cannot be set (unknown key, wrong type, bad value), or None when they can."""
    for key, value in values.items():
        spec = CONFIG_KEYS.get(key)
        if spec is None:
            return f"unknown config key '{key}' (known: {', '.join(CONFIG_KEYS)})"
        if spec.secret and value is None:
            continue  # clearing a secret
        if not isinstance(value, spec.type) or isinstance(value, bool):
            return f"config '{key}' must be {spec.type.__name__}, not {type(value).__name__}"
        if isinstance(value, int) and not spec.low <= value <= spec.high:
            return f"config '{key}' = {value} is out of range ({spec.low}-{spec.high})"
        if key == "order_copies" and isinstance(value, str) and not {c.strip() for c in value.split(",")} <= {
            "customer", "kitchen"}:  # fmt: skip
            return f"config 'order_copies' = {value!r}: expected customer, kitchen or customer,kitchen"
        if key == "cloud_url" and isinstance(value, str) and value and (why := _url_problem(value)):
            return f"config 'cloud_url' = {value!r}: {why}"
    return None


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not a cloud base URL (http(s)://HOST[:PORT][/PATH]), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "expected http:// or https://"
    if not parts.hostname:
        return "no host"
    if port == 0 or parts.query or parts.fragment or any(c.isspace() for c in url):
        return "expected http(s)://HOST[:PORT][/PATH]"
    return None


def public_config(config: dict[str, Any], keys: list[str] | None = None) -> dict[str, Any]:
    """The config as the box reports it: secrets masked, optionally only ``keys``."""
    out = {}
    for key, spec in CONFIG_KEYS.items():
        if keys and key not in keys:
            continue
        value = config.get(key, DEFAULT_CONFIG[key])
        out[key] = ("<set>" if value else None) if spec.secret else value
    return out
