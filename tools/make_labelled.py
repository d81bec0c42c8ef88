"""Write labelled recordings for profile tests: recordings/<profile>/<name>.klr + <name>.expected.json.

Each fictional POS (one module per style in ``tools/labelled/``) prints receipts with python-escpos
(an independent producer) from a data record, and the expected transaction is written from that same
record — never from klx's parser — so `klx profile test` compares klx against the truth. Receipts of
POS programs that have *no* profile go to ``recordings/unknown/`` (detection must call them unknown).
Labelled programs that are deliberately not bundled (``NEW_POS``: the test material of ``klx profile
new``) go to ``tests/fixtures/new-pos/`` (``--new-pos``), so they stay unknown to the bundled profiles.
Deterministic: fixed seeds and timestamps, so re-running reproduces every file byte for byte.

    python tools/make_labelled.py [OUT_DIR]
    python tools/make_labelled.py --new-pos [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.labelled import NEW_POS, POS, UNKNOWN  # noqa: E402
from tools.make_samples import write_recording  # noqa: E402

PER_PROFILE = 5
PER_UNKNOWN = 2


def write_profile(out: Path, profile_id: str) -> list[Path]:
    """The labelled recordings of one POS (bundled or ``NEW_POS``); returns the .klr paths."""
    make, count = POS[profile_id] if profile_id in POS else NEW_POS[profile_id]
    rng = random.Random(profile_id)
    folder = out / profile_id
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n in range(1, count + 1):
        with contextlib.redirect_stdout(io.StringIO()):  # python-escpos prints a note per barcode
            data, records = make(rng, n)
        name = f"{profile_id}-{n:02d}"
        write_recording(folder / f"{name}.klr", data, f"labelled:{profile_id}", jobs=1)
        (folder / f"{name}.expected.json").write_text(
            json.dumps({"receipts": records}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(folder / f"{name}.klr")
    return written


def write_unknown(out: Path) -> list[Path]:
    """Receipts of POS programs without a profile: ``unknown/<style>-<n>.klr``."""
    folder = out / "unknown"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for style, make in UNKNOWN.items():
        rng = random.Random(style)
        for n in range(1, PER_UNKNOWN + 1):
            with contextlib.redirect_stdout(io.StringIO()):
                data = make(rng, n)
            path = folder / f"{style}-{n:02d}.klr"
            write_recording(path, data, f"unknown:{style}", jobs=1)
            written.append(path)
    return written


def write_all(out: Path) -> list[Path]:
    written = []
    for profile_id in POS:
        written += write_profile(out, profile_id)
    return written + write_unknown(out)


def write_new_pos(out: Path) -> list[Path]:
    """The labelled recordings of the not-bundled programs: ``<out>/<id>/<id>-<n>.klr`` + expected."""
    return [path for profile_id in NEW_POS for path in write_profile(out, profile_id)]


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--new-pos"]:
        paths = write_new_pos(Path(args[1]) if len(args) > 1 else ROOT / "tests" / "fixtures" / "new-pos")
    else:
        paths = write_all(Path(args[0]) if args else ROOT / "recordings")
    for path in paths:
        print(path)
