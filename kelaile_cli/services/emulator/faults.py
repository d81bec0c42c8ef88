"""Faults the box emulator can inject: a damaged host link, a power cut at a chosen moment, slow flash,
an image that fails its first boot (see docs/box-protocol.md, "The emulator"), and the on-site switches
of docs/provisioning.md: ``printer-offline``, ``paper-out``, ``cover-open``, ``cloud-unreachable``,
``dns``, ``clock-skew:SECONDS`` and ``claim-refused``, one per error code ``klx provision`` knows."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass

from kelaile_cli.core.errors import InputError

__all__ = ["PHASES", "SWITCHES", "Faults", "PowerCut", "PowerLoss", "parse_fault", "parse_power_loss"]

PHASES = ("hello", "flash-begin", "flash-data", "flash-verify", "flash-activate", "reboot", "boot", "flash-confirm")


@dataclass(frozen=True, slots=True)
class PowerLoss:
    """Cut the power when ``phase`` happens for the ``n``-th time (``bytes``: after n host-link bytes)."""

    phase: str
    n: int = 1


@dataclass(slots=True)
class Faults:
    drop: float = 0.0  # probability that a host-link byte is lost (each direction)
    corrupt: float = 0.0  # probability that a host-link byte is altered
    power_loss: PowerLoss | None = None
    slow_flash: bool = False
    fail_first_boot: bool = False  # a newly activated image crashes on its trial boot
    seed: int | None = None
    # on-site switches (docs/provisioning.md): each stands for what goes wrong in a shop
    printer_offline: bool = False  # the printer does not answer (switched off, cable out)
    paper_out: bool = False  # the printer reports paper end
    cover_open: bool = False  # the printer reports its cover open
    cloud_unreachable: bool = False  # no TCP connection to the cloud (firewall, no uplink)
    dns: bool = False  # the cloud's host name does not resolve
    clock_skew: float | None = None  # the box's clock is this many seconds off and will not keep a set time
    claim_refused: bool = False  # the cloud refuses the box's claim


SWITCHES = ("printer-offline", "paper-out", "cover-open", "cloud-unreachable", "dns", "claim-refused")


def parse_fault(text: str, faults: Faults) -> None:
    """``drop:RATE`` or ``corrupt:RATE`` (RATE a probability per byte, 0..1), an on-site switch (``SWITCHES``)
    or ``clock-skew:SECONDS``."""
    kind, _, rate = text.partition(":")
    if kind in SWITCHES and not rate:
        setattr(faults, kind.replace("-", "_"), True)
        return
    if kind == "clock-skew":
        try:
            faults.clock_skew = float(rate)
        except ValueError:
            raise InputError(f"--fault {text}: expected clock-skew:SECONDS", remedy="e.g. clock-skew:-3600") from None
        return
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if kind not in ("drop", "corrupt") or not 0 <= value <= 1:
        raise InputError(
            f"--fault {text}: expected drop:RATE, corrupt:RATE (RATE in 0..1), clock-skew:SECONDS or one of "
            f"{', '.join(SWITCHES)}",
            remedy="e.g. drop:0.001 or printer-offline",
        )
    setattr(faults, kind, value)


def parse_power_loss(text: str) -> PowerLoss:
    """``PHASE[:N]`` (phases: see PHASES) or ``bytes:N``."""
    phase, _, count = text.partition(":")
    if phase not in (*PHASES, "bytes") or (count and not count.isdigit()) or (phase == "bytes" and not count):
        raise InputError(
            f"--power-loss-at {text}: expected PHASE[:N] or bytes:N", remedy=f"phases: {', '.join(PHASES)}"
        )
    return PowerLoss(phase, int(count) if count else 1)


class PowerCut:
    """Counts the phases the box goes through and cuts the power (``power_off``) at the one ``faults`` names."""

    def __init__(self, faults: Faults, power_off: Callable[[], None]) -> None:
        self.faults = faults
        self.power_off = power_off
        self._counts: collections.Counter[str] = collections.Counter()

    def phase(self, phase: str, amount: int = 1) -> None:
        """Count ``amount`` of ``phase``; cut the power if the fault says so."""
        loss = self.faults.power_loss
        if loss is None:
            return
        self._counts[phase] += amount
        if phase == loss.phase and self._counts[phase] >= loss.n:
            self.power_off()
