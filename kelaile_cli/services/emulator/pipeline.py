"""The emulated box's printer side: a file as the printer, and per-connection decoding of the print stream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.core.stream.printstream import DecodeOptions, PrintStream
from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["FileSink", "ReceiptPipeline"]


class FileSink:
    """The printer side as a file: every byte for the printer appended, in order."""

    def __init__(self, path: Path) -> None:
        try:
            self.file = open(path, "ab")  # noqa: SIM115  (closed by close())
        except OSError as exc:
            raise InputError(f"--printer {path}: cannot write ({exc.strerror or exc})") from None

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction == TO_PRINTER:
            self.file.write(chunk.data)
            self.file.flush()

    def close(self) -> None:
        self.file.close()


class ReceiptPipeline:
    """Decodes the print stream of each POS connection; hands every finished receipt out with its raw bytes."""

    def __init__(self, on_receipt: Callable[[Receipt, bytes], None]) -> None:
        self.on_receipt = on_receipt
        self._streams: dict[int, tuple[PrintStream, bytearray]] = {}

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction != TO_PRINTER:
            return
        stream, raw = self._streams.setdefault(chunk.conn, (PrintStream(DecodeOptions()), bytearray()))
        raw += chunk.data
        self._handle(stream.feed(chunk.data, chunk.t), raw, chunk.conn)

    def end_connection(self, conn: int) -> None:
        entry = self._streams.pop(conn, None)
        if entry is not None:
            self._handle(entry[0].close(), entry[1], conn)

    def close(self) -> None:
        for conn in list(self._streams):
            self.end_connection(conn)

    def _handle(self, receipts: list[Receipt], raw: bytearray, conn: int) -> None:
        for receipt in receipts:
            receipt.connection = conn
            self.on_receipt(receipt, bytes(raw[receipt.start : receipt.end]))
