"""The sources ``klx monitor``'s options ask for, checked before the screen starts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kelaile_cli.services.monitor.sources import BoxSource, CloudSource, ReplaySource

__all__ = ["build_sources"]


def build_sources(
    ports: Sequence[str], serials: Sequence[str], cloud: str | None, replay: Path | None, *, speed: float = 1.0,
    loop: bool = False,
) -> list[BoxSource | CloudSource | ReplaySource]:  # fmt: skip
    """Box sources share one profile detector (loaded once); a bad ``--replay`` file or URL fails here."""
    out: list[BoxSource | CloudSource | ReplaySource] = []
    if replay is not None:
        out.append(ReplaySource(replay, speed=speed, loop=loop))
    if cloud is not None:
        out.append(CloudSource(cloud))
    if ports or serials:
        from kelaile_cli.core.profiles.detect import Detector
        from kelaile_cli.services.profiles.library import load_profiles

        detector = Detector(load_profiles().profiles)
        out += [BoxSource(p, detector=detector) for p in ports]
        out += [BoxSource(s, by_serial=True, detector=detector) for s in serials]
    return out
