"""Process-wide settings the ``klx`` command applies at start (and the benchmarks, to measure klx as it runs)."""

from __future__ import annotations

import gc
import os

__all__ = ["GC_THRESHOLDS", "quiet_pydantic_plugins", "tune_gc"]

#: Decoding makes many small, short-lived, acyclic objects (events, spans, lines). CPython's default
#: young-generation threshold (700) runs the cycle collector every few hundred of them; at 50,000 it
#: runs ~70× less often for a few MB more peak memory (decode + segment + render +20–25 %). At 200,000
#: the collections left cost 3 % fewer instructions for `klx parse --json` of a CJK stream, and peak
#: RSS on the 96 MB stream is unchanged (48 MB; docs/performance.md).
GC_THRESHOLDS = (200_000, 20, 20)


def tune_gc() -> None:
    """Collect young objects less often (see ``GC_THRESHOLDS``)."""
    gc.set_threshold(*GC_THRESHOLDS)


def quiet_pydantic_plugins() -> None:
    """klx uses no pydantic plugins; looking for them scans every installed distribution's entry points
    (``importlib.metadata``, ~20-30 ms of each start). Typer does the same while it builds its parameters.
    A user who sets ``PYDANTIC_DISABLE_PLUGINS`` themselves keeps their value."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
