"""Small recording trees (copied from recordings/) and a real sandbox cloud for replay tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kelaile_cli.services.cloud.client import RetryPolicy
from kelaile_cli.services.replay import Plan, ReplayOptions

ROOT = Path(__file__).resolve().parents[3]
RECORDINGS = ROOT / "recordings"
FAST_RETRY = RetryPolicy(attempts=30, base_s=0.001, cap_s=0.01)


def copy_recording(src: str, dest: Path) -> Path:
    """Copy ``recordings/<src>.klr`` and its ``.expected.json`` into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    klr = RECORDINGS / f"{src}.klr"
    shutil.copy(klr, dest / klr.name)
    label = klr.with_name(klr.name.removesuffix(".klr") + ".expected.json")
    if label.exists():
        shutil.copy(label, dest / label.name)
    return dest / klr.name


@pytest.fixture
def tree(tmp_path) -> Path:
    """Two labelled recordings (3 receipts: a pre-bill, a sale, a café sale) in one directory."""
    root = tmp_path / "recs"
    copy_recording("meiwei-pos/meiwei-pos-01", root)
    copy_recording("chenguang-cafe/chenguang-cafe-01", root)
    return root


def options(url: str, **plan: object) -> ReplayOptions:
    concurrency = int(plan.pop("concurrency", 32))  # type: ignore[call-overload]
    return ReplayOptions(url, Plan(**plan), concurrency=concurrency, retry=FAST_RETRY, timeout_s=5.0)  # type: ignore[arg-type]
