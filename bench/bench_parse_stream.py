"""End to end through the CLI: ``klx parse --json`` on one big raw stream, timed, with peak RSS.

    python bench/bench_parse_stream.py [--mb 96] [--klx PATH-TO-klx] [--keep FILE]

Builds a stream of the benchmark corpus's receipts (all four languages, text and mixed) repeated to
--mb megabytes, runs the given ``klx`` (by default the one on PATH: run it from the venv of the
installed, mypyc-compiled build) as a child process, and reports its wall time, CPU time (user +
system, one core), throughput, and peak resident memory (``ru_maxrss`` of the child). The JSON Lines
output goes to /dev/null but every receipt is counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench.bench_decode import cpu_model
from bench.corpus import build_corpus


def build_stream(path: Path, mb: int) -> int:
    """Write ``mb`` megabytes of corpus receipts to ``path``; returns the number of receipts."""
    corpus = [d for _, d in build_corpus(400)] + [d for _, d in build_corpus(400, seed=1, text_only=True)]
    block = b"".join(corpus)
    count = 0
    with path.open("wb") as fh:
        written = 0
        while written < mb * 1_000_000:
            fh.write(block)
            written += len(block)
            count += len(corpus)
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=96)
    ap.add_argument("--klx", default=shutil.which("klx") or "klx")
    ap.add_argument("--keep", type=Path, help="reuse / keep the generated stream here")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="klx-bench-"))
    path = args.keep or tmp / f"stream-{args.mb}mb.bin"
    expected = build_stream(path, args.mb) if not path.exists() else None
    size = path.stat().st_size
    start = time.perf_counter()
    child = subprocess.Popen([args.klx, "parse", "--json", str(path)], stdout=subprocess.PIPE)
    receipts = 0
    assert child.stdout is not None
    for _ in child.stdout:
        receipts += 1
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    if expected is not None and receipts != expected:
        print(f"warning: {receipts} receipts parsed, {expected} written", file=sys.stderr)
    print(
        f"{time.strftime('%Y-%m-%d')}  {cpu_model()}  Python {platform.python_version()}  {args.klx}\n"
        f"klx parse --json  {size / 1e6:.1f} MB  {receipts} receipts  exit {os.waitstatus_to_exitcode(status)}\n"
        f"wall {wall:.2f} s ({size / wall / 1e6:.1f} MB/s)  cpu {cpu:.2f} s ({size / cpu / 1e6:.1f} MB/s)  "
        f"peak RSS {usage.ru_maxrss / 1024:.0f} MB"
    )
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
