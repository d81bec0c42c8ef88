"""An emulated USB printer for pyusb: a stand-in because no USB hardware exists where klx is tested.

``EmulatedPrinterBackend`` implements pyusb's backend interface (``usb.backend.IBackend``) for one
printer-class device (interface class 7, bulk OUT 0x01, bulk IN 0x82). What the host writes to
bulk OUT is collected in ``received``; ``status`` bytes queued with ``reply()`` come back on bulk
IN; the device answers ``DLE EOT n`` like a ready printer. The real code path — ``usb.core.find``,
configuration, endpoint look-up, ``write``/``read`` — is exercised unchanged; only the bottom
layer that would talk to libusb is replaced.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

__all__ = ["EmulatedPrinterBackend"]

EP_OUT, EP_IN = 0x01, 0x82
BULK = 0x02


@dataclass
class _Device:
    vid: int
    pid: int
    serial: str
    received: bytearray = field(default_factory=bytearray)
    pending_in: bytearray = field(default_factory=bytearray)


class EmulatedPrinterBackend(usb.backend.IBackend):
    """One emulated USB receipt printer."""

    def __init__(self, vid: int = 0x04B8, pid: int = 0x0202, serial: str = "EMU0001") -> None:
        self.device = _Device(vid, pid, serial)
        self.lock = threading.Lock()
        self.configured = 0

    # -- what tests look at -------------------------------------------------------------------
    @property
    def received(self) -> bytes:
        with self.lock:
            return bytes(self.device.received)

    def reply(self, data: bytes) -> None:
        with self.lock:
            self.device.pending_in += data

    # -- descriptors --------------------------------------------------------------------------
    def enumerate_devices(self) -> list[str]:
        return ["emulated-printer"]

    def get_parent(self, dev: Any) -> None:
        return None

    def get_device_descriptor(self, dev: Any) -> SimpleNamespace:
        d = self.device
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0, bDeviceProtocol=0,
            bMaxPacketSize0=64, idVendor=d.vid, idProduct=d.pid, bcdDevice=0x0100, iManufacturer=0, iProduct=0,
            iSerialNumber=0, bNumConfigurations=1, address=5, bus=1, port_number=2, port_numbers=(2,), speed=3,
        )  # fmt: skip

    def get_configuration_descriptor(self, dev: Any, config: int) -> SimpleNamespace:
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1, bConfigurationValue=1,
            iConfiguration=0, bmAttributes=0xC0, bMaxPower=50, extra_descriptors=[],
        )  # fmt: skip

    def get_interface_descriptor(self, dev: Any, intf: int, alt: int, config: int) -> SimpleNamespace:
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0, bNumEndpoints=2,
            bInterfaceClass=7, bInterfaceSubClass=1, bInterfaceProtocol=2, iInterface=0, extra_descriptors=[],
        )  # fmt: skip

    def get_endpoint_descriptor(self, dev: Any, ep: int, intf: int, alt: int, config: int) -> SimpleNamespace:
        address = (EP_OUT, EP_IN)[ep]
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=address, bmAttributes=BULK, wMaxPacketSize=64,
            bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[],
        )  # fmt: skip

    # -- device handling ----------------------------------------------------------------------
    def open_device(self, dev: Any) -> str:
        return "handle"

    def close_device(self, dev_handle: Any) -> None:
        return None

    def set_configuration(self, dev_handle: Any, config_value: int) -> None:
        self.configured = config_value

    def get_configuration(self, dev_handle: Any) -> int:
        return self.configured

    def set_interface_altsetting(self, dev_handle: Any, intf: int, altsetting: int) -> None:
        return None

    def claim_interface(self, dev_handle: Any, intf: int) -> None:
        return None

    def release_interface(self, dev_handle: Any, intf: int) -> None:
        return None

    def is_kernel_driver_active(self, dev_handle: Any, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: Any, intf: int) -> None:
        return None

    def attach_kernel_driver(self, dev_handle: Any, intf: int) -> None:
        return None

    def clear_halt(self, dev_handle: Any, ep: int) -> None:
        return None

    def reset_device(self, dev_handle: Any) -> None:
        return None

    def ctrl_transfer(self, dev_handle: Any, bmRequestType: int, bRequest: int, wValue: int, wIndex: int,  # noqa: N803
                      data: Any, timeout: int) -> int:  # fmt: skip
        return 0

    # -- transfers ----------------------------------------------------------------------------
    def bulk_write(self, dev_handle: Any, ep: int, intf: int, data: Any, timeout: int) -> int:
        if ep != EP_OUT:
            raise usb.core.USBError("write to a non-OUT endpoint")
        raw = bytes(data)
        with self.lock:
            self.device.received += raw
            tail = bytes(self.device.received[-(len(raw) + 2) :])
            for i in range(len(tail) - 2):
                if tail[i : i + 2] == b"\x10\x04" and 1 <= tail[i + 2] <= 4:
                    self.device.pending_in += b"\x16" if tail[i + 2] == 1 else b"\x12"
        return len(raw)

    def bulk_read(self, dev_handle: Any, ep: int, intf: int, buff: Any, timeout: int) -> int:
        if ep != EP_IN:
            raise usb.core.USBError("read from a non-IN endpoint")
        with self.lock:
            n = min(len(buff), len(self.device.pending_in))
            if n == 0:
                raise usb.core.USBTimeoutError("timeout", errno=110)
            for i in range(n):  # pyusb hands us an array.array('B')
                buff[i] = self.device.pending_in[i]
            del self.device.pending_in[:n]
        return n
