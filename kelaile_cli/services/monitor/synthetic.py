"""A made-up but plausible fleet session, for demos, tests and the benchmark (deterministic per seed)."""

from __future__ import annotations

import random

from kelaile_cli.services.monitor.events import MonitorEvent

__all__ = ["synthetic_session"]

_PROFILES = ("meiwei-pos", "kedi-pos", "siweier-pos", None)
_RECEIPT = "{store}\nTable {table}\n------------------------------\nTea              x{n}    {amount}\nTOTAL                   {amount}\n"  # noqa: E501


def synthetic_session(
    boxes: int, seconds: float, rate: float, seed: int = 1, t0: float = 1_800_000_000.0
) -> list[MonitorEvent]:
    """``boxes`` boxes: a state snapshot each, then ``rate`` events a second for ``seconds`` (receipts,
    uploads, heartbeats, the odd missed answer and link drop), sorted by time."""
    rnd = random.Random(seed)
    serials = [f"KLB{i:06d}" for i in range(boxes)]
    events = []
    for i, serial in enumerate(serials):
        events.append(MonitorEvent("link", serial, t0, {"up": True, "reason": "connected", "via": f"sim-{i}"}))
        events.append(MonitorEvent("state", serial, t0, {
            "store": f"S-{i // 4:04d}", "fw": "1.4.2", "queue": rnd.randint(0, 3),
            "links": {"printer": {"endpoint": "tcp://printer:9100", "health": "ok"}},
            "counters": {"receipts": 0, "recognised": 0},
        }))  # fmt: skip
    for n in range(int(seconds * rate)):
        t = round(t0 + 1 + n / rate, 3)  # recordings keep milliseconds
        serial = rnd.choice(serials)
        roll = rnd.random()
        if roll < 0.6:
            profile = rnd.choice(_PROFILES)
            amount = f"{rnd.randint(5, 300)}.00"
            text = _RECEIPT.format(store=serial, table=rnd.randint(1, 40), n=rnd.randint(1, 4), amount=amount)
            events.append(MonitorEvent("receipt", serial, t, {
                "text": text, "profile": profile, "recognised": profile is not None, "kind": "final",
                "uploaded": profile is not None, "answered": profile is not None, "answer_printed": profile is not None,
            }))  # fmt: skip
        elif roll < 0.85:
            events.append(MonitorEvent("heartbeat", serial, t, {}))
        elif roll < 0.95:
            events.append(
                MonitorEvent("upload", serial, t, {"transaction_id": f"tx-{n}", "kind": "final", "answer": True})
            )
        elif roll < 0.99:
            events.append(MonitorEvent("missed", serial, t, {}))
        else:
            events.append(MonitorEvent("link", serial, t, {"up": False, "reason": "USB unplugged"}))
    return events
