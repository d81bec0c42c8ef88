"""USB printer-class devices through pyusb: bulk OUT for print data, bulk IN for status replies.

``UsbPrinter`` is a ``ByteLink`` (transports/link.py) like the serial, pty and socket links."""

from __future__ import annotations

from typing import Any

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.transports.link import DEFAULT_READ_TIMEOUT

__all__ = ["UsbPrinter"]

USB_CLASS_PRINTER = 7
READ_SIZE = 512  # bytes asked of the bulk IN endpoint per read


class UsbPrinter:
    """An opened USB printer. ``backend`` is a pyusb backend (None: pyusb's default, libusb)."""

    def __init__(self, vid: int, pid: int, *, backend: Any = None) -> None:
        import usb.core
        import usb.util

        self._usb = usb
        self.name = f"usb://{vid:04x}:{pid:04x}"
        try:
            dev = usb.core.find(idVendor=vid, idProduct=pid, backend=backend)
        except usb.core.NoBackendError:
            raise InputError(
                "USB: no libusb on this machine", remedy="install libusb-1.0 (Debian: libusb-1.0-0)"
            ) from None
        if dev is None:
            raise InputError(f"usb://{vid:04x}:{pid:04x}: no such device", remedy="see `klx devices`")
        self.dev = dev
        try:
            if dev.is_kernel_driver_active(0):
                dev.detach_kernel_driver(0)
        except (NotImplementedError, usb.core.USBError):
            pass
        try:
            dev.set_configuration()
            cfg = dev.get_active_configuration()
        except usb.core.USBError as exc:
            raise JobError(f"usb://{vid:04x}:{pid:04x}: cannot configure ({exc})") from None
        intf = next((i for i in cfg if i.bInterfaceClass == USB_CLASS_PRINTER), None)
        if intf is None:
            raise InputError(f"usb://{vid:04x}:{pid:04x}: not a printer (no interface of class 7)")

        def direction(ep: Any) -> int:
            return usb.util.endpoint_direction(ep.bEndpointAddress)

        self.ep_out = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e) == usb.util.ENDPOINT_OUT)
        self.ep_in = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e) == usb.util.ENDPOINT_IN)
        if self.ep_out is None:
            raise InputError(f"usb://{vid:04x}:{pid:04x}: the printer interface has no bulk OUT endpoint")

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self.ep_out.write(view)
            view = view[n:]

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes:
        """Status bytes from the printer, or b"" if it said nothing within ``timeout`` seconds."""
        if self.ep_in is None:
            return b""
        try:
            return bytes(self.ep_in.read(READ_SIZE, timeout=max(1, round(timeout * 1000))))
        except self._usb.core.USBTimeoutError:
            return b""
        except self._usb.core.USBError as exc:
            if getattr(exc, "errno", None) == 110:
                return b""
            raise

    def close(self) -> None:
        self._usb.util.dispose_resources(self.dev)
