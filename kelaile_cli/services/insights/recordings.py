"""Recordings as insight documents: the replay workload (decode → detect → extract → upload body),
without the upload. Receipts of an unknown POS are left out, as the box leaves them out."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.services.replay.workload import load_workload

__all__ = ["upload_documents"]


def upload_documents(paths: Sequence[str | Path], store: str) -> Iterator[dict[str, Any]]:
    """One ``{"seq", "store", "device", "at", "body"}`` document per receipt of a known POS."""
    work = load_workload([Path(p) for p in paths], Detector(load_profiles().profiles))
    if not work.items:
        detail = "; ".join(f"{p.source}: {p.message}" for p in work.problems[:3]) or "no receipts of a known POS"
        raise InputError(f"no transactions in the recordings ({detail})", remedy="give labelled .klr files or dirs")
    for seq, item in enumerate(work.items, 1):
        yield {"seq": seq, "store": store, "device": "recordings", "at": None, "body": json.loads(item.body)}
