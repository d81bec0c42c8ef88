"""A printer's real-time status (``DLE EOT n``) and model (``GS I``), asked and read — pure.

``STATUS_QUERY`` is what the box sends to the printer; ``PrinterHealth.from_answers`` reads the four
one-byte answers (Epson's documented bits, which most ESC/POS printers follow)::

    n=1 printer:     bit 3  offline
    n=2 offline:     bit 2  cover open     bit 5  stopped by paper end     bit 6  error
    n=3 error:       bit 3  cutter error   bit 5  unrecoverable            bit 6  auto-recoverable
    n=4 paper roll:  bits 2,3  near end    bits 5,6  paper end

Every status byte has bits 1 and 4 set and bits 0 and 7 clear.
``GS I 67`` answers ``_`` + the model name + NUL where the printer supports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MODEL_QUERY", "STATUS_QUERY", "PrinterHealth", "parse_model", "status_answer", "usb_port_status"]

STATUS_QUERY = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
MODEL_QUERY = b"\x1dI\x43"  # GS I 67: the model name


@dataclass(frozen=True, slots=True)
class PrinterHealth:
    """What the box knows of its printer; ``online`` False also when it did not answer at all."""

    online: bool
    paper: str = "ok"  # ok | near_end | end
    cover: str = "closed"  # closed | open
    error: str | None = None  # cutter | unrecoverable | recoverable
    model: str | None = None

    @classmethod
    def from_answers(cls, answers: bytes, model: str | None = None) -> PrinterHealth:
        """The health from the four status bytes (in query order); fewer than four: offline."""
        if len(answers) < 4:
            return cls(online=False, model=model)
        s1, s2, s3, s4 = answers[:4]
        paper = "end" if s4 & 0x60 or s2 & 0x20 else "near_end" if s4 & 0x0C else "ok"
        cover = "open" if s2 & 0x04 else "closed"
        error = "cutter" if s3 & 0x08 else "unrecoverable" if s3 & 0x20 else "recoverable" if s3 & 0x40 else None
        return cls(online=not s1 & 0x08, paper=paper, cover=cover, error=error, model=model)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: the USB printer class's port status bits (GET_PORT_STATUS, as IEEE 1284's status lines)
PORT_NOT_ERROR, PORT_SELECTED, PORT_PAPER_EMPTY = 0x08, 0x10, 0x20


def usb_port_status(health: PrinterHealth) -> int:
    """The port status a USB printer with this health reports to the PC (its driver shows it: "out of
    paper", "offline", "error"): online and well -> selected, no error; out of paper -> paper empty, error;
    cover open or a printer error -> error; offline -> not selected, error."""
    if not health.online:
        return 0
    status = PORT_SELECTED
    if health.paper == "end":
        status |= PORT_PAPER_EMPTY
    elif health.cover != "open" and health.error is None:
        status |= PORT_NOT_ERROR
    return status


def parse_model(answer: bytes) -> str | None:
    """The model name in a ``GS I 67`` answer (``_`` name NUL), or None."""
    start = answer.find(b"_")
    end = answer.find(b"\x00", start + 1)
    if start < 0 or end < 0:
        return None
    return answer[start + 1 : end].decode("ascii", "replace").strip() or None


def status_answer(n: int, *, offline: bool = False, cover_open: bool = False, paper: str = "ok") -> int:
    """The byte a printer in this state answers to ``DLE EOT n`` (what a printer emulator sends)."""
    base = 0x12
    if n == 1:
        return base | (0x08 if offline else 0)
    if n == 2:
        return base | (0x04 if cover_open else 0) | (0x20 if paper == "end" else 0) | (0x08 if offline else 0)
    if n == 3:
        return base
    return base | (0x60 if paper == "end" else 0x0C if paper == "near_end" else 0)
