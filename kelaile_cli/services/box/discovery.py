"""What is plugged in: serial ports, USB printers, Kelaile boxes."""

from __future__ import annotations

from typing import Any

__all__ = ["KELAILE_IDS", "list_devices"]

#: USB ids of the Kelaile box. Placeholder until the hardware has its own: a pid.codes-style test id.
KELAILE_IDS = {(0x1209, 0x4B4C)}
USB_CLASS_PRINTER = 7


def _serial_ports() -> list[dict[str, Any]]:
    from serial.tools import list_ports

    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        is_box = port.vid is not None and (port.vid, port.pid) in KELAILE_IDS
        found.append(
            {
                "kind": "box" if is_box else "serial",
                "path": port.device,
                "vid": f"{port.vid:04x}" if port.vid is not None else None,
                "pid": f"{port.pid:04x}" if port.pid is not None else None,
                "serial_number": port.serial_number,
                "description": port.description if port.description != "n/a" else "",
            }
        )
    return found


def _usb_printers() -> list[dict[str, Any]]:
    try:
        import usb.core
    except ImportError:  # pragma: no cover - pyusb is a dependency
        return []
    try:
        devices = list(usb.core.find(find_all=True))
    except usb.core.NoBackendError:
        return []  # no libusb on this machine: nothing to list
    found = []
    for dev in devices:
        try:
            classes = {intf.bInterfaceClass for cfg in dev for intf in cfg}
        except (usb.core.USBError, ValueError):
            continue
        if USB_CLASS_PRINTER in classes:
            found.append(
                {
                    "kind": "usb",
                    "path": f"usb://{dev.idVendor:04x}:{dev.idProduct:04x}",
                    "vid": f"{dev.idVendor:04x}",
                    "pid": f"{dev.idProduct:04x}",
                    "serial_number": None,
                    "description": "USB printer class",
                }
            )
    return found


def _emulated_boxes() -> list[dict[str, Any]]:
    from kelaile_cli.services.box.registry import running_boxes

    return [{"kind": "box", "path": b["port"], "vid": None, "pid": None, "serial_number": b["serial"],
             "description": f"emulated box (klx box sim, pid {b['pid']})", "state": b.get("state"), "emulated": True}
            for b in running_boxes()]  # fmt: skip


def list_devices() -> list[dict[str, Any]]:
    """Serial ports (with USB ids and serial numbers), USB printer-class devices, Kelaile boxes (USB ones
    and the emulated ones running on this machine)."""
    return _serial_ports() + _usb_printers() + _emulated_boxes()
